//! The checker behind `just lesson N`, `just solution N` and `just doctor`.
//!
//! * [`course`]: the course data (each `lessons/NN-name/info.toml`) and where each
//!   lesson's files are.
//! * [`harness`]: builds the checks and runs them one at a time.
//! * [`report`]: prints ✓ and ✗ with a hint and a book section.
//! * [`doctor`]: is this machine ready for the course?
//! * [`unprivileged`]: plain `cargo test` passes as `nobody`.
//! * [`rootfs`]: a minimal root filesystem for the container, offline.

pub mod course;
pub mod doctor;
pub mod harness;
pub mod report;
pub mod rootfs;
pub mod unprivileged;
