//! `just lesson N --mine`: the learner's own runtime, `mine-NN`, made of
//! their lessons 00 to N and no solution code, against every check of
//! those lessons, in lesson order.
//!
//! Every container runs every lesson's hooks, so one unfinished lesson
//! (a `todo!()` in lesson 03) fails the checks of lesson 00 as well. The
//! checker therefore stops at the first lesson with a failing check and
//! asks which lesson's code broke it: it runs that check against
//! `mine-KK` for KK from the check's own lesson up, and the first binary
//! it fails on names the lesson to fix. The result is recorded for
//! `just progress`.

use nslab_runtime::{Binary, Flavour};

use crate::course::{Course, Lesson, repo_root};
use crate::harness::{Checks, require_root};
use crate::report::{Style, check_result};
use crate::state::{self, OwnRuntimeResult};

/// Grade `mine-NN`; `Ok(true)` if it passes every check of lessons 00..N.
pub fn run(number: u8) -> Result<bool, String> {
    let root = repo_root();
    let course = Course::load(&root)?;
    let last = course.lesson(number)?;
    require_root()?;
    let style = Style::detect();
    let binary = Binary::new(Flavour::Mine, number);
    let lessons: Vec<&Lesson> = course.before(number).chain([last]).collect();
    println!(
        "{}\nChecking {binary}: your lessons 00 to {number:02}, no solution code, against \
         every check of those lessons.\n",
        style.bold(&format!("Your own runtime, lessons 00..{number:02}"))
    );
    // Fingerprint the exercises as graded: they may change during the run.
    let exercises = state::fingerprint_exercises(&root, lessons.iter().copied());
    let record = |first_failing: Option<u8>| {
        let result = OwnRuntimeResult {
            level: number,
            first_failing,
            exercises: exercises.clone(),
        };
        state::save_own_runtime_result(&root, &result)
    };
    let checks = match Checks::build(&root) {
        Ok(checks) => checks,
        Err(message) => {
            // Code that does not compile passes no check; which lesson it
            // is, the compiler said above.
            record(Some(0))?;
            return Err(message);
        }
    };

    let mut first_failure = None;
    for lesson in &lessons {
        for check in &lesson.checks {
            let test = lesson.test_name(&check.name);
            let outcome = checks.run(&test, binary);
            println!("{}", check_result(&style, lesson, check, &outcome, true));
            if !outcome.passed && first_failure.is_none() {
                first_failure = Some((lesson.number, test));
            }
        }
        if first_failure.is_some() {
            break;
        }
    }

    let Some((failing_lesson, test)) = first_failure else {
        record(None)?;
        println!(
            "\nYour own runtime passes every check of lessons 00 to {number:02}: no solution \
             code ran. Try it: `just run {number} --mine -- sh`."
        );
        return Ok(true);
    };
    println!("\nFinding the lesson that breaks {test}:");
    let culprit = (failing_lesson..=number)
        .find(|&level| {
            let smaller = Binary::new(Flavour::Mine, level);
            let passed = checks.run(&test, smaller).passed;
            let mark = if passed { style.pass() } else { style.fail() };
            println!("  {mark} on {smaller}");
            !passed
        })
        // It failed on mine-NN above; a flaky pass leaves NN to blame.
        .unwrap_or(number);
    record(Some(culprit))?;
    let culprit = course.lesson(culprit)?;
    println!(
        "\nThe first failing lesson is {:02} ({}): your {} makes {test} fail. Fix it first \
         (`just lesson {}` grades it on top of the solutions), then run `just lesson {number} \
         --mine` again.",
        culprit.number,
        culprit.name,
        culprit.exercise().display(),
        culprit.number,
    );
    Ok(false)
}
