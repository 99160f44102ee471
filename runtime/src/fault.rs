//! Fault injection for the reliability suite, in debug builds only.
//!
//! With `NSLAB_FAULT_STEP=<step>` the runtime stops at that step, says so
//! on stderr (`nslab-fault: stopped at <step>`) and waits to be killed, so
//! a test can SIGKILL it at exactly that point and then check that
//! `just clean` leaves nothing behind. `NSLAB_FAULT_STEP=list` names every
//! step as it passes it instead, which is how a test learns the steps of a
//! given configuration.
//!
//! The tests and `just run` use debug builds; release builds (the ones
//! `just bench` measures) compile every step away. A cargo feature would
//! say "test builds only" more literally, but `cargo test` and
//! `cargo build` would then rebuild each other's binaries at every turn of
//! the learner's loop.

/// The environment variable that names the step to stop at.
pub const STEP_VARIABLE: &str = "NSLAB_FAULT_STEP";

/// The environment variable that names a lesson hook the core skips, as
/// `cleanup-6`: a lesson 06 whose `cleanup` forgot everything, without
/// compiling one (issue 13's check that `just clean` and the next run
/// cope with what it leaves).
pub const SKIP_VARIABLE: &str = "NSLAB_FAULT_SKIP";

/// A named point in the life of a container.
#[cfg(debug_assertions)]
pub fn step(name: &str) {
    let Some(wanted) = std::env::var_os(STEP_VARIABLE) else {
        return;
    };
    if wanted == "list" {
        say(&format!("nslab-fault: step {name}\n"));
    } else if wanted == name {
        say(&format!("nslab-fault: stopped at {name}\n"));
        loop {
            nix::unistd::pause();
        }
    }
}

/// One line on stderr in one `write`: the runtime and the container share
/// stderr and pass their steps at the same moment, and `eprintln!` may
/// write a line in pieces, which the two would interleave.
#[cfg(debug_assertions)]
fn say(line: &str) {
    use std::io::Write;
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// The step after the `k`-th lesson's `hook` (counting from 1).
#[cfg(debug_assertions)]
pub fn step_after(hook: &str, k: usize) {
    if std::env::var_os(STEP_VARIABLE).is_some() {
        step(&format!("{hook}-{}", k + 1));
    }
}

/// Whether to skip the `k`-th lesson's `hook` (counting from 1), as
/// [`SKIP_VARIABLE`] says.
#[cfg(debug_assertions)]
pub fn skipped(hook: &str, k: usize) -> bool {
    std::env::var(SKIP_VARIABLE).is_ok_and(|skip| skip == format!("{hook}-{}", k + 1))
}

#[cfg(not(debug_assertions))]
#[inline(always)]
pub fn skipped(_hook: &str, _k: usize) -> bool {
    false
}

#[cfg(not(debug_assertions))]
#[inline(always)]
pub fn step(_name: &str) {}

#[cfg(not(debug_assertions))]
#[inline(always)]
pub fn step_after(_hook: &str, _k: usize) {}
