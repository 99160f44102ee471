//! What `just lesson N` prints: one line per check, ✓ or ✗, and for each
//! ✗ what happened, a hint and the book section to read.

use std::io::IsTerminal;

use std::path::Path;

use crate::course::{Check, Lesson, heading_id};
use crate::harness::Outcome;
use crate::language::Book;

/// How a check that could not prepare itself ends its message (the
/// checks' `support::setup_failure`).
const SETUP_FAILURE: &str = "(not your code)";

pub struct Style {
    colour: bool,
}

impl Style {
    pub fn detect() -> Style {
        Style {
            colour: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    pub fn plain() -> Style {
        Style { colour: false }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn pass(&self) -> String {
        self.paint("32", "✓")
    }

    pub fn fail(&self) -> String {
        self.paint("31", "✗")
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
}

/// How much of a failed check to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Its line only: it fails for a reason shown elsewhere.
    Line,
    /// Its line, what went wrong, a hint and a section; a failure at a
    /// `todo!()` in one line, since several checks usually stop at the
    /// same one and [`todo_summary`] says so once.
    Short,
    /// Its line and everything the check said (`--verbose`).
    Full,
}

/// The lines for one check's result.
pub fn check_result(
    style: &Style,
    lesson: &Lesson,
    check: &Check,
    outcome: &Outcome,
    detail: Detail,
) -> String {
    let mark = if outcome.passed {
        style.pass()
    } else {
        style.fail()
    };
    if let Some(reason) = &outcome.skipped {
        return format!(
            "  – {:02} {} (skipped: {reason})",
            lesson.number, check.says
        );
    }
    let mut text = format!("  {mark} {:02} {}", lesson.number, check.says);
    if outcome.passed || detail == Detail::Line {
        return text;
    }
    let explanation = match todo_reached(&outcome.explanation) {
        Some(todo) if detail == Detail::Short => format!(
            "stops at the todo!({}) {}",
            todo.what.unwrap_or_default(),
            todo.place
        ),
        _ => outcome.explanation.clone(),
    };
    let indent = |block: &str| {
        block
            .lines()
            .map(|line| format!("      {line}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    text.push('\n');
    text.push_str(&indent(&explanation));
    if outcome.explanation.contains(SETUP_FAILURE) {
        // The check never got to the learner's code: a hint about it
        // would send them looking for a mistake that is not there.
        text.push_str(&format!(
            "\n      {} `just doctor` checks this machine; run `just lesson {}` again once it is fixed",
            style.bold("then:"),
            lesson.number
        ));
        return text;
    }
    text.push_str(&format!("\n      {} {}", style.bold("hint:"), check.hint));
    // The section's anchor is the English heading's id: the Chinese book's
    // headings answer to it too (book/i18n.py).
    let book = Book::from_environment();
    text.push_str(&format!(
        "\n      {} chapter {:02}, \"{}\" ({}; with `{}`: {})",
        style.bold("read:"),
        lesson.number,
        book.heading(Path::new("."), &check.section),
        lesson.chapter().display(),
        book.recipe(),
        book.url(&lesson.slug(), &heading_id(&check.section)),
    ));
    text
}

/// Where a failed run stopped at a `todo!()`: the runtime's one-line
/// report, `lesson code reached a todo!(): not yet implemented: WHAT at
/// PLACE (fix: ...)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Todo {
    /// The `todo!()`'s own words, if it has any.
    pub what: Option<String>,
    /// `at lessons/01-uts/src/lib.rs:25:9`
    pub place: String,
}

/// The `todo!()` a failed check's run stopped at, if it did.
pub fn todo_reached(explanation: &str) -> Option<Todo> {
    let after = explanation.split("reached a todo!(): ").nth(1)?;
    let report = after.split(" (fix:").next()?;
    let (what, place) = report.rsplit_once(" at ")?;
    let place = place.split([' ', '"']).next()?;
    let what = what
        .strip_prefix("not yet implemented: ")
        .map(|words| format!("{words:?}"));
    Some(Todo {
        what,
        place: format!("at {place}"),
    })
}

/// One line per `todo!()` the failed checks stopped at, however many
/// stopped there: "6 checks stop at the todo!() at PLACE", in the order
/// the checks ran into them.
pub fn todo_summary(outcomes: &[&Outcome], verbose_command: &str) -> Vec<String> {
    let places = outcomes
        .iter()
        .filter_map(|o| todo_reached(&o.explanation))
        .map(|todo| todo.place);
    counted_in_order(places)
        .into_iter()
        .map(|(place, count)| {
            let checks = if count == 1 {
                "1 check stops".to_string()
            } else {
                format!("{count} checks stop")
            };
            format!(
                "{checks} at the todo!() {place}: start there (`{verbose_command}` shows what each check saw)."
            )
        })
        .collect()
}

/// The runtime's own one-line error in a failed check's run, if it gave
/// one and it is not a `todo!()`: the first line of its stderr of the
/// form `lesson-06: WHAT` (the transcript's lines are not), with every number of three digits or more (a
/// PID, a port) written `N`, so that the same error in two runs reads
/// the same.
pub fn runtime_error(explanation: &str) -> Option<String> {
    if todo_reached(explanation).is_some() {
        return None;
    }
    let stderr = explanation.split("stderr: \"").nth(1)?;
    let stderr = stderr.split("\"\n").next()?.trim_end_matches('"');
    let line = stderr.split("\\n").find(|line| {
        let Some((binary, message)) = line.split_once(": ") else {
            return false;
        };
        let Some((flavour, level)) = binary.rsplit_once('-') else {
            return false;
        };
        ["lesson", "solution"].contains(&flavour)
            && level.len() == 2
            && level.chars().all(|c| c.is_ascii_digit())
            && !message.is_empty()
    })?;
    let mut normalised = String::new();
    let mut digits = String::new();
    for c in line.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        normalised.push_str(if digits.len() >= 3 { "N" } else { &digits });
        digits.clear();
        normalised.push(c);
    }
    Some(normalised.trim_end().to_string())
}

/// One line per runtime error that two or more failed checks share (not
/// a `todo!()`: [`todo_summary`] says those): the same error in many
/// checks is one mistake, and its line is the place to start.
pub fn same_error_summary(outcomes: &[&Outcome], verbose_command: &str) -> Vec<String> {
    let errors = outcomes
        .iter()
        .filter_map(|o| runtime_error(&o.explanation));
    counted_in_order(errors)
        .into_iter()
        .filter(|(_, count)| *count >= 2)
        .map(|(error, count)| {
            format!(
                "{count} checks fail with the same error from the runtime, `{error}`: one \
                 mistake, start there (`{verbose_command}` shows what each check saw)."
            )
        })
        .collect()
}

/// Each distinct item with how often it came, in the order each first
/// came.
fn counted_in_order(items: impl Iterator<Item = String>) -> Vec<(String, usize)> {
    let mut counted: Vec<(String, usize)> = Vec::new();
    for item in items {
        match counted.iter_mut().find(|(seen, _)| *seen == item) {
            Some((_, count)) => *count += 1,
            None => counted.push((item, 1)),
        }
    }
    counted
}

/// `text` broken into lines of at most `width` characters, each starting
/// with `indent`. Inline code (between backticks) is never broken: a
/// learner copies it whole. A longer word gets a line of its own.
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match words.last_mut() {
            // Inside inline code: an odd number of backticks so far.
            Some(code) if code.matches('`').count() % 2 == 1 => {
                code.push(' ');
                code.push_str(word);
            }
            _ => words.push(word.to_string()),
        }
    }
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in &words {
        let fits = line.chars().count() + 1 + word.chars().count() <= width;
        if !line.is_empty() && !fits {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
        .iter()
        .map(|line| format!("{indent}{line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::{Course, repo_root};
    use crate::harness::explain_failure;

    /// What the checks binary printed, as the harness runs it, when lesson
    /// 04's `mount_proc` forgot `MS_NOSUID`: insta's diff on stdout, one
    /// line on stderr.
    const FAILED_SNAPSHOT_STDOUT: &str = include_str!("fixtures/failed-snapshot.stdout");
    const FAILED_SNAPSHOT_STDERR: &str = include_str!("fixtures/failed-snapshot.stderr");

    #[test]
    fn a_failed_snapshot_shows_its_diff() {
        let course = Course::load(&repo_root()).unwrap();
        let lesson = course.lesson(4).unwrap();
        let check = lesson
            .check("the_rootfs_is_the_containers_root_and_the_host_is_gone")
            .unwrap();
        let outcome = Outcome {
            passed: false,
            explanation: explain_failure(FAILED_SNAPSHOT_STDOUT, FAILED_SNAPSHOT_STDERR),
            skipped: None,
        };
        let report = check_result(&Style::plain(), lesson, check, &outcome, Detail::Full);
        for line in [
            "      the output differs from the expected \"mounts-inside-the-rootfs\" (- expected, + what the check got):",
            "         / bind rw",
            "        -/proc proc rw,nosuid,nodev,noexec",
            "        +/proc proc rw,nodev,noexec",
            "         /sys sysfs ro",
        ] {
            assert!(
                report.lines().any(|shown| shown == line),
                "{line:?} is not in:\n{report}"
            );
        }
        assert!(!report.contains("snapshot assertion for"), "{report}");
        assert!(report.contains("hint:"), "{report}");
    }

    #[test]
    fn a_check_that_could_not_prepare_itself_gives_no_hint_about_the_code() {
        let course = Course::load(&repo_root()).unwrap();
        let lesson = course.lesson(4).unwrap();
        let check = &lesson.checks[0];
        let stderr = "thread 'x' (1) panicked at tests/checks/support/mod.rs:34:35:\n\
                      the check could not plant the symlink: File exists (os error 17) (not your code)\n";
        let outcome = Outcome {
            passed: false,
            explanation: explain_failure("", stderr),
            skipped: None,
        };
        let report = check_result(&Style::plain(), lesson, check, &outcome, Detail::Full);
        assert!(report.contains("      the check could not plant the symlink: File exists (os error 17) (not your code)"), "{report}");
        assert!(!report.contains("hint:"), "{report}");
        assert!(report.contains("`just doctor`"), "{report}");
    }

    /// What a check of lesson 00 says when the runtime stops at the
    /// untouched stub's first `todo!()`, as `explain_failure` gives it.
    fn stopped_at_the_first_todo(what: &str) -> Outcome {
        Outcome {
            passed: false,
            explanation: format!(
                "{what}\n  exit status: 101\n  stderr: \"lesson-00: lesson code reached a todo!(): \
                 not yet implemented: start the child on a stack of its own at \
                 lessons/00-clone/src/lib.rs:39:9 (fix: write that part; its comment names the \
                 book section)\\n\""
            ),
            skipped: None,
        }
    }

    #[test]
    fn the_place_of_a_todo_comes_from_the_runtimes_report() {
        let explanation = "exit status: 101\n  stderr: \"lesson-01: lesson code reached a todo!(): \
                           not yet implemented: name the container at lessons/01-uts/src/lib.rs:42:9 \
                           (fix: write that part)\\n\"";
        assert_eq!(
            todo_reached(explanation).map(|todo| todo.place).as_deref(),
            Some("at lessons/01-uts/src/lib.rs:42:9")
        );
        assert_eq!(todo_reached("should print \"box\\n\""), None);
    }

    /// The untouched lesson 00: every check stops at the same `todo!()`.
    /// Each says so in one line under its hint, and the reason comes once
    /// at the end; `--verbose` keeps what each check saw.
    #[test]
    fn checks_stopping_at_the_same_todo_are_summarised_once() {
        let course = Course::load(&repo_root()).unwrap();
        let lesson = course.lesson(0).unwrap();
        let outcomes: Vec<Outcome> = lesson
            .checks
            .iter()
            .map(|check| {
                stopped_at_the_first_todo(&format!(
                    "`lesson-00 -- ...` should pass {:?}",
                    check.name
                ))
            })
            .collect();
        let mut report: Vec<String> = lesson
            .checks
            .iter()
            .zip(&outcomes)
            .map(|(check, outcome)| {
                check_result(&Style::plain(), lesson, check, outcome, Detail::Short)
            })
            .collect();
        let failed: Vec<&Outcome> = outcomes.iter().collect();
        report.extend(todo_summary(&failed, "just lesson 0 --verbose"));
        let report = report.join("\n");
        assert_eq!(report.matches("stderr:").count(), 0, "{report}");
        insta::assert_snapshot!("lesson-00-untouched", report);

        let verbose = check_result(
            &Style::plain(),
            lesson,
            &lesson.checks[0],
            &outcomes[0],
            Detail::Full,
        );
        assert!(verbose.contains("exit status: 101"), "{verbose}");
        assert!(verbose.contains("stderr: "), "{verbose}");
    }

    #[test]
    fn different_todos_are_summarised_each() {
        let other = Outcome {
            passed: false,
            explanation:
                "stderr: \"lesson-00: lesson code reached a todo!(): not yet implemented: \
                          wait at lessons/00-clone/src/lib.rs:63:9 (fix: ...)\""
                    .into(),
            skipped: None,
        };
        let first = stopped_at_the_first_todo("x");
        let no_todo = Outcome {
            passed: false,
            explanation: "should print \"box\"".into(),
            skipped: None,
        };
        assert_eq!(
            todo_summary(
                &[&first, &other, &first, &no_todo],
                "just lesson 0 --verbose"
            ),
            [
                "2 checks stop at the todo!() at lessons/00-clone/src/lib.rs:39:9: start there \
                 (`just lesson 0 --verbose` shows what each check saw).",
                "1 check stops at the todo!() at lessons/00-clone/src/lib.rs:63:9: start there \
                 (`just lesson 0 --verbose` shows what each check saw).",
            ]
        );
    }

    #[test]
    fn checks_failing_with_the_same_runtime_error_are_summarised_once() {
        let failing = |pid: u32| Outcome {
            passed: false,
            explanation: format!(
                "`lesson-06 --quiet --net bridge -- sh` should exit with status 0\n  \
                 exit status: 125\n  stdout: \"\"\n  stderr: \"lesson-06: find the link \
                 nslab-{pid}-c: ENODEV: No such device\\n\""
            ),
            skipped: None,
        };
        let (first, mut second) = (failing(15968), failing(16022));
        // With the transcript on, the runtime's lines come first.
        second.explanation = second.explanation.replace(
            "stderr: \"",
            "stderr: \"parent 16022: network: 10.77.0.2/24\\n",
        );
        let alone = Outcome {
            explanation: "stderr: \"lesson-06: --subnet 10.0.0.0/31 is too small\\n\"".into(),
            ..failing(1)
        };
        let no_error = Outcome {
            passed: false,
            explanation: "should print \"box\"".into(),
            skipped: None,
        };
        let todo = stopped_at_the_first_todo("x");
        assert_eq!(
            same_error_summary(
                &[&first, &alone, &second, &no_error, &todo, &todo],
                "just lesson 6 --verbose"
            ),
            [
                "2 checks fail with the same error from the runtime, `lesson-06: find the link \
              nslab-N-c: ENODEV: No such device`: one mistake, start there (`just lesson 6 \
              --verbose` shows what each check saw)."
            ]
        );
    }

    #[test]
    fn a_skipped_check_says_why_and_is_neither_passed_nor_failed() {
        let course = Course::load(&repo_root()).unwrap();
        let lesson = course.lesson(4).unwrap();
        let check = &lesson.checks[0];
        let outcome = Outcome {
            passed: true,
            explanation: String::new(),
            skipped: Some("needs cgroup v2".into()),
        };
        let report = check_result(&Style::plain(), lesson, check, &outcome, Detail::Short);
        assert!(report.starts_with("  – 04 "), "{report}");
        assert!(report.ends_with("(skipped: needs cgroup v2)"), "{report}");
    }

    #[test]
    fn wrapping_breaks_between_words() {
        assert_eq!(
            wrap("one two three four", 9, "> "),
            "> one two\n> three\n> four"
        );
        assert_eq!(wrap("a-very-long-word x", 4, ""), "a-very-long-word\nx");
        assert_eq!(wrap("call `f(a, b)` now", 10, ""), "call\n`f(a, b)`\nnow");
    }
}
