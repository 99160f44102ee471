//! The contract of lessons 01 and later: each adds one kernel namespace.
//!
//! The core calls every namespace's hooks in lesson order at fixed points
//! of a container's life (see `container.rs`):
//!
//! ```text
//!   parent                                   child
//!   ──────                                   ─────
//!   validate()        nothing exists yet
//!   clone_flags()  ── clone(2) ────────────► waits for the parent
//!   in_parent()       e.g. write uid_map       │
//!   "go" ─────────────────────────────────────►first_in_child()  e.g. setresuid
//!                                              in_child()   e.g. sethostname
//!   wait                                       exec the command
//!   cleanup()         the child is gone
//! ```
//!
//! Every hook is given the [`Run`]: the configuration (`run.config`), the
//! state root, the runtime's PID and the container's directory. What a hook
//! leaves on the host gets an undo record there, written by the runtime
//! helper that makes it, before it makes it; `cleanup` releases it.

use nix::sched::CloneFlags;
use nix::unistd::Pid;

use crate::Result;
use crate::config::Config;
use crate::run::Run;

// ANCHOR: namespace
pub trait Namespace: Sync {
    /// Refuse a configuration this namespace cannot honour, before
    /// anything is created. The error becomes exit status 125.
    fn validate(&self, run: &Run) -> Result<()> {
        let _ = run;
        Ok(())
    }

    /// The `CLONE_NEW*` flags this namespace adds to `clone(2)`.
    fn clone_flags(&self) -> CloneFlags;

    /// Runs in the parent after `clone`, while the child waits. For work
    /// only the outside can do: id maps, moving a veth into the container.
    fn in_parent(&self, run: &Run, child: Pid) -> Result<()> {
        let _ = (run, child);
        Ok(())
    }

    /// Runs in the child before any namespace's `in_child`: for what the
    /// others' steps depend on. Lesson 05 becomes root of its user
    /// namespace here, so that every later step (lesson 03's init
    /// included) is done by the container's root, never by the caller.
    fn first_in_child(&self, run: &Run) -> Result<()> {
        let _ = run;
        Ok(())
    }

    /// Runs in the child, inside the new namespaces, before `exec`.
    fn in_child(&self, run: &Run) -> Result<()> {
        let _ = run;
        Ok(())
    }

    /// Runs in a process that `exec NAME` (lesson 07) has put inside this
    /// running container, just before it becomes the command: for what
    /// must hold for every process of the container, not only its first
    /// (lesson 10's capabilities and seccomp filter). `command` carries
    /// the container's own flags, from its registry entry.
    fn in_joined(&self, command: &Config) -> Result<()> {
        let _ = command;
        Ok(())
    }

    /// Runs in the parent once the child has ended (or failed to start).
    /// Must be idempotent: it also runs after a partial setup. What it
    /// does not release (an undo record left behind) the core undoes, and
    /// fails the run naming this hook.
    fn cleanup(&self, run: &Run, child: Pid) -> Result<()> {
        let _ = (run, child);
        Ok(())
    }
}
// ANCHOR_END: namespace
