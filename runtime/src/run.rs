//! What every lesson's hooks are given: this run of the runtime, its
//! configuration and its place on the host, said explicitly rather than
//! read from globals, so that a hook's signature shows what it depends on.

use std::fs;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use nix::fcntl::{OFlag, open, openat};
use nix::sys::stat::Mode;
use nix::unistd::Pid;

use crate::config::Config;
use crate::error::Result;
use crate::state;

/// One run of the runtime: one container, from the command line to the
/// end of its cleanup.
pub struct Run {
    /// What the command line asked for.
    pub config: Config,
    /// The state directory of the user who runs the runtime (`state::root`).
    pub state_root: PathBuf,
    /// The runtime's PID on the host. In the container, where `getpid()`
    /// answers 1, the way to look at the runtime in the host's `/proc`.
    pub runtime_pid: Pid,
    /// This container's directory, `<state root>/containers/<runtime PID>`:
    /// files the lessons make for it, and its undo records
    /// ([`Run::record`]).
    pub container_dir: PathBuf,
    /// In the container: a handle on `container_dir` (see [`Run::hold_dir`]).
    held_dir: OnceLock<OwnedFd>,
}

impl Run {
    /// A run of `config` by this process, as this user.
    pub fn new(config: Config) -> Run {
        Run::under(config, state::root(), Pid::this())
    }

    /// A run of `config` by the runtime `runtime_pid`, keeping its state
    /// under `state_root` (tests use a scratch directory).
    pub fn under(config: Config, state_root: PathBuf, runtime_pid: Pid) -> Run {
        let container_dir = state::container_dir_of(&state_root, runtime_pid);
        Run {
            config,
            state_root,
            runtime_pid,
            container_dir,
            held_dir: OnceLock::new(),
        }
    }

    /// Write the undo record `kind` for something this container is about
    /// to leave on the host: `just clean` replays it if the run cannot.
    pub fn record(&self, kind: &str, text: &str) -> Result<()> {
        state::write_record(&self.container_dir, kind, text)
    }

    /// Remove the undo record `kind`, once what it undoes is undone.
    pub fn forget(&self, kind: &str) -> Result<()> {
        state::remove_record(&self.container_dir, kind)
    }

    /// In the container, before the lessons' `in_child` hooks: keep a
    /// handle on this container's directory, so that the files the runtime
    /// left there stay readable after lesson 04's `pivot_root` has taken
    /// the path away. Close-on-exec: the command never gets it. If the
    /// directory cannot be opened, [`Run::read_file`] says so when a
    /// lesson asks.
    pub fn hold_dir(&self) {
        let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
        if let Ok(dir) = open(&self.container_dir, flags, Mode::empty()) {
            let _ = self.held_dir.set(dir);
        }
    }

    /// The file `name` (a path relative to this container's directory):
    /// in the runtime by its path; in the container through the handle
    /// [`Run::hold_dir`] kept.
    pub fn read_file(&self, name: &Path) -> std::io::Result<String> {
        match self.held_dir.get() {
            Some(dir) => {
                let file = openat(dir, name, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())?;
                std::io::read_to_string(fs::File::from(file))
            }
            None => fs::read_to_string(self.container_dir.join(name)),
        }
    }
}
