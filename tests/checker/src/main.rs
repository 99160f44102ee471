//! `nslab-check`: the checker the justfile calls.
//!
//! ```text
//! nslab-check check N [--solution|--mine] [--verbose]  grade lesson N (just lesson N / just solution N),
//!                                    or your own runtime 00..N (just lesson N --mine)
//! nslab-check run N [--solution|--mine] [ARGS...]  build lesson-NN (solution-NN, mine-NN) and run it
//!                                    with ARGS (just run N, just run-solution N)
//! nslab-check exec [--solution] NAME -- CMD  lesson 07's `exec`, by the binary that started
//!                                    the container NAME (just exec, just exec-solution)
//! nslab-check progress               every lesson's status (just progress)
//! nslab-check watch N                grade lesson N on every change (just watch N)
//! nslab-check hint N [--again]       the next hint of lesson N (just hint N)
//! nslab-check reset N [--yes]        lesson N's exercise back to its start (just reset N)
//! nslab-check stubs [--check]       write every lesson's stub from its solution, or check them
//! nslab-check self-test [N...]       every check fails on its stub and passes on its solution
//! nslab-check mutants [N...]         every catalogued mistake is caught, and its fix named (just mutants)
//! nslab-check mutants-explore N      cargo-mutants' mutants of solution N against its checks
//! nslab-check doctor                 is this machine ready? (just doctor)
//! nslab-check unprivileged           run `cargo test`'s executables as nobody
//! nslab-check rootfs [--from-host] [--fresh]  build (or find) the container's rootfs, say
//!                                    what was changed in it (--fresh: build it again); path last
//! nslab-check clean                  remove what killed runtimes left on the host (just clean)
//! nslab-check bench                  the runtime beside unshare, bwrap, crun, runc (just bench)
//! ```

use std::path::Path;
use std::process::{Command, ExitCode};

use nslab_checker::course::{Course, Lesson, repo_root};
use nslab_checker::harness::{Checks, Outcome, require_root};
use nslab_checker::report::Style;
use nslab_checker::reset::Consent;
use nslab_checker::{
    bench, check, doctor, explore, hint, mutants, progress, reset, rootfs, stubs, unprivileged,
    watch,
};
use nslab_runtime::{Binary, Flavour, cli, registry, state};

const USAGE: &str = "usage: nslab-check check N [--solution|--mine] [--verbose] \
                     | run N [--solution|--mine] [ARGS...] | exec [--solution] NAME [ARGS...] | progress | watch N | hint N [--again] \
                     | reset N [--yes] | stubs [--check] | self-test [N...] | mutants [N...] | mutants-explore N | doctor | unprivileged | rootfs [--from-host] [--fresh] | clean | bench";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["check", number, flags @ ..] => check_flags(flags).and_then(|(flavour, verbose)| {
            lesson_number(number).and_then(|n| check::run(n, flavour, verbose))
        }),
        ["run", number, rest @ ..] => {
            let (flavour, args) = match rest {
                ["--solution", args @ ..] => (Flavour::Solution, args),
                ["--mine", args @ ..] => (Flavour::Mine, args),
                args => (Flavour::Exercise, args),
            };
            lesson_number(number).and_then(|n| run_binary(Binary::new(flavour, n), args))
        }
        ["exec", "--solution", args @ ..] => exec_into(Some(Flavour::Solution), args),
        ["exec", args @ ..] => exec_into(None, args),
        ["progress"] => Course::load(&repo_root()).map(|course| {
            let rows = progress::gather(&repo_root(), &course);
            let mine = progress::own_runtime(&repo_root(), &course);
            print!("{}", progress::render(&rows, &mine, &Style::detect()));
            true
        }),
        ["watch", number] => with_lesson(number, |lesson| {
            require_root()?;
            watch::run(&repo_root(), lesson)
        }),
        ["hint", number, flags @ ..] if matches!(flags, [] | ["--again"]) => {
            with_lesson(number, |lesson| {
                hint::run(&repo_root(), lesson, !flags.is_empty(), &Style::detect())?;
                Ok(true)
            })
        }
        ["reset", number, flags @ ..] if matches!(flags, [] | ["--yes"]) => {
            let consent = if flags.is_empty() {
                Consent::Ask
            } else {
                Consent::Given
            };
            with_lesson(number, |lesson| {
                reset::run(&repo_root(), lesson, consent)?;
                Ok(true)
            })
        }
        ["stubs", flags @ ..] if matches!(flags, [] | ["--check"]) => {
            let root = repo_root();
            Course::load(&root).and_then(|course| stubs::run(&root, &course, !flags.is_empty()))
        }
        ["self-test", numbers @ ..] => self_test(numbers),
        ["mutants-explore", number] => {
            lesson_number(number).and_then(|n| explore::run(&repo_root(), n))
        }
        ["mutants", numbers @ ..] => numbers
            .iter()
            .map(|n| lesson_number(n))
            .collect::<Result<Vec<u8>, _>>()
            .and_then(|numbers| mutants::run(&repo_root(), &numbers)),
        ["doctor"] => {
            let findings = doctor::diagnose(&doctor::gather());
            print!("{}", doctor::render(&findings, &Style::detect()));
            Ok(findings.iter().all(|f| f.ok))
        }
        ["rootfs", flags @ ..] => {
            rootfs_flags(flags).and_then(|(source, fresh)| build_rootfs(source, fresh))
        }
        ["clean"] => clean(),
        ["bench"] => require_root().and_then(|()| bench::run(&repo_root())),
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

/// `check N`'s flags, in any order: `--solution` or `--mine`, and
/// `--verbose`.
fn check_flags(flags: &[&str]) -> Result<(Flavour, bool), String> {
    let mut flavour = Flavour::Exercise;
    let mut verbose = false;
    for flag in flags {
        match *flag {
            "--solution" if flavour == Flavour::Exercise => flavour = Flavour::Solution,
            "--mine" if flavour == Flavour::Exercise => flavour = Flavour::Mine,
            "--verbose" => verbose = true,
            _ => return Err(USAGE.to_string()),
        }
    }
    Ok((flavour, verbose))
}

/// `rootfs`'s flags, in any order: `--from-host`, `--fresh`.
fn rootfs_flags(flags: &[&str]) -> Result<(rootfs::Source, bool), String> {
    let mut source = rootfs::Source::best_available();
    let mut fresh = false;
    for flag in flags {
        match *flag {
            "--from-host" => source = rootfs::Source::HostBinaries,
            "--fresh" => fresh = true,
            _ => return Err(USAGE.to_string()),
        }
    }
    Ok((source, fresh))
}

/// `just rootfs`: the path is the last line, for `$(just rootfs | tail -1)`.
/// A course rootfs changed since it was built is reported on stderr, with
/// the way back (`--fresh`).
fn build_rootfs(source: rootfs::Source, fresh: bool) -> Result<bool, String> {
    let cache = repo_root().join("target/nslab/rootfs");
    let from = match source {
        rootfs::Source::Busybox => format!("{} (busybox-static)", rootfs::BUSYBOX),
        rootfs::Source::HostBinaries => "the host's binaries and their libraries".to_string(),
    };
    let path = if fresh {
        let (path, note) = rootfs::rebuild(&cache, source)?;
        note.into_iter()
            .for_each(|note| eprintln!("nslab-check: {note}"));
        path
    } else {
        let path = rootfs::ensure(&cache, source)?;
        match rootfs::changes(&cache, &path, source) {
            Ok(changes) if !changes.is_empty() => eprintln!(
                "nslab-check: the course rootfs was changed since it was built (a `--volume \
                 X:/data` run makes /data, for one); the checks do not mind, but to start \
                 afresh run `just rootfs --fresh`:\n{}",
                changes
                    .iter()
                    .map(|change| format!("  {change}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
            Ok(_) => {}
            Err(e) => eprintln!("nslab-check: could not compare the rootfs with a fresh one: {e}"),
        }
        path
    };
    println!("rootfs from {from}:");
    println!("{}", path.display());
    Ok(true)
}

/// `just clean`: replay the undo records runtimes left on the host, and
/// find what no record names any more, as `nslab_runtime::leftovers`
/// defines it (a lesson that leaves something new adds its kind there).
/// As root, in every user's state directory.
fn clean() -> Result<bool, String> {
    let (looked, done) = nslab_runtime::leftovers::clean_everyones().map_err(|e| e.to_string())?;
    if done.is_empty() {
        println!("nothing to clean in {}", looked.join(", "));
    }
    for sentence in done {
        println!("{sentence}");
    }
    Ok(true)
}

/// `just run N`: build `binary` and become it, with `args`.
fn run_binary(binary: Binary, args: &[&str]) -> Result<bool, String> {
    use std::os::unix::process::CommandExt;
    Course::load(&repo_root())?.lesson(binary.level)?;
    let name = binary.name();
    let built = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(repo_root())
        .args([
            "build",
            "--quiet",
            "-p",
            binary.flavour.package(),
            "--bin",
            &name,
        ])
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !built.success() {
        return Err(format!(
            "{name} does not compile yet; the compiler's messages are above"
        ));
    }
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| repo_root().join("target"), std::path::PathBuf::from);
    let path = binary.path_in(&target_dir.join("debug"));
    let error = Command::new(&path).args(args).exec();
    Err(format!("cannot run {}: {error}", path.display()))
}

/// `just exec NAME -- CMD`: the `exec` of the binary that started the
/// container NAME, found through its runtime's `/proc/PID/exe`.
fn exec_into(flavour: Option<Flavour>, args: &[&str]) -> Result<bool, String> {
    let runtime_exe = args
        .first()
        .and_then(|name| registry::find(&state::root(), name).ok())
        .and_then(|entry| std::fs::read_link(format!("/proc/{}/exe", entry.runtime)).ok());
    let binary = exec_binary(runtime_exe.as_deref(), flavour);
    run_binary(binary, &[&["exec"], args].concat())
}

/// Which binary's `exec` enters a container started by `runtime_exe`:
/// that same lesson's, so that what it starts joins all the lesson gave
/// the container (lesson 08's cgroup, 09's time namespace, 10's
/// capabilities and filter; lesson 07's binary would leave them out), in
/// `flavour` if given (`just exec-solution`), else the starter's. With no
/// running container, the lesson that brings `exec`, whose binary says
/// the name is not running.
fn exec_binary(runtime_exe: Option<&Path>, flavour: Option<Flavour>) -> Binary {
    let started_by = runtime_exe.and_then(|exe| {
        // A binary rebuilt while it runs reads `solution-08 (deleted)`.
        let name = exe.file_name()?.to_str()?;
        Binary::parse(name.trim_end_matches(" (deleted)"))
    });
    let level = started_by.map_or_else(
        || {
            cli::introduced_in()
                .find_map(|(id, lesson)| (id == "exec").then_some(lesson))
                .expect("a lesson brings `exec`")
        },
        |binary| binary.level,
    );
    let flavour = flavour
        .or(started_by.map(|binary| binary.flavour))
        .unwrap_or(Flavour::Exercise);
    Binary::new(flavour, level)
}

/// Run `action` on lesson `number` of the course.
fn with_lesson(
    number: &str,
    action: impl FnOnce(&Lesson) -> Result<bool, String>,
) -> Result<bool, String> {
    let course = Course::load(&repo_root())?;
    action(course.lesson(lesson_number(number)?)?)
}

fn lesson_number(text: &str) -> Result<u8, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not a lesson number; try `just lesson 0`"))
}

/// Every check must fail on the untouched stub and pass on the solution;
/// every check must have an entry in info.toml and the other way round.
fn self_test(numbers: &[&str]) -> Result<bool, String> {
    let root = repo_root();
    let course = Course::load(&root)?;
    require_root()?;
    refuse_edited_stubs(&root, &course)?;
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
        let stub = Binary::new(Flavour::Exercise, number);
        for check in &lesson.checks {
            let outcome = checks.run(&lesson.test_name(&check.name), stub);
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
        let solution = Binary::new(Flavour::Solution, number);
        for earlier in course.before(number).chain([lesson]) {
            for check in &earlier.checks {
                let outcome = checks.run(&earlier.test_name(&check.name), solution);
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
    target: Binary,
    problems: &mut Vec<String>,
) {
    if let Some(reason) = &outcome.skipped {
        println!(
            "  – {:02} {check} skipped on {target}: {reason}",
            lesson.number
        );
        return;
    }
    let as_expected = outcome.passed == should_pass;
    let mark = if as_expected {
        style.pass()
    } else {
        style.fail()
    };
    let verb = if should_pass { "passes on" } else { "fails on" };
    println!("  {mark} {:02} {check} {verb} {}", lesson.number, target);
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
            target
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
            if !tests.contains(&lesson.test_name(&check.name)) {
                problems.push(format!(
                    "{} lists {} but there is no such check",
                    lesson.info().display(),
                    lesson.test_name(&check.name)
                ));
            }
        }
    }
    problems
}

/// The self-test grades the stubs as generated; an edited stub proves nothing.
fn refuse_edited_stubs(root: &std::path::Path, course: &Course) -> Result<(), String> {
    let stale = stubs::stale(root, course)?;
    if stale.is_empty() {
        return Ok(());
    }
    let paths: Vec<String> = stale
        .iter()
        .map(|one| one.lesson.exercise().display().to_string())
        .collect();
    Err(format!(
        "{} differ from the stubs their solutions generate; the self-test needs the \
         untouched stubs: run `just stubs` (your versions are kept in backups/)",
        paths.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_enters_with_the_binary_that_started_the_container() {
        let exec = |exe: Option<&str>, flavour| exec_binary(exe.map(Path::new), flavour).name();
        assert_eq!(
            exec(Some("/r/target/debug/solution-10"), None),
            "solution-10"
        );
        assert_eq!(
            exec(Some("/r/target/debug/lesson-08 (deleted)"), None),
            "lesson-08"
        );
        assert_eq!(exec(Some("/r/target/debug/mine-09"), None), "mine-09");
        let solution = Some(Flavour::Solution);
        assert_eq!(
            exec(Some("/r/target/debug/lesson-08"), solution),
            "solution-08"
        );
        // Nothing running, or not a course binary: lesson 07 says so.
        assert_eq!(exec(None, None), "lesson-07");
        assert_eq!(exec(None, solution), "solution-07");
        assert_eq!(exec(Some("/usr/bin/sleep"), None), "lesson-07");
    }
}
