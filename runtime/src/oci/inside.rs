//! Lesson 11, in the container: what an OCI bundle asks of the process
//! that the course's lessons do not already do, and the wait for `start`.
//!
//! The core calls these from the container's child (`container.rs`):
//! [`join_namespaces`] before any lesson's hook, [`before_the_lessons`]
//! between their `first_in_child` and `in_child`, [`after_the_lessons`]
//! after the last, [`StartGate::wait`] and [`install_seccomp`] just
//! before `exec`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use nix::fcntl::OFlag;
use nix::sched::setns;
use nix::sys::stat::{Mode, umask};
use nix::unistd::{Gid, Uid, chdir, setgroups, setresgid, setresuid};

use crate::config::OciProcess;
use crate::error::{Context, Error, Result};
use crate::join::KINDS;
use crate::oci::seccomp;
use crate::run::Run;

/// The exec FIFO's name in the container's directory (runc's name).
pub const EXEC_FIFO: &str = "exec.fifo";

/// Enter each namespace the bundle names by path (`"path":
/// "/run/netns/…"`), instead of the new one a lesson would have made: the
/// engine made it, and may have set it up (podman's network).
pub fn join_namespaces(process: &OciProcess) -> Result<()> {
    for (kind, path) in &process.join {
        let flag = KINDS
            .iter()
            .find(|(name, _)| name == kind)
            .map(|&(_, flag)| flag)
            .ok_or_else(|| Error::new(format!("no namespace of the kind {kind:?}")))?;
        let file = File::open(path)
            .with_context(|| format!("open the {kind} namespace {}", path.display()))?;
        setns(&file, flag)
            .with_context(|| format!("join the {kind} namespace {}", path.display()))?;
    }
    Ok(())
}

/// Between the lessons' `first_in_child` (lesson 05 has made us root of
/// the container's user namespace) and their `in_child` (lesson 10 ends
/// by dropping the capabilities these need and making `/proc/sys`
/// read-only): the bundle's sysctls, resource limits, groups and group.
/// `/proc` is still the host's here, but a namespaced sysctl's file
/// reaches the writer's own namespace (its network namespace for `net.*`),
/// and `create` has refused every other kind
/// ([`crate::oci::bundle::refuse_host_sysctls`]). Changing groups leaves
/// the capabilities alone; only the user waits for [`after_the_lessons`].
pub fn before_the_lessons(process: &OciProcess) -> Result<()> {
    for (key, value) in &process.sysctl {
        let path = Path::new("/proc/sys").join(key.replace('.', "/"));
        std::fs::write(&path, value)
            .with_context(|| format!("set the sysctl {key} to {value:?}"))?;
    }
    for limit in &process.rlimits {
        let value = libc::rlimit {
            rlim_cur: limit.soft,
            rlim_max: limit.hard,
        };
        // SAFETY: setrlimit reads one plain struct we own.
        let done = unsafe { libc::setrlimit(limit.resource as _, &value) };
        if done != 0 {
            return Err(Error::new(format!(
                "set the resource limit {} to {}:{}",
                limit.resource, limit.soft, limit.hard
            ))
            .because(nix::errno::Errno::last())
            .fix("lower the limit (podman --ulimit), or raise it on the host first"));
        }
    }
    let gids: Vec<Gid> = process
        .additional_gids
        .iter()
        .copied()
        .map(Gid::from_raw)
        .collect();
    setgroups(&gids).context("set the additional groups")?;
    let gid = Gid::from_raw(process.gid);
    setresgid(gid, gid, gid).with_context(|| format!("become group {gid}"))
}

/// After the lessons' hooks (the mounts are made, the capabilities
/// dropped): the working directory, then the user. Becoming a user other
/// than root needs `CAP_SETUID` among the bundle's capabilities, as with
/// runc; the capabilities a non-root user keeps are cleared by the kernel.
pub fn after_the_lessons(process: &OciProcess) -> Result<()> {
    chdir(&process.cwd)
        .with_context(|| format!("change to the working directory {}", process.cwd.display()))?;
    if let Some(mask) = process.umask {
        umask(Mode::from_bits_truncate(mask));
    }
    let uid = Uid::from_raw(process.uid);
    setresuid(uid, uid, uid)
        .with_context(|| format!("become user {uid}"))
        .map_err(|e| e.fix("keep CAP_SETUID in process.capabilities, or run as root (uid 0)"))
}

/// The bundle's seccomp filters, last before `exec` (lesson 10 has set
/// `no_new_privs`, so the process may install them without privilege).
pub fn install_seccomp(config: &crate::config::Config) -> Result<()> {
    match &config.oci {
        Some(oci) => seccomp::install(&oci.seccomp),
        None => Ok(()),
    }
}

/// `create`, on the host: the exec FIFO in the container's directory,
/// writable by anyone (the bundle's user opens it in the container), as
/// runc makes it. Its existence is what "created" means to `state`.
pub fn make_exec_fifo(container_dir: &Path) -> Result<()> {
    let path = container_dir.join(EXEC_FIFO);
    nix::unistd::mkfifo(&path, Mode::from_bits_truncate(0o622))
        .with_context(|| format!("make the exec FIFO {}", path.display()))?;
    // The umask took bits away from mkfifo's mode.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o622))
        .with_context(|| format!("open the exec FIFO {} to the container", path.display()))
}

/// The container's end of the exec FIFO, held open with `O_PATH` (which
/// opens neither end) while the runtime's user can still reach it.
pub struct StartGate(OwnedFd);

impl StartGate {
    pub fn open(run: &Run) -> Result<StartGate> {
        let file = run
            .open_file(Path::new(EXEC_FIFO), OFlag::O_PATH)
            .context("find the exec FIFO")?;
        Ok(StartGate(OwnedFd::from(file)))
    }

    /// Wait until `start` opens the FIFO to read, then return (and the
    /// core `exec`s). Opening a FIFO to write blocks until a reader opens
    /// it: that is the whole mechanism. The byte tells `start` we were
    /// here. Reopened through `/proc/self/fd`, the container's `/proc`.
    pub fn wait(self) -> Result<()> {
        let path = format!("/proc/self/fd/{}", self.0.as_raw_fd());
        let mut fifo = OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_CLOEXEC)
            .open(&path)
            .context("open the exec FIFO to wait for `start`")?;
        fifo.write_all(b"0").context("write to the exec FIFO")
    }
}
