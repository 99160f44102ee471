//! # nslab-runtime: the core every lesson plugs into
//!
//! Start reading at [`container`]: it is the life of a container, top to
//! bottom, in one file; [`entry`] calls it. The lessons implement two
//! small traits, and every hook is given the [`Run`]:
//!
//! * [`Process`] (lesson 00): how to clone, exec, wait and report.
//! * [`Namespace`] (lessons 01 and later): one kernel namespace each.
//!
//! Everything else here is plumbing: the command line ([`cli`],
//! [`config`]), the parent/child pipes ([`sync`]), signal forwarding
//! ([`signals`]), errors ([`error`]), the transcript ([`transcript`]),
//! the state directory on the host and its undo records ([`state`]; every
//! kind of record in [`leftovers`]), the container's generated
//! `/etc` files ([`conf`]), paths inside a rootfs ([`paths`]), a small
//! netlink client ([`netlink`]) and the bridge network's shared state on
//! the host ([`network`]) for lesson 06, and for lesson 07 the registry
//! of named containers ([`registry`]), the tools `ps`, `ns` and `exec`
//! with the [`Join`] contract ([`join`]) and named network namespaces
//! ([`netns`]); for lesson 08 the resource limits ([`limits`]) and the
//! host's control groups ([`cgroup`]).

pub mod cgroup;
pub mod cli;
pub mod command;
pub mod conf;
pub mod config;
pub mod container;
pub mod course;
pub mod entry;
pub mod error;
pub mod fault;
pub mod hooks;
pub mod join;
pub mod leftovers;
pub mod limits;
pub mod namespace;
pub mod netlink;
pub mod netns;
pub mod network;
pub mod oci;
pub mod panics;
pub mod paths;
pub mod process;
pub mod registry;
pub mod run;
#[cfg(test)]
mod scratch;
pub mod signals;
pub mod state;
pub mod sync;
pub mod sys;
pub mod transcript;

pub use config::{Config, IdMap, NetMode, OciProcess, Rlimit, Subnet, Tmpfs, Volume};
pub use container::Parts;
pub use course::{Binary, Flavour};
pub use entry::main;
pub use error::{Context, Error, Result};
pub use join::Join;
pub use limits::{Cpus, Limits, Memory, Pids};
pub use namespace::Namespace;
pub use process::{Ending, Process};
pub use registry::Entry;
pub use run::Run;

/// The kernel and nix types that appear in the traits' signatures.
pub use nix::errno::Errno;
pub use nix::mount::MsFlags;
pub use nix::sched::{CloneCb, CloneFlags};
pub use nix::sys::signal::Signal;
pub use nix::sys::wait::WaitStatus;
pub use nix::unistd::Pid;
/// Lesson 11 reads `config.json` with these types (the youki project's).
pub use oci_spec;
