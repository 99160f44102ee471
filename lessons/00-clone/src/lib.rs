//! Lesson 00: clone.
//!
//! A container starts life as an ordinary child process. Create it the way
//! the articles' C programs do: `clone(2)` a child onto a stack of its own,
//! replace it with the command (`exec`), wait for it, and turn how it ended
//! into an exit status, following Docker's rules.
//!
//! The runtime core (`runtime/src/container.rs`) decides when each of these
//! runs; this file decides how.

use std::ffi::CString;

use nix::sys::wait::waitpid;
use nix::unistd::execvpe;
use nslab_runtime::{CloneCb, CloneFlags, Ending, Errno, Pid, Process, Signal, WaitStatus};

/// Size of the child's stack. The child only runs the runtime's setup code
/// on it before `exec` replaces its whole memory, so 1 MiB (as in the
/// articles) is plenty. Pages nobody touches cost nothing.
pub const STACK_SIZE: usize = 1024 * 1024;

/// Exit status when the command was not found (Docker and shells agree).
pub const NOT_FOUND: u8 = 127;
/// Exit status when the command exists but could not be executed.
pub const CANNOT_EXECUTE: u8 = 126;

pub struct CloneProcess;

impl Process for CloneProcess {
    // ANCHOR: spawn
    /// Create the child with `clone(2)` on a stack of its own.
    fn spawn(&self, flags: CloneFlags, child_main: CloneCb<'_>) -> nix::Result<Pid> {
        // Book: chapter 00, "Exercise: spawn". A child must start running
        // `child_main` in the new namespaces `flags` asks for, on memory of its
        // own, and the parent must be told when it ends, the way it is told of
        // any child it forks, because the core waits for it. The call is
        // `unsafe`: write the `// SAFETY:` comment that says why it is sound
        // here.
        todo!("start the child on a stack of its own")
    }
    // ANCHOR_END: spawn

    // ANCHOR: exec
    /// Become the command. `execvpe` searches `PATH` like a shell does
    /// (the core has set it to the container's) and gives the command
    /// exactly the environment `env`.
    fn exec(&self, command: &[CString], env: &[CString]) -> Errno {
        // Book: chapter 00, "Exercise: exec". This process must become the
        // command, found on the container's PATH and given exactly `env`.
        // Success leaves nothing to return to, so what comes back is the reason
        // it failed.
        todo!("replace this process with the command")
    }
    // ANCHOR_END: exec

    // ANCHOR: wait
    /// Wait for the child to end. Without WUNTRACED, waitpid only returns
    /// when the child has exited or was killed.
    fn wait(&self, child: Pid) -> nix::Result<WaitStatus> {
        // Book: chapter 00, "Exercise: wait". Return only once the child has
        // ended, with how it ended: a signal that interrupts the waiting is not
        // the child ending.
        todo!("wait for the child to end")
    }
    // ANCHOR_END: wait

    // ANCHOR: exit_status
    /// Docker's rules: the command's own code; 128+N for signal N; 127 if
    /// the command was not found; 126 if it could not be executed.
    fn exit_status(&self, ending: Ending) -> u8 {
        // Book: chapter 00, "Exercise: exit status". The runtime's exit status
        // must tell a script what happened, as a shell's does: the command's
        // own code, a death by a signal, a command not found, or one found that
        // could not run.
        todo!("turn how the command ended into an exit status")
    }
    // ANCHOR_END: exit_status
}
