//! The checker behind the justfile's learner recipes: `just lesson N`,
//! `just solution N`, `just progress`, `just watch N`, `just hint N`,
//! `just reset N`, `just doctor` and the self-test.
//!
//! * [`course`]: the course data (each `lessons/NN-name/info.toml`) and where each
//!   lesson's files are.
//! * [`harness`]: builds the checks and runs them one at a time.
//! * [`check`]: grades a lesson, check by check.
//! * [`mine`]: grades the learner's own runtime, lessons 00..N (`--mine`).
//! * [`report`]: prints ✓ and ✗ with a hint and a book section.
//! * [`advice`]: clippy's advice on the learner's file, after the checks.
//! * [`book`]: the book's code blocks, includes, links and tables, for the course checks.
//! * [`state`]: what the checker remembers between runs, under `target/nslab/`.
//! * [`stub`]: the starting version of an exercise, generated from its solution.
//! * [`stubs`]: `just stubs [--check]`, every lesson's stub written or checked.
//! * [`mutants`]: `just mutants N`, each catalogued learner mistake made and caught.
//! * [`explore`]: `just mutants-explore N`, cargo-mutants' mutants of a solution, checked.
//! * [`progress`], [`watch`], [`hint`], [`reset`]: the learner's loop.
//! * [`doctor`]: is this machine ready for the course?
//! * [`unprivileged`]: plain `cargo test` passes as `nobody`.
//! * [`rootfs`]: a minimal root filesystem for the container, offline.
//! * [`bench`]: `just bench`, the runtime beside its peers with hyperfine.

pub mod advice;
pub mod bench;
pub mod book;
pub mod check;
pub mod course;
pub mod doctor;
pub mod explore;
pub mod harness;
pub mod hint;
pub mod language;
pub mod mine;
pub mod mutants;
pub mod progress;
pub mod report;
pub mod reset;
pub mod rootfs;
pub mod state;
pub mod stub;
pub mod stubs;
pub mod unprivileged;
pub mod watch;
