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
        let mut stack = vec![0u8; STACK_SIZE];
        // SIGCHLD is the signal the kernel sends us when the child ends;
        // plain waitpid() only waits for children that end with it.
        let exit_signal = Some(Signal::SIGCHLD as i32);
        // SAFETY: the runtime is single-threaded, so the child's copy of our
        // memory holds no lock that another thread was holding (fork's
        // rule). Without CLONE_VM the child runs on its own copy of
        // `stack`, which is far larger than the setup before exec needs.
        unsafe { nix::sched::clone(child_main, &mut stack, flags, exit_signal) }
    }
    // ANCHOR_END: spawn

    // ANCHOR: exec
    /// Become the command. `execvpe` searches `PATH` like a shell does
    /// (the core has set it to the container's) and gives the command
    /// exactly the environment `env`.
    fn exec(&self, command: &[CString], env: &[CString]) -> Errno {
        // exec only ever returns an error: on success this process *is*
        // the command now, and none of our code runs any more.
        let Err(errno) = execvpe(&command[0], command, env);
        errno
    }
    // ANCHOR_END: exec

    // ANCHOR: wait
    /// Wait for the child to end. Without WUNTRACED, waitpid only returns
    /// when the child has exited or was killed.
    fn wait(&self, child: Pid) -> nix::Result<WaitStatus> {
        loop {
            match waitpid(child, None) {
                // A signal arrived while we waited: just wait again.
                Err(Errno::EINTR) => continue,
                result => return result,
            }
        }
    }
    // ANCHOR_END: wait

    // ANCHOR: exit_status
    /// Docker's rules: the command's own code; 128+N for signal N; 127 if
    /// the command was not found; 126 if it could not be executed.
    fn exit_status(&self, ending: Ending) -> u8 {
        match ending {
            // The kernel keeps only the low 8 bits of exit(), so this fits.
            Ending::Exited(code) => code as u8,
            Ending::Killed(signal) => 128 + signal as u8,
            Ending::NotStarted(Errno::ENOENT) => NOT_FOUND,
            Ending::NotStarted(_) => CANNOT_EXECUTE,
        }
    }
    // ANCHOR_END: exit_status
}
