//! The course's binaries, composed from the runtime core and the lessons.
//!
//! * `lesson-NN`: the reference solutions below NN plus the learner's
//!   exercise NN, so every lesson starts from a working container.
//! * `solution-NN`: the reference solutions up to NN.
//!
//! To add a lesson, add its exercise and solution to the two tables below
//! and two files under `src/bin/`.

use std::process::ExitCode;

use nslab_runtime::{Binary, Flavour, Namespace, Parts, Process};

/// Lesson 00 is the process itself, not a namespace.
const EXERCISE_PROCESS: &dyn Process = &lesson_00_clone::CloneProcess;
const SOLUTION_PROCESS: &dyn Process = &solution_00_clone::CloneProcess;

/// Lessons 01 and later, in order: index 0 is lesson 01.
const EXERCISE_NAMESPACES: &[&dyn Namespace] = &[
    &lesson_01_uts::UtsNamespace,
    &lesson_02_ipc::IpcNamespace,
    &lesson_03_pid::PidNamespace,
    &lesson_04_mount::MountNamespace,
];
const SOLUTION_NAMESPACES: &[&dyn Namespace] = &[
    &solution_01_uts::UtsNamespace,
    &solution_02_ipc::IpcNamespace,
    &solution_03_pid::PidNamespace,
    &solution_04_mount::MountNamespace,
];

/// The highest lesson number.
pub const LAST_LESSON: u8 = SOLUTION_NAMESPACES.len() as u8;

/// Whose code a binary uses for one lesson.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Exercise,
    Solution,
}

/// Whose code `binary` uses for each lesson, from 00 to its level: the
/// learner's for its own lesson if it is an exercise, else the solution's.
pub fn sources(binary: Binary) -> Vec<Source> {
    (0..=binary.level)
        .map(|lesson| match binary.flavour {
            Flavour::Exercise if lesson == binary.level => Source::Exercise,
            _ => Source::Solution,
        })
        .collect()
}

/// What `binary` is made of.
pub fn parts(binary: Binary) -> Parts {
    let sources = sources(binary);
    let process = match sources[0] {
        Source::Exercise => EXERCISE_PROCESS,
        Source::Solution => SOLUTION_PROCESS,
    };
    let namespaces = sources[1..]
        .iter()
        .zip(EXERCISE_NAMESPACES.iter().zip(SOLUTION_NAMESPACES))
        .map(|(source, (exercise, solution))| match source {
            Source::Exercise => *exercise,
            Source::Solution => *solution,
        })
        .collect();
    Parts {
        binary,
        process,
        namespaces,
    }
}

/// `main` of `lesson-NN`.
pub fn exercise(level: u8) -> ExitCode {
    run(Flavour::Exercise, level)
}

/// `main` of `solution-NN`.
pub fn solution(level: u8) -> ExitCode {
    run(Flavour::Solution, level)
}

fn run(flavour: Flavour, level: u8) -> ExitCode {
    nslab_runtime::main(parts(Binary { flavour, level }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_tables_cover_every_lesson() {
        assert_eq!(EXERCISE_NAMESPACES.len(), SOLUTION_NAMESPACES.len());
    }

    #[test]
    fn a_lesson_binary_takes_only_its_own_lesson_from_the_learner() {
        use Source::*;
        let at = |flavour, level| sources(Binary { flavour, level });
        assert_eq!(at(Flavour::Exercise, 0), [Exercise]);
        assert_eq!(
            at(Flavour::Exercise, 3),
            [Solution, Solution, Solution, Exercise]
        );
        assert_eq!(at(Flavour::Solution, 3), [Solution; 4]);
        for level in 0..=LAST_LESSON {
            let binary = Binary {
                flavour: Flavour::Exercise,
                level,
            };
            assert_eq!(parts(binary).namespaces.len(), usize::from(level));
        }
    }
}
