//! `just hint N`: the lesson's hints from its `info.toml`, one more each
//! time, so that a learner takes only as much help as they need. How many
//! were shown is remembered in [`crate::state`].

use std::path::Path;

use crate::course::Lesson;
use crate::report::{Style, wrap};
use crate::state;

/// What `just hint N` does, given how many hints were shown before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step<'a> {
    /// Show hint `index` (counting from 0) of `total`.
    Show {
        index: usize,
        total: usize,
        text: &'a str,
    },
    /// Every hint was shown already.
    NoMore { total: usize },
}

pub fn next(hints: &[String], shown: usize) -> Step<'_> {
    match hints.get(shown) {
        Some(text) => Step::Show {
            index: shown,
            total: hints.len(),
            text,
        },
        None => Step::NoMore { total: hints.len() },
    }
}

pub fn render(step: &Step, lesson: &Lesson, style: &Style) -> String {
    let number = lesson.number;
    match step {
        Step::Show { index, total, text } => {
            let after = if index + 1 < *total {
                format!("`just hint {number}` shows the next one.")
            } else {
                "That was the last one.".to_string()
            };
            format!(
                "{}\n\n{}\n\n{after}\n",
                style.bold(&format!(
                    "Hint {} of {total} for lesson {number:02} ({}):",
                    index + 1,
                    lesson.name
                )),
                wrap(text, 76, "  "),
            )
        }
        Step::NoMore { total } => format!(
            "You have seen all {total} hints of lesson {number:02}. \
             `just hint {number} --again` shows them again from the first, and each \
             failing check of `just lesson {number}` comes with a hint of its own.\n"
        ),
    }
}

/// Show the next hint of `lesson` and remember it; with `again`, start over.
pub fn run(root: &Path, lesson: &Lesson, again: bool, style: &Style) -> Result<(), String> {
    let shown = if again {
        0
    } else {
        state::hints_shown(root, lesson)
    };
    let step = next(&lesson.hints, shown);
    print!("{}", render(&step, lesson, style));
    if let Step::Show { index, .. } = step {
        state::save_hints_shown(root, lesson, index + 1)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lesson(hints: &[&str]) -> Lesson {
        Lesson {
            number: 1,
            name: "uts".into(),
            title: "A hostname of its own".into(),
            hints: hints.iter().map(|h| h.to_string()).collect(),
            checks: vec![],
        }
    }

    #[test]
    fn hints_come_one_at_a_time_then_say_there_are_no_more() {
        let lesson = lesson(&["first", "second"]);
        let render = |shown| render(&next(&lesson.hints, shown), &lesson, &Style::plain());
        assert_eq!(
            render(0),
            "Hint 1 of 2 for lesson 01 (uts):\n\n  first\n\n`just hint 1` shows the next one.\n"
        );
        assert!(render(1).contains("Hint 2 of 2") && render(1).contains("the last one"));
        assert!(render(2).starts_with("You have seen all 2 hints of lesson 01."));
        assert!(render(2).contains("`just hint 1 --again`"));
    }
}
