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
        let mut names = vec![("--hostname", run.config.hostname.as_str())];
        names.extend(
            run.config
                .domainname
                .as_deref()
                .map(|name| ("--domainname", name)),
        );
        for (flag, name) in names {
            if name.is_empty() || name.len() > MAX_NAME_LEN {
                // The kernel refuses more than 64 bytes; it would take an
                // empty name, but nothing that prints one makes sense.
                return Err(Error::new(format!(
                    "{flag} is {} bytes long; it must be 1 to {MAX_NAME_LEN} bytes",
                    name.len()
                ))
                .fix(format!("choose a {flag} of 1 to {MAX_NAME_LEN} bytes")));
            }
        }
        Ok(())
    }
    // ANCHOR_END: validate

    // ANCHOR: clone_flags
    fn clone_flags(&self) -> CloneFlags {
        CloneFlags::CLONE_NEWUTS
    }
    // ANCHOR_END: clone_flags

    // ANCHOR: in_child
    /// Inside the new UTS namespace, naming ourselves renames only the
    /// container.
    fn in_child(&self, run: &Run) -> Result<()> {
        sethostname(&run.config.hostname).context("set the container's hostname")?;
        if let Some(domainname) = &run.config.domainname {
            set_domainname(domainname).context("set the container's domain name")?;
        }
        Ok(())
    }
    // ANCHOR_END: in_child
}
