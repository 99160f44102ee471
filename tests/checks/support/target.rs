//! Which binary the checks run.
//!
//! By default each lesson's checks run against that lesson's reference
//! solution. `just lesson N` sets `NSLAB_FLAVOUR=lesson` and
//! `NSLAB_LEVEL=N`, so the checks of lessons 0..=N all run against the
//! learner's `lesson-NN` (`just solution N` does the same with
//! `solution-NN`).

use std::env;

/// Every binary cargo builds for these checks.
const BINARIES: &[(&str, &str)] = &[
    ("lesson-00", env!("CARGO_BIN_EXE_lesson-00")),
    ("lesson-01", env!("CARGO_BIN_EXE_lesson-01")),
    ("lesson-02", env!("CARGO_BIN_EXE_lesson-02")),
    ("lesson-03", env!("CARGO_BIN_EXE_lesson-03")),
    ("lesson-04", env!("CARGO_BIN_EXE_lesson-04")),
    ("lesson-05", env!("CARGO_BIN_EXE_lesson-05")),
    ("lesson-06", env!("CARGO_BIN_EXE_lesson-06")),
    ("lesson-07", env!("CARGO_BIN_EXE_lesson-07")),
    ("lesson-08", env!("CARGO_BIN_EXE_lesson-08")),
    ("solution-00", env!("CARGO_BIN_EXE_solution-00")),
    ("solution-01", env!("CARGO_BIN_EXE_solution-01")),
    ("solution-02", env!("CARGO_BIN_EXE_solution-02")),
    ("solution-03", env!("CARGO_BIN_EXE_solution-03")),
    ("solution-04", env!("CARGO_BIN_EXE_solution-04")),
    ("solution-05", env!("CARGO_BIN_EXE_solution-05")),
    ("solution-06", env!("CARGO_BIN_EXE_solution-06")),
    ("solution-07", env!("CARGO_BIN_EXE_solution-07")),
    ("solution-08", env!("CARGO_BIN_EXE_solution-08")),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `lesson` or `solution`.
    pub flavour: String,
    /// The lesson the binary goes up to.
    pub level: u8,
}

impl Target {
    /// The binary that runs the checks of `lesson`.
    pub fn for_check(lesson: u8) -> Target {
        let flavour = env::var("NSLAB_FLAVOUR").unwrap_or_else(|_| "solution".into());
        assert!(
            flavour == "lesson" || flavour == "solution",
            "NSLAB_FLAVOUR must be `lesson` or `solution`, not {flavour:?}"
        );
        let level = match env::var("NSLAB_LEVEL") {
            Ok(level) => level
                .parse()
                .unwrap_or_else(|_| panic!("NSLAB_LEVEL must be a lesson number, not {level:?}")),
            Err(_) => lesson,
        };
        assert!(
            level >= lesson,
            "lesson {lesson:02}'s checks need a binary from lesson {lesson:02} or later, not {level:02}"
        );
        Target { flavour, level }
    }

    /// The binary's name, e.g. `lesson-04`.
    pub fn name(&self) -> String {
        format!("{}-{:02}", self.flavour, self.level)
    }

    pub fn path(&self) -> &'static str {
        binary_path(&self.name())
    }
}

/// The path of a binary by name, for checks about one specific binary.
pub fn binary_path(name: &str) -> &'static str {
    BINARIES
        .iter()
        .find(|(binary, _)| *binary == name)
        .map(|(_, path)| *path)
        .unwrap_or_else(|| panic!("there is no binary called {name}"))
}

/// Every binary's name.
pub fn binary_names() -> impl Iterator<Item = &'static str> {
    BINARIES.iter().map(|(name, _)| *name)
}
