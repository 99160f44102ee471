//! Lesson 03: PID.
//!
//! A PID namespace numbers the container's processes on its own: the first
//! one is PID 1 inside, whatever its number on the host. PID 1 has duties
//! the kernel counts on. Every orphan in the namespace becomes its child,
//! so it must reap them; the kernel drops the signals it has no handler
//! for; and when it ends, the kernel kills everything else in the
//! namespace.
//!
//! By default the command itself is PID 1, as in the articles. With
//! `--init`, the tiny init in this file is PID 1 instead, like
//! `docker run --init` (tini): it starts the command as its child, passes
//! signals on to it, reaps every child, and exits with the command's
//! status.

use nix::sys::signal::{SigSet, SigmaskHow, Signal, kill, sigprocmask};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork};
use nslab_runtime::panics::exit_after;
use nslab_runtime::signals::{self, forwarded_set};
use nslab_runtime::transcript;
use nslab_runtime::{CloneFlags, Context, Errno, Namespace, Result, Run};

pub struct PidNamespace;

impl Namespace for PidNamespace {
    // ANCHOR: clone_flags
    fn clone_flags(&self) -> CloneFlags {
        // Book: chapter 03, "Exercise: clone_flags". The command must be PID 1
        // of a new PID namespace: it sees only its own descendants, and cannot
        // signal the host's processes.
        todo!("which clone flag creates a PID namespace?")
    }
    // ANCHOR_END: clone_flags

    // ANCHOR: in_child
    /// We are PID 1 of the new namespace. Without `--init`, we go on and
    /// become the command; with it, `start_init` splits us in two.
    fn in_child(&self, run: &Run) -> Result<()> {
        if run.config.init {
            start_init()
        } else {
            Ok(())
        }
    }
    // ANCHOR_END: in_child
}

// ANCHOR: start_init
/// With `--init`: split in two. The child goes on to become the command
/// (PID 2), and we stay behind as its init for good, so this returns only
/// in the child.
fn start_init() -> Result<()> {
    // Book: chapter 03, "Exercise: start_init". With --init this process must
    // split in two: an init that stays PID 1 until the command ends and never
    // returns, and a child that returns Ok(()) to become the command. No signal
    // may be lost while they split, the command must start with the signal mask
    // it would have had, and init must keep no descriptor that belongs to the
    // command.
    todo!("split into init and the command")
}
// ANCHOR_END: start_init

// ANCHOR: run_init
/// PID 1's life with `--init`: sleep until a child ends or a signal comes,
/// reap, pass signals on to the command, and once the command has ended
/// return the status to exit with.
fn run_init(command: Pid) -> i32 {
    // Book: chapter 03, "Exercise: the init loop". PID 1 must stay until the
    // command has ended, then return the command's status; meanwhile every
    // orphan that ends is reaped, and the signals sent to init reach the
    // command, as they would without --init.
    todo!("be PID 1: reap, wait for a signal, pass it on")
}
// ANCHOR_END: run_init

// ANCHOR: reap_children
/// Reap every child that has ended, adopted orphans included, without
/// waiting for those still running. Once the command has ended, return its
/// status: its exit code, or 128+N if signal N killed it.
fn reap_children(command: Pid) -> Option<i32> {
    // Book: chapter 03, "Exercise: reaping". No child that has ended may stay a
    // zombie, orphans included, and init must not block here: it has signals to
    // pass on. Once the command is among the ended, say how it ended (its code,
    // or 128 + the signal's number).
    todo!("reap every child that has ended")
}
// ANCHOR_END: reap_children

// ANCHOR: helpers
/// What init waits for: SIGCHLD (a child ended) and the signals it passes
/// on to the command, the same ones the runtime passes on to us.
fn init_signals() -> SigSet {
    let mut signals = forwarded_set();
    signals.add(Signal::SIGCHLD);
    signals
}

/// Block init's signals and return the mask from before. A blocked signal
/// is neither handled nor dropped: it waits for `SigSet::wait`. (PID 1
/// without a handler would otherwise never see them: the kernel drops
/// them.)
fn block_init_signals() -> Result<SigSet> {
    signals::block(&init_signals()).context("block init's signals")
}

/// Close every file descriptor but stdin, stdout and stderr. Init outlives
/// the runtime's setup, and must not keep its pipes open: the parent
/// learns that the command started when the report pipe's last writer
/// closes it, and init would be that last writer until the container ends.
fn close_inherited_fds() {
    // SAFETY: close_range only closes descriptors. The `File`s that own
    // them belong to code this process never returns to (init ends in
    // `_exit`), so no Rust owner uses or closes them again. Called as a
    // raw system call: the libc crate wraps it for glibc only, and the
    // benchmarks build against musl.
    unsafe { libc::syscall(libc::SYS_close_range, 3, libc::c_uint::MAX, 0) };
}
// ANCHOR_END: helpers
