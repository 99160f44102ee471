//! Forwarding signals from the runtime to the container.
//!
//! `kill <runtime>` or Ctrl-C should reach the command, as with
//! `docker run`. The runtime blocks the forwarded signals before `clone`,
//! installs a handler that re-sends them to the container, and unblocks
//! them once it knows the container's PID, so none is lost in between.
//! The child starts with them blocked, puts the default handlers back and
//! unblocks them before it runs any lesson code.

use std::sync::atomic::{AtomicI32, Ordering};

use nix::sys::signal::{
    SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal, sigaction, sigprocmask,
};
use nix::unistd::Pid;

use crate::error::{Context, Result};

// ANCHOR: forwarded
/// The signals a person or a supervisor uses to ask a process to stop.
pub const FORWARDED: [Signal; 6] = [
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGTERM,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
];
// ANCHOR_END: forwarded

/// The container's PID on the host, or 0 while there is none.
static CONTAINER: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward(signal: libc::c_int) {
    let pid = CONTAINER.load(Ordering::SeqCst);
    // Never kill(0, ...): that would signal our whole process group.
    if pid > 0 {
        // SAFETY: kill(2) is async-signal-safe and takes plain integers.
        unsafe { libc::kill(pid, signal) };
    }
}

/// Block `signals` (add them to this thread's mask) and return the mask
/// from before, to restore later.
pub fn block(signals: &SigSet) -> nix::Result<SigSet> {
    let mut mask_before = SigSet::empty();
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(signals), Some(&mut mask_before))?;
    Ok(mask_before)
}

/// [`FORWARDED`] as a set, for `sigprocmask` and `sigwait`.
pub fn forwarded_set() -> SigSet {
    let mut set = SigSet::empty();
    FORWARDED.iter().for_each(|&signal| set.add(signal));
    set
}

pub struct Forwarding {
    mask_before: SigSet,
}

impl Forwarding {
    /// Before `clone`: block the forwarded signals and install the handler.
    pub fn prepare() -> Result<Forwarding> {
        let mask_before = block(&forwarded_set()).context("block signals")?;
        // SA_RESTART: the parent's blocking read and waitpid carry on after
        // the handler instead of failing with EINTR.
        let action = SigAction::new(
            SigHandler::Handler(forward),
            SaFlags::SA_RESTART,
            SigSet::empty(),
        );
        for signal in FORWARDED {
            // SAFETY: `forward` only reads an atomic and calls kill(2),
            // both async-signal-safe.
            unsafe { sigaction(signal, &action) }.context("install the signal forwarder")?;
        }
        Ok(Forwarding { mask_before })
    }

    /// The signal mask the child must restore.
    pub fn mask_before(&self) -> SigSet {
        self.mask_before
    }

    /// After `clone`: forward to `container` from now on (`None` if clone
    /// failed) and let pending signals in.
    pub fn start(&self, container: Option<Pid>) {
        CONTAINER.store(container.map_or(0, Pid::as_raw), Ordering::SeqCst);
        let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&self.mask_before), None);
    }

    /// Once the container is reaped its PID may be reused: stop forwarding.
    pub fn stop(&self) {
        CONTAINER.store(0, Ordering::SeqCst);
    }
}

/// In the child, first thing: default handlers and the original mask.
pub fn reset_in_child(mask_before: &SigSet) {
    for signal in FORWARDED {
        // SAFETY: installing SIG_DFL runs no code of ours.
        let _ = unsafe { nix::sys::signal::signal(signal, SigHandler::SigDfl) };
    }
    let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(mask_before), None);
}
