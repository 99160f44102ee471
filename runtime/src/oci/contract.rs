//! Lesson 11's contract: what the learner's crate decides for the OCI
//! commands, and the plain data the core hands it.
//!
//! The core does the plumbing (the command line, reading `config.json`
//! with the `oci-spec` crate's types, the container's directory, the exec
//! FIFO, signals, undo records); the lesson decides what a bundle means
//! for the course's lessons ([`Oci::plan`]) and which life-cycle state a
//! container is in and what may be done to it ([`Oci::status`],
//! [`Oci::allow`]).

use std::fmt;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{ContainerState, LinuxSeccomp, Process, Spec};

use crate::config::Config;
use crate::error::Result;

// ANCHOR: oci
/// The OCI runtime interface's decisions, written in lesson 11.
pub trait Oci: Sync {
    /// What the bundle at `bundle` (its `config.json` already read into
    /// `spec`) asks of the lessons, or one line naming the field this
    /// runtime cannot honour.
    fn plan(&self, spec: &Spec, bundle: &Path) -> Result<Plan>;

    /// The process conmon's `exec --process FILE` describes, as the
    /// course's [`Config`] for lesson 07's join (its command, environment,
    /// working directory, user and capabilities).
    fn exec_process(&self, process: &Process) -> Result<Config>;

    /// The state a container is in, from what the core `seen` on the host.
    fn status(&self, seen: &Seen) -> ContainerState;

    /// Whether `operation` may be done to a container in `status`; if
    /// not, the spec's error (the core adds the container's ID).
    fn allow(&self, operation: Operation, status: ContainerState) -> Result<()>;
}
// ANCHOR_END: oci

// ANCHOR: plan
/// What `create` makes of a bundle.
#[derive(Debug, Default)]
pub struct Plan {
    /// The container as the lessons know it; `config.oci` holds what the
    /// bundle says of its process beyond the course's flags.
    pub config: Config,
    /// The namespaces to create, by `/proc/PID/ns` name (`mnt`, `net`):
    /// only the lessons of these take part.
    pub create: Vec<String>,
    /// The spec's seccomp profile, compiled and installed by the core
    /// (lesson 10's own filter is off for an OCI container: `config.seccomp`
    /// is `unconfined`).
    pub seccomp: Option<LinuxSeccomp>,
}
// ANCHOR_END: plan

// ANCHOR: seen
/// What the core found on the host about one container, for
/// [`Oci::status`]. The status itself is never stored: a container whose
/// process ends by itself must read as stopped with nobody to say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// `create` has finished: the record says the container is set up.
    pub set_up: bool,
    /// The exec FIFO is still in the container's directory: nobody has
    /// opened it to read (`start` removes it).
    pub exec_fifo: bool,
    /// The container's process lives: its PID has its recorded start
    /// time, and it is not a zombie waiting for conmon to collect it.
    pub alive: bool,
}
// ANCHOR_END: seen

/// An OCI command that acts on an existing container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Start,
    Kill,
    Delete { force: bool },
    Exec,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::Start => "start",
            Operation::Kill => "kill",
            Operation::Delete { force: false } => "delete",
            Operation::Delete { force: true } => "delete --force",
            Operation::Exec => "exec",
        })
    }
}

/// A path of the spec: a relative one is relative to the bundle.
pub fn in_bundle(bundle: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        bundle.join(path)
    }
}
