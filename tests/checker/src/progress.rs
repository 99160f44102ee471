//! `just progress`: where the learner stands in every lesson, without
//! re-running any check. Each `just lesson N` records its result with a
//! fingerprint of the exercise file ([`crate::state`]); the status of a
//! lesson follows from that record, the file as it is now and the file's
//! starting version ([`crate::stub`]). The last `just lesson N --mine`
//! says whether the learner's own runtime passes every check up to N.

use std::path::Path;

use crate::course::{Course, Lesson};
use crate::report::Style;
use crate::state::{self, LessonResult};
use crate::stub;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// The exercise is still its starting version.
    NotStarted,
    /// The last `just lesson N` passed, and the file has not changed since.
    Done,
    /// The last `just lesson N` failed, and the file has not changed since.
    Failing { own_passed: usize, own_total: usize },
    /// Edited, and never checked: the status is unknown.
    Unchecked,
    /// Changed since its last check: the status is unknown.
    Stale,
    /// The exercise file is gone.
    Missing,
}

impl Status {
    /// Derive the status from the exercise as it is now (`None` if it is
    /// missing), its starting version (`None` if unknown) and the last
    /// recorded result.
    pub fn derive(
        exercise: Option<&[u8]>,
        starting_version: Option<&[u8]>,
        last_result: Option<&LessonResult>,
    ) -> Status {
        let Some(exercise) = exercise else {
            return Status::Missing;
        };
        if starting_version == Some(exercise) {
            return Status::NotStarted;
        }
        match last_result {
            Some(result) if result.exercise == state::fingerprint(exercise) => {
                if result.passed {
                    Status::Done
                } else {
                    Status::Failing {
                        own_passed: result.own_passed,
                        own_total: result.own_total,
                    }
                }
            }
            Some(_) => Status::Stale,
            None => Status::Unchecked,
        }
    }

    pub fn is_done(&self) -> bool {
        *self == Status::Done
    }

    /// The mark and the words of the table's status column.
    fn describe(&self, style: &Style, number: u8) -> String {
        match self {
            Status::NotStarted => "  not started".to_string(),
            Status::Done => format!("{} done", style.pass()),
            Status::Failing {
                own_passed,
                own_total,
            } => format!("{} {own_passed} of {own_total} checks pass", style.fail()),
            Status::Unchecked => format!(
                "{} not checked yet: run `just lesson {number}`",
                style.fail()
            ),
            Status::Stale => format!(
                "{} changed since its last check: run `just lesson {number}`",
                style.fail()
            ),
            Status::Missing => format!(
                "{} the exercise file is missing: `just reset {number}` brings it back",
                style.fail()
            ),
        }
    }
}

/// The learner's own runtime (`just lesson N --mine`), as last graded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnRuntime {
    /// Never graded.
    NotChecked,
    /// Graded, and the exercises 00..`level` are as they were then.
    Graded {
        level: u8,
        first_failing: Option<u8>,
    },
    /// An exercise 00..`level` changed since.
    Stale { level: u8 },
}

/// The status of the learner's own runtime, from the last `--mine` record.
pub fn own_runtime(root: &Path, course: &Course) -> OwnRuntime {
    let Some(result) = state::load_own_runtime_result(root) else {
        return OwnRuntime::NotChecked;
    };
    let now = state::fingerprint_exercises(root, course.before(result.level + 1));
    if now == result.exercises {
        OwnRuntime::Graded {
            level: result.level,
            first_failing: result.first_failing,
        }
    } else {
        OwnRuntime::Stale {
            level: result.level,
        }
    }
}

impl OwnRuntime {
    /// The line under the table.
    fn describe(&self, style: &Style, lessons: &[Row]) -> String {
        let name = |number: u8| {
            lessons.iter().find(|row| row.number == number).map_or_else(
                || format!("{number:02}"),
                |row| format!("{number:02} ({})", row.name),
            )
        };
        match *self {
            OwnRuntime::NotChecked => "Your own runtime (no solution code): not checked yet; \
                                       `just lesson N --mine` grades your lessons 00..N together."
                .to_string(),
            OwnRuntime::Graded {
                level,
                first_failing: None,
            } => format!(
                "Your own runtime, lessons 00..{level:02}: {} passes every check.",
                style.pass()
            ),
            OwnRuntime::Graded {
                level,
                first_failing: Some(lesson),
            } => format!(
                "Your own runtime, lessons 00..{level:02}: {} first failing lesson {}.",
                style.fail(),
                name(lesson)
            ),
            OwnRuntime::Stale { level } => format!(
                "Your own runtime, lessons 00..{level:02}: {} changed since its last check: \
                 run `just lesson {level} --mine`.",
                style.fail()
            ),
        }
    }
}

/// One line of the table.
#[derive(Debug, Clone)]
pub struct Row {
    pub number: u8,
    pub name: String,
    pub title: String,
    pub status: Status,
}

/// The status of every lesson of the course in the checkout at `root`.
pub fn gather(root: &Path, course: &Course) -> Vec<Row> {
    course
        .lessons
        .iter()
        .map(|lesson| Row {
            number: lesson.number,
            name: lesson.name.clone(),
            title: lesson.title.clone(),
            status: lesson_status(root, lesson),
        })
        .collect()
}

fn lesson_status(root: &Path, lesson: &Lesson) -> Status {
    let exercise = std::fs::read(root.join(lesson.exercise())).ok();
    let starting_version = stub::starting_version(root, lesson).ok();
    Status::derive(
        exercise.as_deref(),
        starting_version.as_ref().map(String::as_bytes),
        state::load_result(root, lesson).as_ref(),
    )
}

pub fn render(rows: &[Row], own_runtime: &OwnRuntime, style: &Style) -> String {
    // Widths in characters, not bytes: `format!` pads by characters.
    let name_width = rows
        .iter()
        .map(|row| row.name.chars().count())
        .max()
        .unwrap_or(0);
    let title_width = rows
        .iter()
        .map(|row| row.title.chars().count())
        .max()
        .unwrap_or(0);
    let mut text = String::from(
        "Your progress, from your last `just lesson N` of each lesson (nothing is re-run):\n\n",
    );
    for row in rows {
        text.push_str(&format!(
            "  {:02}  {:name_width$}  {:title_width$}  {}\n",
            row.number,
            row.name,
            row.title,
            row.status.describe(style, row.number),
        ));
    }
    text.push('\n');
    text.push_str(&own_runtime.describe(style, rows));
    text.push_str("\n\n");
    text.push_str(&match rows.iter().find(|row| !row.status.is_done()) {
        Some(next) => format!(
            "Next: lesson {:02} ({}). Read chapter {:02} (`just book`), then `just lesson {}`.\n",
            next.number, next.name, next.number, next.number
        ),
        None => "Every lesson is done: you have built a container runtime.\n".to_string(),
    });
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const STUB: &[u8] = b"fn spawn() { todo!() }";
    const EDITED: &[u8] = b"fn spawn() { clone() }";

    fn result(passed: bool, exercise: &[u8]) -> LessonResult {
        LessonResult {
            passed,
            own_passed: if passed { 6 } else { 2 },
            own_total: 6,
            exercise: state::fingerprint(exercise),
        }
    }

    #[test]
    fn the_untouched_stub_is_not_started_whatever_was_recorded() {
        assert_eq!(
            Status::derive(Some(STUB), Some(STUB), None),
            Status::NotStarted
        );
        let failed = result(false, STUB);
        assert_eq!(
            Status::derive(Some(STUB), Some(STUB), Some(&failed)),
            Status::NotStarted
        );
    }

    #[test]
    fn a_recorded_result_counts_only_for_the_file_it_graded() {
        let passed = result(true, EDITED);
        assert_eq!(
            Status::derive(Some(EDITED), Some(STUB), Some(&passed)),
            Status::Done
        );
        assert_eq!(
            Status::derive(Some(EDITED), Some(STUB), Some(&result(false, EDITED))),
            Status::Failing {
                own_passed: 2,
                own_total: 6
            }
        );
        let stale = result(true, b"an older version");
        assert_eq!(
            Status::derive(Some(EDITED), Some(STUB), Some(&stale)),
            Status::Stale
        );
        assert_eq!(
            Status::derive(Some(EDITED), Some(STUB), None),
            Status::Unchecked
        );
    }

    #[test]
    fn without_a_starting_version_only_the_record_speaks() {
        assert_eq!(Status::derive(Some(STUB), None, None), Status::Unchecked);
        assert_eq!(Status::derive(None, Some(STUB), None), Status::Missing);
    }

    fn row(number: u8, name: &str, title: &str, status: Status) -> Row {
        Row {
            number,
            name: name.into(),
            title: title.into(),
            status,
        }
    }

    #[test]
    fn the_table_names_every_lesson_and_the_next_one_to_do() {
        let rows = [
            row(0, "clone", "The container is a child process", Status::Done),
            row(
                1,
                "uts",
                "A hostname of its own",
                Status::Failing {
                    own_passed: 3,
                    own_total: 7,
                },
            ),
            row(2, "ipc", "Queues of its own", Status::Stale),
            row(3, "pid", "PID 1", Status::Unchecked),
            row(4, "mount", "Its own mounts", Status::NotStarted),
            row(5, "user", "Root inside", Status::Missing),
        ];
        let own = OwnRuntime::Graded {
            level: 3,
            first_failing: Some(1),
        };
        insta::assert_snapshot!(render(&rows, &own, &Style::plain()));
    }

    #[test]
    fn the_status_column_lines_up_whatever_the_characters_before_it() {
        let rows = [
            row(0, "clöne", "Ünïcode — before the mark", Status::Done),
            row(1, "uts", "Plain", Status::NotStarted),
        ];
        let table = render(&rows, &OwnRuntime::NotChecked, &Style::plain());
        // In characters, which is what a terminal shows: bytes would count
        // ö, Ü, ï, — and ✓ as two or three.
        let status_column = |marker: &str| {
            let line = table.lines().find(|line| line.contains(marker)).unwrap();
            line[..line.find(marker).unwrap()].chars().count()
        };
        assert_eq!(status_column("✓ done") + 2, status_column("not started"));
    }

    #[test]
    fn when_every_lesson_is_done_there_is_no_next_one() {
        let rows = [row(0, "clone", "A child", Status::Done)];
        let own = OwnRuntime::Graded {
            level: 0,
            first_failing: None,
        };
        let text = render(&rows, &own, &Style::plain());
        assert!(text.ends_with("you have built a container runtime.\n"));
        assert!(
            text.contains("lessons 00..00: ✓ passes every check"),
            "{text}"
        );
        let stale = render(&rows, &OwnRuntime::Stale { level: 0 }, &Style::plain());
        assert!(stale.contains("run `just lesson 0 --mine`"), "{stale}");
        let never = render(&rows, &OwnRuntime::NotChecked, &Style::plain());
        assert!(
            never.contains("not checked yet; `just lesson N --mine`"),
            "{never}"
        );
    }
}
