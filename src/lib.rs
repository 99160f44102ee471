//! The course's binaries, composed from the runtime core and the lessons.
//!
//! Every file in `src/bin/` (and in `mine/src/bin/`, the `nslab-mine`
//! package) is the same one line: it hands its own name (`lesson-04`,
//! `solution-04`, `mine-04`) to [`main`], which reads it back as a
//! [`Binary`] of the course manifest
//! ([`nslab_runtime::course::LESSONS`]) and picks each lesson's crate
//! from [`COMPOSITION`]:
//!
//! * `lesson-NN`: the reference solutions below NN plus the learner's
//!   exercise NN, so every lesson starts from a working container.
//! * `solution-NN`: the reference solutions up to NN.
//! * `mine-NN`: the learner's own exercises 00 to NN, no solution code.

use std::process::ExitCode;

use nslab_runtime::course::{LESSONS, Part, Source};
use nslab_runtime::oci::Oci;
use nslab_runtime::{Binary, Join, Namespace, Parts, Process};

/// What one lesson's crate gives the core: the contracts of its
/// manifest entry's `adds`.
#[derive(Clone, Copy)]
pub struct Contracts {
    pub process: Option<&'static dyn Process>,
    pub namespace: Option<&'static dyn Namespace>,
    pub join: Option<&'static dyn Join>,
    pub oci: Option<&'static dyn Oci>,
}

const NONE: Contracts = Contracts {
    process: None,
    namespace: None,
    join: None,
    oci: None,
};

const fn process(process: &'static dyn Process) -> Contracts {
    Contracts {
        process: Some(process),
        ..NONE
    }
}

const fn namespace(namespace: &'static dyn Namespace) -> Contracts {
    Contracts {
        namespace: Some(namespace),
        ..NONE
    }
}

const fn namespace_and_join<T: Namespace + Join>(both: &'static T) -> Contracts {
    Contracts {
        namespace: Some(both),
        join: Some(both),
        ..NONE
    }
}

const fn oci(oci: &'static dyn Oci) -> Contracts {
    Contracts {
        oci: Some(oci),
        ..NONE
    }
}

/// Each lesson's two crates, the learner's and the reference, in the
/// manifest's order. This table cannot be derived (it names crates and
/// types); a test below holds it to the manifest.
pub const COMPOSITION: &[(Contracts, Contracts)] = &[
    (
        process(&lesson_00_clone::CloneProcess),
        process(&solution_00_clone::CloneProcess),
    ),
    (
        namespace(&lesson_01_uts::UtsNamespace),
        namespace(&solution_01_uts::UtsNamespace),
    ),
    (
        namespace(&lesson_02_ipc::IpcNamespace),
        namespace(&solution_02_ipc::IpcNamespace),
    ),
    (
        namespace(&lesson_03_pid::PidNamespace),
        namespace(&solution_03_pid::PidNamespace),
    ),
    (
        namespace(&lesson_04_mount::MountNamespace),
        namespace(&solution_04_mount::MountNamespace),
    ),
    (
        namespace(&lesson_05_user::UserNamespace),
        namespace(&solution_05_user::UserNamespace),
    ),
    (
        namespace(&lesson_06_net::NetNamespace),
        namespace(&solution_06_net::NetNamespace),
    ),
    (
        namespace_and_join(&lesson_07_join::JoinNamespaces),
        namespace_and_join(&solution_07_join::JoinNamespaces),
    ),
    (
        namespace(&lesson_08_cgroup::CgroupNamespace),
        namespace(&solution_08_cgroup::CgroupNamespace),
    ),
    (
        namespace(&lesson_09_time::TimeNamespace),
        namespace(&solution_09_time::TimeNamespace),
    ),
    (
        namespace(&lesson_10_harden::Harden),
        namespace(&solution_10_harden::Harden),
    ),
    (
        oci(&lesson_11_oci::OciRuntime),
        oci(&solution_11_oci::OciRuntime),
    ),
];

/// What `binary` is made of: lesson 00's process, in lesson order every
/// namespace up to its level, and the latest way in, each from the crate
/// [`Binary::source`] says.
pub fn parts(binary: Binary) -> Parts {
    let contracts: Vec<Contracts> = COMPOSITION
        .iter()
        .take(usize::from(binary.level) + 1)
        .enumerate()
        .map(|(lesson, &(exercise, solution))| {
            let lesson = u8::try_from(lesson).expect("fewer than 256 lessons");
            match binary.source(lesson) {
                Source::Exercise => exercise,
                Source::Solution => solution,
            }
        })
        .collect();
    Parts {
        binary,
        process: contracts
            .iter()
            .find_map(|c| c.process)
            .expect("lesson 00 gives the process"),
        namespaces: contracts.iter().filter_map(|c| c.namespace).collect(),
        join: contracts.iter().rev().find_map(|c| c.join),
        oci: contracts.iter().find_map(|c| c.oci),
    }
}

/// `main` of every binary in `src/bin/`, given the binary's own name.
pub fn main(name: &str) -> ExitCode {
    let binary = Binary::parse(name).unwrap_or_else(|| {
        panic!("src/bin/{name}.rs is not a binary of the course manifest (runtime/src/course.rs)")
    });
    nslab_runtime::main(parts(binary))
}

/// The contracts a row of [`COMPOSITION`] fills, as the manifest names them.
pub fn filled(contracts: &Contracts) -> Vec<Part> {
    [
        (contracts.process.is_some(), Part::Process),
        (contracts.namespace.is_some(), Part::Namespace),
        (contracts.join.is_some(), Part::Join),
        (contracts.oci.is_some(), Part::Oci),
    ]
    .into_iter()
    .filter_map(|(filled, part)| filled.then_some(part))
    .collect()
}

/// Why [`COMPOSITION`] disagrees with the manifest, one line per problem.
pub fn composition_problems() -> Vec<String> {
    let mut problems = Vec::new();
    for (index, lesson) in LESSONS.iter().enumerate() {
        let crate_name = lesson.dir_name().replace('-', "_");
        let Some((exercise, solution)) = COMPOSITION.get(index) else {
            problems.push(format!(
                "src/lib.rs: COMPOSITION has no row for {lesson}: add one with \
                 lesson_{crate_name}'s and solution_{crate_name}'s {:?}",
                lesson.adds
            ));
            continue;
        };
        for (whose, contracts) in [("exercise", exercise), ("solution", solution)] {
            let filled = filled(contracts);
            if filled != lesson.adds {
                problems.push(format!(
                    "src/lib.rs: COMPOSITION gives {lesson}'s {whose} {filled:?}, \
                     but the manifest says it adds {:?}",
                    lesson.adds
                ));
            }
        }
    }
    for extra in LESSONS.len()..COMPOSITION.len() {
        problems.push(format!(
            "src/lib.rs: COMPOSITION's row {extra} has no lesson {extra:02} in runtime/src/course.rs"
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_composition_table_follows_the_manifest() {
        let problems = composition_problems();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn every_binary_has_one_process_a_namespace_per_lesson_and_join_from_its_lesson() {
        for binary in Binary::all() {
            let parts = parts(binary);
            let so_far = &LESSONS[..=usize::from(binary.level)];
            let count = |part| so_far.iter().filter(|l| l.adds.contains(&part)).count();
            assert_eq!(parts.namespaces.len(), count(Part::Namespace), "{binary}");
            assert_eq!(parts.join.is_some(), count(Part::Join) > 0, "{binary}");
        }
    }
}
