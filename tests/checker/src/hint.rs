//! `just hint N`: the lesson's hints, one more each time, so that a
//! learner takes only as much help as they need. They climb like a ladder:
//! the `hints` of its `info.toml` go from the idea to the system calls and
//! their flags; then, one rung per exercise, the solution's function as it
//! is compiled, cut from the solution's source by [`crate::stub`] (never a
//! copy that could rot). How many were shown is remembered in
//! [`crate::state`].

use std::path::Path;

use crate::course::Lesson;
use crate::report::{Style, wrap};
use crate::{state, stub};

/// One hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rung {
    /// Words, wrapped to the terminal.
    Text(String),
    /// An exercise's function from the solution, shown as it is.
    Code { function: String, source: String },
}

/// Every hint of `lesson`, in order: its words, then its solution's code.
pub fn ladder(root: &Path, lesson: &Lesson) -> Result<Vec<Rung>, String> {
    let path = lesson.solution();
    let solution = std::fs::read_to_string(root.join(&path))
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut rungs: Vec<Rung> = lesson.hints.iter().cloned().map(Rung::Text).collect();
    for exercise in &lesson.exercises {
        rungs.push(Rung::Code {
            function: exercise.function.clone(),
            source: stub::solution_function(&solution, exercise)
                .map_err(|e| format!("{}: {e}", path.display()))?,
        });
    }
    Ok(rungs)
}

/// What `just hint N` does, given how many hints were shown before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step<'a> {
    /// Show hint `index` (counting from 0) of `total`.
    Show {
        index: usize,
        total: usize,
        rung: &'a Rung,
    },
    /// Every hint was shown already.
    NoMore { total: usize },
}

pub fn next(hints: &[Rung], shown: usize) -> Step<'_> {
    match hints.get(shown) {
        Some(rung) => Step::Show {
            index: shown,
            total: hints.len(),
            rung,
        },
        None => Step::NoMore { total: hints.len() },
    }
}

pub fn render(step: &Step, lesson: &Lesson, style: &Style) -> String {
    let number = lesson.number;
    match step {
        Step::Show { index, total, rung } => {
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
                show(rung, lesson),
            )
        }
        Step::NoMore { total } => format!(
            "You have seen all {total} hints of lesson {number:02}. \
             `just hint {number} --again` shows them again from the first, and each \
             failing check of `just lesson {number}` comes with a hint of its own.\n"
        ),
    }
}

fn show(rung: &Rung, lesson: &Lesson) -> String {
    match rung {
        Rung::Text(text) => wrap(text, 76, "  "),
        Rung::Code { function, source } => {
            let code: Vec<String> = source.lines().map(|line| format!("    {line}")).collect();
            format!(
                "  The solution's `{function}`, as {} has it:\n\n{}",
                lesson.solution().display(),
                code.join("\n")
            )
        }
    }
}

/// Show the next hint of `lesson` and remember it; with `again`, start over.
pub fn run(root: &Path, lesson: &Lesson, again: bool, style: &Style) -> Result<(), String> {
    let shown = if again {
        0
    } else {
        state::hints_shown(root, lesson)
    };
    let hints = ladder(root, lesson)?;
    let step = next(&hints, shown);
    print!("{}", render(&step, lesson, style));
    if let Step::Show { index, .. } = step {
        state::save_hints_shown(root, lesson, index + 1)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::course::{Course, repo_root};

    fn lesson() -> Lesson {
        Lesson {
            number: 1,
            name: "uts".into(),
            title: "A hostname of its own".into(),
            hints: vec![],
            exercises: vec![],
            checks: vec![],
        }
    }

    #[test]
    fn hints_come_one_at_a_time_then_say_there_are_no_more() {
        let lesson = lesson();
        let hints = [Rung::Text("first".into()), Rung::Text("second".into())];
        let render = |shown| render(&next(&hints, shown), &lesson, &Style::plain());
        assert_eq!(
            render(0),
            "Hint 1 of 2 for lesson 01 (uts):\n\n  first\n\n`just hint 1` shows the next one.\n"
        );
        assert!(render(1).contains("Hint 2 of 2") && render(1).contains("the last one"));
        assert!(render(2).starts_with("You have seen all 2 hints of lesson 01."));
        assert!(render(2).contains("`just hint 1 --again`"));
    }

    /// The last rungs are the solution's functions, cut from its source,
    /// shown whole and unwrapped, one per exercise.
    #[test]
    fn the_last_rungs_show_each_exercise_as_the_solution_has_it() {
        let root = repo_root();
        let course = Course::load(&root).unwrap();
        let uts = course.lesson(1).unwrap();
        let ladder = ladder(&root, uts).unwrap();
        assert_eq!(ladder.len(), uts.hints.len() + uts.exercises.len());
        let last = &ladder[ladder.len() - 1];
        let Rung::Code { function, source } = last else {
            panic!("the last rung is code: {last:?}");
        };
        assert_eq!(function, "UtsNamespace::in_child");
        let solution = std::fs::read_to_string(root.join(uts.solution())).unwrap();
        assert!(source.starts_with("fn in_child("), "{source}");
        let indented: String = source.lines().map(|l| format!("    {l}\n")).collect();
        assert!(solution.contains(&indented), "cut from the source as it is");
        let shown = render(&next(&ladder, ladder.len() - 1), uts, &Style::plain());
        assert!(
            shown.contains("\n        sethostname(&run.config.hostname)"),
            "{shown}"
        );
    }
}
