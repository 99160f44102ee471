//! Lesson 01: UTS.
//!
//! The UTS namespace holds the two names `uname(2)` reports for the
//! machine: the hostname (`uname -n`) and the NIS domain name. A container
//! with its own UTS namespace can rename itself without renaming the host.

use nix::unistd::sethostname;
use nslab_runtime::sys::set_domainname;
use nslab_runtime::{CloneFlags, Context, Error, Namespace, Result, Run};

/// The kernel stores each name in a 65-byte field that ends with a NUL
/// byte, so a name has at most 64 bytes (`HOST_NAME_MAX`).
pub const MAX_NAME_LEN: usize = 64;

pub struct UtsNamespace;

impl Namespace for UtsNamespace {
    // ANCHOR: validate
    /// Refuse names the kernel would refuse, or that would confuse every
    /// tool that prints them, before anything is created.
    fn validate(&self, run: &Run) -> Result<()> {
        // Book: chapter 01, "Exercise: validate". A hostname or domain name the
        // kernel would refuse, or that no tool could print sensibly, must be
        // refused before anything is created, with one line that names the flag
        // and the limit: the kernel keeps at most MAX_NAME_LEN bytes, and an
        // empty name means nothing.
        todo!("refuse hostnames the kernel would refuse")
    }
    // ANCHOR_END: validate

    // ANCHOR: clone_flags
    fn clone_flags(&self) -> CloneFlags {
        // Book: chapter 01, "Exercise: clone_flags". The child must get a UTS
        // namespace of its own, so that renaming it cannot rename the host.
        todo!("which clone flag creates a UTS namespace?")
    }
    // ANCHOR_END: clone_flags

    // ANCHOR: in_child
    /// Inside the new UTS namespace, naming ourselves renames only the
    /// container.
    fn in_child(&self, run: &Run) -> Result<()> {
        // Book: chapter 01, "Exercise: in_child". Inside, the container must be
        // called `run.config.hostname`, and have `run.config.domainname` as its
        // domain name when one was given, while the host keeps its own names.
        todo!("name the container")
    }
    // ANCHOR_END: in_child
}
