//! `just lesson N --mine`: the learner's own runtime, `mine-NN`, made of
//! their lessons 00 to N and no solution code, against every check of
//! those lessons, in lesson order.
//!
//! Every container runs every lesson's hooks, so one unfinished lesson
//! (a `todo!()` in lesson 03) fails the checks of lesson 00 as well. The
//! checker asks, at the first failing check, which lesson's code broke
//! it: it runs that check against `mine-KK` for KK from the check's own
//! lesson up, and the first binary it fails on names the lesson to fix.
//! It stops after that check's lesson. The result is recorded for `just
//! progress`.

use nslab_runtime::course::describe_lesson;
use nslab_runtime::{Binary, Flavour};

use crate::course::{Course, Lesson, repo_root};
use crate::harness::{Checks, require_root};
use crate::report::{Detail, Style, check_result};
use crate::state::{self, OwnRuntimeResult};

/// Grade `mine-NN`; `Ok(true)` if it passes every check of lessons 00..N.
pub fn run(number: u8) -> Result<bool, String> {
    let root = repo_root();
    let course = Course::load(&root)?;
    let last = course.lesson(number)?;
    require_root()?;
    nslab_runtime::leftovers::refuse_if_any()?;
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
    let checks = match build_mine(&root).and_then(|()| Checks::build(&root)) {
        Ok(checks) => checks,
        Err(message) => {
            // Code that does not compile passes no check; which lesson it
            // is, the compiler said above.
            record(Some(0))?;
            return Err(message);
        }
    };

    // The first failing check, and the lesson whose code breaks it.
    let mut blamed: Option<(String, u8)> = None;
    for lesson in &lessons {
        for check in &lesson.checks {
            let test = lesson.test_name(&check.name);
            let outcome = checks.run(&test, binary);
            if !outcome.passed && blamed.is_none() {
                let culprit = blame(&checks, &test, lesson.number, number, &style);
                if culprit != lesson.number {
                    println!(
                        "  It is your {}: these checks of {lesson_name} fail because of it.",
                        describe_lesson(culprit),
                        lesson_name = describe_lesson(lesson.number),
                    );
                }
                blamed = Some((test, culprit));
            }
            // A check that fails because of a later lesson's code would
            // send the learner to the wrong chapter: only the culprit's
            // own failures come with their hint and section.
            let detail = if blamed
                .as_ref()
                .is_none_or(|(_, culprit)| *culprit == lesson.number)
            {
                Detail::Full
            } else {
                Detail::Line
            };
            println!("{}", check_result(&style, lesson, check, &outcome, detail));
        }
        if blamed.is_some() {
            break;
        }
    }

    let Some((test, culprit)) = blamed else {
        record(None)?;
        println!(
            "\nYour own runtime passes every check of lessons 00 to {number:02}: no solution \
             code ran. Try it: `just run {number} --mine -- sh`."
        );
        return Ok(true);
    };
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

/// `cargo build -p nslab-mine`: the `mine-NN` binaries are a package of
/// their own, which building the checks does not build.
fn build_mine(root: &std::path::Path) -> Result<(), String> {
    let status = std::process::Command::new(std::env::var("CARGO").unwrap_or("cargo".into()))
        .current_dir(root)
        .args(["build", "--quiet", "-p", Flavour::Mine.package(), "--bins"])
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("your lessons do not compile together yet; the compiler's messages are above".into())
    }
}

/// The lesson whose code makes `test` (a check of lesson `from`) fail:
/// the first of `mine-FROM` .. `mine-LAST` it fails on.
fn blame(checks: &Checks, test: &str, from: u8, last: u8, style: &Style) -> u8 {
    println!("  Which of your lessons breaks {test}?");
    (from..=last)
        .find(|&level| {
            let smaller = Binary::new(Flavour::Mine, level);
            let passed = checks.run(test, smaller).passed;
            let mark = if passed { style.pass() } else { style.fail() };
            println!("    {mark} on {smaller}");
            !passed
        })
        // It failed on mine-LAST just now; a flaky pass leaves LAST to blame.
        .unwrap_or(last)
}
