//! `nslab-check`: the checker the justfile calls.
//!
//! ```text
//! nslab-check check N [--solution]   grade lesson N (just lesson N / just solution N)
//! nslab-check self-test [N...]       every check fails on its stub and passes on its solution
//! nslab-check doctor                 is this machine ready? (just doctor)
//! nslab-check unprivileged           run `cargo test`'s executables as nobody
//! nslab-check rootfs [--from-host]   build (or find) the container's rootfs; prints its path last
//! ```

use std::process::{Command, ExitCode};

use nslab_checker::course::{Course, Lesson, repo_root};
use nslab_checker::harness::{Checks, Outcome, Target};
use nslab_checker::report::{Style, check_result};
use nslab_checker::{doctor, rootfs, unprivileged};

const USAGE: &str = "usage: nslab-check check N [--solution] | self-test [N...] | doctor | unprivileged | rootfs [--from-host]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["check", number] => lesson_number(number).and_then(|n| check(n, "lesson")),
        ["check", number, "--solution"] => lesson_number(number).and_then(|n| check(n, "solution")),
        ["self-test", numbers @ ..] => self_test(numbers),
        ["doctor"] => {
            let findings = doctor::diagnose(&doctor::gather());
            print!("{}", doctor::render(&findings, &Style::detect()));
            Ok(findings.iter().all(|f| f.ok))
        }
        ["rootfs"] => build_rootfs(rootfs::Source::best_available()),
        ["rootfs", "--from-host"] => build_rootfs(rootfs::Source::HostBinaries),
        ["unprivileged"] => require_root().and_then(|()| unprivileged::run(&repo_root())),
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("nslab-check: {message}");
            ExitCode::from(2)
        }
    }
}

/// `just rootfs`: the path is the last line, for `$(just rootfs | tail -1)`.
fn build_rootfs(source: rootfs::Source) -> Result<bool, String> {
    let cache = repo_root().join("target/nslab/rootfs");
    let from = match source {
        rootfs::Source::Busybox => format!("{} (busybox-static)", rootfs::BUSYBOX),
        rootfs::Source::HostBinaries => "the host's binaries and their libraries".to_string(),
    };
    let path = rootfs::ensure(&cache, source)?;
    println!("rootfs from {from}:");
    println!("{}", path.display());
    Ok(true)
}

fn lesson_number(text: &str) -> Result<u8, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not a lesson number; try `just lesson 0`"))
}

fn require_root() -> Result<(), String> {
    if nix::unistd::geteuid().is_root() {
        Ok(())
    } else {
        Err(
            "the checks create namespaces, which needs root: run this as root in your \
             course VM (`sudo -i`, then the same command)"
                .into(),
        )
    }
}

/// The test name of a lesson's check.
fn test_name(lesson: &Lesson, check: &str) -> String {
    format!("{}::{check}", lesson.test_module())
}

/// `just lesson N`: the lesson's own checks, then the earlier lessons'
/// checks, all against the same binary.
fn check(number: u8, flavour: &'static str) -> Result<bool, String> {
    let root = repo_root();
    let course = Course::load(&root)?;
    let lesson = course.lesson(number)?;
    require_root()?;
    let style = Style::detect();
    let target = Target {
        flavour,
        level: number,
    };
    let whose = if flavour == "lesson" {
        format!("your {}", lesson.exercise().display())
    } else {
        format!("the reference {}", lesson.solution().display())
    };
    println!(
        "{}\nChecking {}: {whose}, on top of the solutions before it.\n",
        style.bold(&format!(
            "Lesson {:02} ({}): {}",
            lesson.number, lesson.name, lesson.title
        )),
        target.binary(),
    );
    let checks = Checks::build(&root)?;

    let mut own_passed = 0;
    let mut todos = Vec::new();
    for check in &lesson.checks {
        let outcome = checks.run(&test_name(lesson, &check.name), target);
        println!("{}", check_result(&style, lesson, check, &outcome, true));
        own_passed += usize::from(outcome.passed);
        todos.extend(todo_reached(&outcome.explanation));
    }
    let own_total = lesson.checks.len();

    let earlier = &course.lessons[..usize::from(number)];
    let mut earlier_total = 0;
    let mut earlier_passed = 0;
    if !earlier.is_empty() {
        println!(
            "\nEarlier lessons, which {} must still pass:",
            target.binary()
        );
        // Until the lesson's own checks pass, earlier checks usually fail
        // for the same reason; their details would only repeat it.
        let details = own_passed == own_total;
        if !details {
            println!("  (they run your lesson {number:02} code too: fix the checks above first)");
        }
        for earlier_lesson in earlier {
            for check in &earlier_lesson.checks {
                let outcome = checks.run(&test_name(earlier_lesson, &check.name), target);
                println!(
                    "{}",
                    check_result(&style, earlier_lesson, check, &outcome, details)
                );
                earlier_total += 1;
                earlier_passed += usize::from(outcome.passed);
            }
        }
    }

    println!(
        "\n{own_passed} of {own_total} lesson {:02} checks pass{}.",
        lesson.number,
        if earlier_total > 0 {
            format!("; {earlier_passed} of {earlier_total} earlier checks pass")
        } else {
            String::new()
        }
    );
    let all_passed = own_passed == own_total && earlier_passed == earlier_total;
    if all_passed {
        let next = match course.lesson(number + 1) {
            Ok(_) => format!("Next: `just lesson {}`.", number + 1),
            Err(_) => "That was the last lesson: you have built a container runtime.".into(),
        };
        let run = if flavour == "solution" {
            "run-solution"
        } else {
            "run"
        };
        println!("Lesson {number:02} is done. Try it: `just {run} {number} -- sh`. {next}");
    } else if flavour == "lesson" {
        todos.sort();
        todos.dedup();
        for todo in &todos {
            println!("Your code stops at the todo!() {todo}: start there.");
        }
        println!(
            "Next: read the hint and the section above, edit {}, and run `just lesson {number}` again.",
            lesson.exercise().display()
        );
    }
    Ok(all_passed)
}

/// Where a failed run stopped at a `todo!()`, e.g.
/// `at lessons/01-uts/src/lib.rs:25:9`, from the runtime's one-line report.
fn todo_reached(explanation: &str) -> Option<String> {
    let after = explanation.split("reached a todo!(): ").nth(1)?;
    let place = after.split(" at ").nth(1)?;
    let place = place.split([' ', '"']).next()?;
    Some(format!("at {place}"))
}

/// Every check must fail on the untouched stub and pass on the solution;
/// every check must have an entry in info.toml and the other way round.
fn self_test(numbers: &[&str]) -> Result<bool, String> {
    let root = repo_root();
    let course = Course::load(&root)?;
    require_root()?;
    refuse_edited_stubs(&root)?;
    let checks = Checks::build(&root)?;
    let style = Style::detect();
    let mut problems = course_problems(&course, &checks.list()?);

    let numbers: Vec<u8> = if numbers.is_empty() {
        course.lessons.iter().map(|l| l.number).collect()
    } else {
        numbers
            .iter()
            .map(|n| lesson_number(n))
            .collect::<Result<_, _>>()?
    };
    for number in numbers {
        let lesson = course.lesson(number)?;
        println!(
            "{}",
            style.bold(&format!("Lesson {number:02} ({})", lesson.name))
        );
        let stub = Target {
            flavour: "lesson",
            level: number,
        };
        for check in &lesson.checks {
            let outcome = checks.run(&test_name(lesson, &check.name), stub);
            report_self_test(
                &style,
                lesson,
                &check.name,
                &outcome,
                false,
                stub,
                &mut problems,
            );
        }
        let solution = Target {
            flavour: "solution",
            level: number,
        };
        for earlier in &course.lessons[..=usize::from(number)] {
            for check in &earlier.checks {
                let outcome = checks.run(&test_name(earlier, &check.name), solution);
                report_self_test(
                    &style,
                    earlier,
                    &check.name,
                    &outcome,
                    true,
                    solution,
                    &mut problems,
                );
            }
        }
    }
    if problems.is_empty() {
        println!("\nSelf-test passed: every check fails on its stub and passes on its solution.");
        Ok(true)
    } else {
        println!("\nSelf-test found {} problem(s):", problems.len());
        problems.iter().for_each(|p| println!("  - {p}"));
        Ok(false)
    }
}

fn report_self_test(
    style: &Style,
    lesson: &Lesson,
    check: &str,
    outcome: &Outcome,
    should_pass: bool,
    target: Target,
    problems: &mut Vec<String>,
) {
    let as_expected = outcome.passed == should_pass;
    let mark = if as_expected {
        style.pass()
    } else {
        style.fail()
    };
    let verb = if should_pass { "passes on" } else { "fails on" };
    println!(
        "  {mark} {:02} {check} {verb} {}",
        lesson.number,
        target.binary()
    );
    if !as_expected {
        let detail = if should_pass {
            format!(": {}", outcome.explanation)
        } else {
            " (a check that passes on the untouched stub cannot catch anything)".into()
        };
        problems.push(format!(
            "{}::{check} should {} {}{detail}",
            lesson.test_module(),
            if should_pass { "pass on" } else { "fail on" },
            target.binary()
        ));
    }
}

/// Checks without an entry in info.toml, and entries without a check.
fn course_problems(course: &Course, tests: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    for test in tests.iter().filter(|t| t.starts_with("lesson")) {
        let known = course.lessons.iter().any(|lesson| {
            test.strip_prefix(&format!("{}::", lesson.test_module()))
                .is_some_and(|name| lesson.check(name).is_some())
        });
        if !known {
            problems.push(format!("{test} has no entry in its lesson's info.toml"));
        }
    }
    for lesson in &course.lessons {
        for check in &lesson.checks {
            if !tests.contains(&test_name(lesson, &check.name)) {
                problems.push(format!(
                    "{} lists {} but there is no such check",
                    lesson.info().display(),
                    test_name(lesson, &check.name)
                ));
            }
        }
    }
    problems
}

/// The self-test grades the stubs as shipped; an edited stub proves nothing.
fn refuse_edited_stubs(root: &std::path::Path) -> Result<(), String> {
    let status = Command::new("git")
        .current_dir(root)
        .args(["diff", "--quiet", "HEAD", "--", "lessons/"])
        .status();
    match status {
        Ok(status) if status.success() => Ok(()),
        Ok(_) => Err(
            "lessons/ differs from the last commit; the self-test needs the untouched \
                      stubs (commit or stash your exercises first)"
                .into(),
        ),
        // Not a git checkout (e.g. an unpacked tarball): trust it.
        Err(_) => Ok(()),
    }
}
