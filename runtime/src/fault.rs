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

/// A named point in the life of a container.
#[cfg(debug_assertions)]
pub fn step(name: &str) {
    let Some(wanted) = std::env::var_os(STEP_VARIABLE) else {
        return;
    };
    if wanted == "list" {
        eprintln!("nslab-fault: step {name}");
    } else if wanted == name {
        eprintln!("nslab-fault: stopped at {name}");
        loop {
            nix::unistd::pause();
        }
    }
}

/// The step after the `k`-th lesson's `hook` (counting from 1).
#[cfg(debug_assertions)]
pub fn step_after(hook: &str, k: usize) {
    if std::env::var_os(STEP_VARIABLE).is_some() {
        step(&format!("{hook}-{}", k + 1));
    }
}

#[cfg(not(debug_assertions))]
#[inline(always)]
pub fn step(_name: &str) {}

#[cfg(not(debug_assertions))]
#[inline(always)]
pub fn step_after(_hook: &str, _k: usize) {}
