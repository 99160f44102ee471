//! `just lesson N` and `just solution N`: grade one lesson, check by
//! check, then the earlier lessons' checks against the same binary.
//! `just lesson N` also records its result for `just progress` and shows
//! clippy's advice on the learner's file. (`just lesson N --mine` is
//! [`crate::mine`].)

use nslab_runtime::{Binary, Flavour, leftovers};

use crate::advice::{self, Clippy};
use crate::course::{Course, Lesson, repo_root};
use crate::harness::{Checks, require_root};
use crate::report::{Detail, Style, check_result, same_error_summary, todo_summary};
use crate::state::{self, LessonResult};
use crate::stub;

/// `just lesson N` (`flavour` [`Flavour::Exercise`]) or `just solution
/// N` ([`Flavour::Solution`]): the lesson's own checks, then the earlier
/// lessons' checks, all against the same binary.
/// `verbose` shows everything each failed check said, where a failure at a
/// `todo!()` is otherwise one line, and summarised once.
pub fn run(number: u8, flavour: Flavour, verbose: bool) -> Result<bool, String> {
    if flavour == Flavour::Mine {
        return crate::mine::run(number);
    }
    let learners = flavour == Flavour::Exercise;
    let root = repo_root();
    let course = Course::load(&root)?;
    let lesson = course.lesson(number)?;
    require_root()?;
    // Correct code that removes what an earlier run left would fail the
    // host guard: say so before any check runs.
    leftovers::refuse_if_any()?;
    let style = Style::detect();
    let target = Binary::new(flavour, number);
    let whose = if learners {
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
        target,
    );
    // Fingerprint the exercise as graded: it may change during the run.
    let exercise = std::fs::read(root.join(lesson.exercise())).unwrap_or_default();
    let record = |own_passed: usize, passed: bool| -> Result<(), String> {
        if !learners {
            return Ok(());
        }
        let result = LessonResult {
            passed,
            own_passed,
            own_total: lesson.checks.len(),
            exercise: state::fingerprint(&exercise),
        };
        state::save_result(&root, lesson, &result)
    };
    let checks = match Checks::build(&root) {
        Ok(checks) => checks,
        Err(message) => {
            // Code that does not compile passes no check.
            record(0, false)?;
            return Err(message);
        }
    };
    // Clippy has nothing to say about an exercise nobody has touched yet,
    // and on a first run it would check every dependency once more while
    // the learner waits for their first result.
    let untouched =
        stub::starting_version(&root, lesson).is_ok_and(|stub| stub.as_bytes() == exercise);
    let clippy = (learners && !untouched)
        .then(|| Clippy::start(&root, lesson))
        .flatten();

    let detail = if verbose { Detail::Full } else { Detail::Short };
    let mut own_passed = 0;
    let mut outcomes = Vec::new();
    for check in &lesson.checks {
        let outcome = checks.run(&lesson.test_name(&check.name), target);
        println!("{}", check_result(&style, lesson, check, &outcome, detail));
        own_passed += usize::from(outcome.passed);
        outcomes.push(outcome);
    }
    let own_total = lesson.checks.len();

    let earlier: Vec<&Lesson> = course.before(number).collect();
    let mut earlier_total = 0;
    let mut earlier_passed = 0;
    if !earlier.is_empty() {
        println!("\nEarlier lessons, which {target} must still pass:");
        // Until the lesson's own checks pass, earlier checks usually fail
        // for the same reason; their details would only repeat it.
        let details = if own_passed == own_total {
            detail
        } else {
            Detail::Line
        };
        if details == Detail::Line {
            println!("  (they run your lesson {number:02} code too: fix the checks above first)");
        }
        for earlier_lesson in earlier {
            for check in &earlier_lesson.checks {
                let outcome = checks.run(&earlier_lesson.test_name(&check.name), target);
                println!(
                    "{}",
                    check_result(&style, earlier_lesson, check, &outcome, details)
                );
                earlier_total += 1;
                earlier_passed += usize::from(outcome.passed);
            }
        }
    }

    if let Some(clippy) = clippy {
        print!("{}", advice::render(&clippy.finish()));
    }
    // A check skipped on this host passed nothing: say how many, so that
    // "done" here is not read as "proven on every host".
    let own_skipped = outcomes.iter().filter(|o| o.skipped.is_some()).count();
    let skipped_note = match own_skipped {
        0 => String::new(),
        n => format!(
            " ({n} of them skipped on this host, which lacks what it needs: \
             your code for it is not proven here)"
        ),
    };
    println!(
        "\n{own_passed} of {own_total} lesson {:02} checks pass{skipped_note}{}.",
        lesson.number,
        if earlier_total > 0 {
            format!("; {earlier_passed} of {earlier_total} earlier checks pass")
        } else {
            String::new()
        }
    );
    let all_passed = own_passed == own_total && earlier_passed == earlier_total;
    record(own_passed, all_passed)?;
    if all_passed {
        let next = match course.after(number) {
            Some(next) => format!("Next: `just lesson {}`.", next.number),
            None => "That was the last lesson: you have built a container runtime.".into(),
        };
        let run = if learners { "run" } else { "run-solution" };
        println!("Lesson {number:02} is done. Try it: `just {run} {number} -- sh`. {next}");
    } else if learners {
        let failed: Vec<&_> = outcomes.iter().filter(|o| !o.passed).collect();
        let verbose = format!("just lesson {number} --verbose");
        let summary = todo_summary(&failed, &verbose);
        for line in summary.iter().chain(&same_error_summary(&failed, &verbose)) {
            println!("{line}");
        }
        println!(
            "Next: read the hint and the section above, edit {}, and run `just lesson {number}` again.",
            lesson.exercise().display()
        );
    }
    Ok(all_passed)
}
