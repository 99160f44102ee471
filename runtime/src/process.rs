//! The contract of lesson 00: how a process is created, replaced, waited
//! for, and how its ending becomes an exit status.
//!
//! The core decides *when* each step happens (see `container.rs`); the
//! lesson decides *how*. Every composed binary uses exactly one `Process`.

use std::ffi::CString;

use nix::errno::Errno;
use nix::sched::{CloneCb, CloneFlags};
use nix::sys::signal::Signal;
use nix::sys::wait::WaitStatus;
use nix::unistd::Pid;

// ANCHOR: ending
/// How the command ended, as far as the exit status is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The command ran and called `exit(code)`.
    Exited(i32),
    /// The command was killed by a signal.
    Killed(Signal),
    /// `exec` failed, so the command never ran at all.
    NotStarted(Errno),
}

impl Ending {
    /// The ending a final `waitpid` status describes, if it is final.
    pub fn from_wait_status(status: WaitStatus) -> Option<Ending> {
        match status {
            WaitStatus::Exited(_, code) => Some(Ending::Exited(code)),
            WaitStatus::Signaled(_, signal, _) => Some(Ending::Killed(signal)),
            _ => None,
        }
    }
}
// ANCHOR_END: ending

// ANCHOR: process
pub trait Process: Sync {
    /// Create a child process with `clone(2)`, on a stack of its own, with
    /// the namespaces in `flags`. The child runs `child_main` and exits
    /// with its return value. Returns the child's PID as the parent sees it.
    fn spawn(&self, flags: CloneFlags, child_main: CloneCb<'_>) -> nix::Result<Pid>;

    /// Replace the current process with `command` and the environment
    /// `env`. A command without a `/` is searched for in this process's
    /// `PATH`, which the core has set to the container's. Returns only if
    /// that failed, with why.
    fn exec(&self, command: &[CString], env: &[CString]) -> Errno;

    /// Wait until `child` has ended and return its final wait status.
    fn wait(&self, child: Pid) -> nix::Result<WaitStatus>;

    /// Docker's exit-status rules: what `ending` means as a status 0..=255.
    fn exit_status(&self, ending: Ending) -> u8;
}
// ANCHOR_END: process
