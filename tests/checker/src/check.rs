//! `just lesson N` and `just solution N`: grade one lesson, check by
//! check, then the earlier lessons' checks against the same binary.
//! `just lesson N` also records its result for `just progress` and shows
//! clippy's advice on the learner's file. (`just lesson N --mine` is
//! [`crate::mine`].)

use nslab_runtime::{Binary, Flavour};

use crate::advice::{self, Clippy};
use crate::course::{Course, Lesson, repo_root};
use crate::harness::{Checks, require_root};
use crate::report::{Style, check_result};
use crate::state::{self, LessonResult};

/// `just lesson N` (`flavour` [`Flavour::Exercise`]) or `just solution
/// N` ([`Flavour::Solution`]): the lesson's own checks, then the earlier
/// lessons' checks, all against the same binary.
pub fn run(number: u8, flavour: Flavour) -> Result<bool, String> {
    if flavour == Flavour::Mine {
        return crate::mine::run(number);
    }
    let learners = flavour == Flavour::Exercise;
    let root = repo_root();
    let course = Course::load(&root)?;
    let lesson = course.lesson(number)?;
    require_root()?;
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
    let clippy = learners.then(|| Clippy::start(&root, lesson)).flatten();

    let mut own_passed = 0;
    let mut todos = Vec::new();
    for check in &lesson.checks {
        let outcome = checks.run(&lesson.test_name(&check.name), target);
        println!("{}", check_result(&style, lesson, check, &outcome, true));
        own_passed += usize::from(outcome.passed);
        todos.extend(todo_reached(&outcome.explanation));
    }
    let own_total = lesson.checks.len();

    let earlier: Vec<&Lesson> = course.before(number).collect();
    let mut earlier_total = 0;
    let mut earlier_passed = 0;
    if !earlier.is_empty() {
        println!("\nEarlier lessons, which {target} must still pass:");
        // Until the lesson's own checks pass, earlier checks usually fail
        // for the same reason; their details would only repeat it.
        let details = own_passed == own_total;
        if !details {
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
    record(own_passed, all_passed)?;
    if all_passed {
        let next = match course.after(number) {
            Some(next) => format!("Next: `just lesson {}`.", next.number),
            None => "That was the last lesson: you have built a container runtime.".into(),
        };
        let run = if learners { "run" } else { "run-solution" };
        println!("Lesson {number:02} is done. Try it: `just {run} {number} -- sh`. {next}");
    } else if learners {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_place_of_the_first_todo_comes_from_the_runtimes_report() {
        let explanation = "exit status: 101\n  stderr: \"lesson-01: lesson code reached a todo!(): \
                           not yet implemented: name the container at lessons/01-uts/src/lib.rs:42:9 \
                           (fix: write that part)\\n\"";
        assert_eq!(
            todo_reached(explanation).as_deref(),
            Some("at lessons/01-uts/src/lib.rs:42:9")
        );
        assert_eq!(todo_reached("should print \"box\\n\""), None);
    }
}
