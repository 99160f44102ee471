//! The checks.
//!
//! * `lessonNN::*`: each lesson's privileged black-box checks. They run a
//!   real container binary with real tools inside and assert on what those
//!   tools print. `just lesson N` grades them one by one.
//! * `runtime_core::*`: the runtime core's own behaviour (command line,
//!   transcript, refusals); some run unprivileged.
//! * `reliability::*`: the runtime as a whole under abuse (bad inputs,
//!   kills at every step, signals, statuses, leaks); never graded as a
//!   lesson, always run against the reference binaries.
//! * `rough_edges::*`: what learners ran into (issue 13) stays gone: a
//!   changed course rootfs, a forgotten or killed lesson 06, `exec` into a
//!   half-built container, signals sent to `exec`; reference binaries.
//! * `course::*`: the course itself is consistent (hints, chapters,
//!   exercises match their solutions).
//! * `manifest::*`: the course manifest is the only list of lessons.
//!
//! Privileged checks are `#[ignore]`d so that plain `cargo test` passes as
//! any user; run them as root with `cargo test -- --ignored`.

mod course;
mod lesson00;
mod lesson01;
mod lesson02;
mod lesson03;
mod lesson04;
mod lesson05;
mod lesson06;
mod lesson07;
mod lesson08;
mod lesson09;
mod lesson10;
mod lesson11;
mod manifest;
mod properties;
mod reliability;
mod rough_edges;
mod runtime_core;
mod support;
