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

use crate::config::{Config, NetMode};
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
    /// ([`Run::record`]). It exists only if the run keeps files there
    /// ([`Run::keeps_files`]), or once a record is written.
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
        Run::at(config, state_root, runtime_pid, container_dir)
    }

    /// A run of `config` whose directory is `container_dir` (lesson 11:
    /// an OCI container's, named by its ID, outliving the runtime).
    pub fn at(
        config: Config,
        state_root: PathBuf,
        runtime_pid: Pid,
        container_dir: PathBuf,
    ) -> Run {
        Run {
            config,
            state_root,
            runtime_pid,
            container_dir,
            held_dir: OnceLock::new(),
        }
    }

    /// Whether this run keeps anything in its container directory: the
    /// files lesson 04 bind-mounts into a root filesystem (and the
    /// volumes beside them), a directory lesson 05 hands over to a
    /// container root mapped to someone else, lesson 06's lease, lesson
    /// 07's name and kept namespace, lesson 08's cgroup, lesson 11's OCI
    /// state. A plain run asks for none of these and leaves nothing on
    /// the host, so the core neither makes nor removes a directory for it
    /// (issue 20: on a disk-backed `/run` that was a sixth of its start).
    /// An undo record written anyway makes the directory
    /// ([`state::write_record`]), and the end of the run removes it.
    pub fn keeps_files(&self) -> bool {
        let config = &self.config;
        config.rootfs.is_some()
            || !config.volumes.is_empty()
            || !config.uid_maps.is_empty()
            || !config.gid_maps.is_empty()
            || config.net != NetMode::None
            || config.name.is_some()
            || config.keep_net.is_some()
            || !config.limits.is_empty()
            || config.oci.is_some()
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
        std::io::read_to_string(self.open_file(name, OFlag::O_RDONLY)?)
    }

    /// Open the file `name` of this container's directory with `flags`
    /// (and close-on-exec), as [`Run::read_file`] finds it. Lesson 11's
    /// container opens its exec FIFO so, after `pivot_root`.
    pub fn open_file(&self, name: &Path, flags: OFlag) -> std::io::Result<fs::File> {
        let flags = flags | OFlag::O_CLOEXEC;
        let file = match self.held_dir.get() {
            Some(dir) => openat(dir, name, flags, Mode::empty())?,
            None => open(&self.container_dir.join(name), flags, Mode::empty())?,
        };
        Ok(fs::File::from(file))
    }
}
