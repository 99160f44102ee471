//! The course's binaries, composed from the runtime core and the lessons.
//!
//! * `lesson-NN`: the reference solutions below NN plus the learner's
//!   exercise NN, so every lesson starts from a working container.
//! * `solution-NN`: the reference solutions up to NN.
//!
//! To add a lesson, add its exercise and solution to the two tables below
//! and two files under `src/bin/`.

use std::process::ExitCode;

use nslab_runtime::{Binary, Flavour, Join, Namespace, Parts, Process};

/// Lesson 00 is the process itself, not a namespace.
const EXERCISE_PROCESS: &dyn Process = &lesson_00_clone::CloneProcess;
const SOLUTION_PROCESS: &dyn Process = &solution_00_clone::CloneProcess;

/// Lessons 01 and later, each with its number.
const EXERCISE_NAMESPACES: &[(u8, &dyn Namespace)] = &[
    (1, &lesson_01_uts::UtsNamespace),
    (2, &lesson_02_ipc::IpcNamespace),
    (3, &lesson_03_pid::PidNamespace),
    (4, &lesson_04_mount::MountNamespace),
    (5, &lesson_05_user::UserNamespace),
    (6, &lesson_06_net::NetNamespace),
    (7, &lesson_07_join::JoinNamespaces),
    (8, &lesson_08_cgroup::CgroupNamespace),
];
const SOLUTION_NAMESPACES: &[(u8, &dyn Namespace)] = &[
    (1, &solution_01_uts::UtsNamespace),
    (2, &solution_02_ipc::IpcNamespace),
    (3, &solution_03_pid::PidNamespace),
    (4, &solution_04_mount::MountNamespace),
    (5, &solution_05_user::UserNamespace),
    (6, &solution_06_net::NetNamespace),
    (7, &solution_07_join::JoinNamespaces),
    (8, &solution_08_cgroup::CgroupNamespace),
];

/// The way into a running container (`exec`), from lesson 07 on.
const JOIN_LESSON: u8 = 7;
const EXERCISE_JOIN: &dyn Join = &lesson_07_join::JoinNamespaces;
const SOLUTION_JOIN: &dyn Join = &solution_07_join::JoinNamespaces;

/// The highest lesson number.
pub const LAST_LESSON: u8 = SOLUTION_NAMESPACES[SOLUTION_NAMESPACES.len() - 1].0;

/// Whose code a binary uses for one lesson.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Exercise,
    Solution,
}

/// Whose code `binary` uses for `lesson`: the learner's for its own
/// lesson if it is an exercise, else the solution's.
pub fn source(binary: Binary, lesson: u8) -> Source {
    match binary.flavour {
        Flavour::Exercise if lesson == binary.level => Source::Exercise,
        _ => Source::Solution,
    }
}

/// What `binary` is made of: lesson 00's process, in lesson order every
/// namespace lesson up to its level, and lesson 07's way in.
pub fn parts(binary: Binary) -> Parts {
    let process = match source(binary, 0) {
        Source::Exercise => EXERCISE_PROCESS,
        Source::Solution => SOLUTION_PROCESS,
    };
    let namespaces = EXERCISE_NAMESPACES
        .iter()
        .zip(SOLUTION_NAMESPACES)
        .take_while(|((lesson, _), _)| *lesson <= binary.level)
        .map(
            |(&(lesson, exercise), &(_, solution))| match source(binary, lesson) {
                Source::Exercise => exercise,
                Source::Solution => solution,
            },
        )
        .collect();
    let join = (binary.level >= JOIN_LESSON).then(|| match source(binary, JOIN_LESSON) {
        Source::Exercise => EXERCISE_JOIN,
        Source::Solution => SOLUTION_JOIN,
    });
    Parts {
        binary,
        process,
        namespaces,
        join,
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
    fn both_tables_list_the_same_lessons_in_order() {
        let numbers =
            |table: &[(u8, &dyn Namespace)]| table.iter().map(|(n, _)| *n).collect::<Vec<_>>();
        let exercises = numbers(EXERCISE_NAMESPACES);
        assert_eq!(exercises, numbers(SOLUTION_NAMESPACES));
        assert!(
            exercises.windows(2).all(|pair| pair[0] < pair[1]),
            "{exercises:?}"
        );
    }

    #[test]
    fn a_lesson_binary_takes_only_its_own_lesson_from_the_learner() {
        let exercise = |level| Binary {
            flavour: Flavour::Exercise,
            level,
        };
        let solution = |level| Binary {
            flavour: Flavour::Solution,
            level,
        };
        assert_eq!(source(exercise(0), 0), Source::Exercise);
        assert_eq!(source(exercise(3), 3), Source::Exercise);
        assert_eq!(source(exercise(3), 2), Source::Solution);
        assert_eq!(source(solution(3), 3), Source::Solution);
        for level in 0..=LAST_LESSON {
            let lessons_below = SOLUTION_NAMESPACES
                .iter()
                .filter(|(lesson, _)| *lesson <= level)
                .count();
            assert_eq!(parts(exercise(level)).namespaces.len(), lessons_below);
        }
    }
}
