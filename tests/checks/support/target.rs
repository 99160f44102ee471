//! Which binary the checks run.
//!
//! By default each lesson's checks run against that lesson's reference
//! solution. `just lesson N` sets `NSLAB_BINARY=lesson-NN`, so the checks
//! of lessons 0..=N all run against the learner's `lesson-NN` (`just
//! solution N` does the same with `solution-NN`, `just lesson N --mine`
//! with `mine-NN`). The binaries and their names are the runtime's
//! [`Binary`], from the course manifest.

use std::path::{Path, PathBuf};

use nslab_checker::harness::{BINARY_DIR_VARIABLE, BINARY_VARIABLE};
pub use nslab_runtime::{Binary, Flavour};

/// The binary that runs the checks of `lesson`.
pub fn for_check(lesson: u8) -> Binary {
    let Ok(name) = std::env::var(BINARY_VARIABLE) else {
        return Binary::new(Flavour::Solution, lesson);
    };
    let binary = Binary::parse(&name).unwrap_or_else(|| {
        panic!("{BINARY_VARIABLE} must name a binary of the course, like lesson-04, not {name:?}")
    });
    assert!(
        binary.level >= lesson,
        "lesson {lesson:02}'s checks need a binary from lesson {lesson:02} or later, not {binary}"
    );
    binary
}

/// The binary called `name`, for checks about one specific binary.
pub fn by_name(name: &str) -> Binary {
    Binary::parse(name).unwrap_or_else(|| panic!("there is no binary called {name}"))
}

/// Where cargo built `binary`: beside every other binary of the package,
/// which cargo builds before it runs these checks; or in the directory
/// `NSLAB_BINARY_DIR` names (`just mutants` builds each mistake in a
/// scratch copy of the course, and runs these checks on it).
pub fn path(binary: &Binary) -> PathBuf {
    if let Some(dir) = std::env::var_os(BINARY_DIR_VARIABLE) {
        return binary.path_in(Path::new(&dir));
    }
    let any_binary = Path::new(env!("CARGO_BIN_EXE_solution-00"));
    binary.path_in(any_binary.parent().expect("cargo's output directory"))
}
