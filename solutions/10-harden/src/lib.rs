//! Lesson 10: harden.
//!
//! Namespaces decide what a container sees; they do not stop its root
//! from using the kernel's more dangerous doors: loading a module,
//! mounting, opening any file of the host by handle, reading the host's
//! kernel memory through /proc. Every runtime closes them, and this
//! lesson closes them the way `docker run` does by default, in the
//! container's last step before `exec`:
//!
//! 1. masked and read-only paths in /proc and /sys (it still may mount);
//! 2. capabilities: Docker's 14, every other one dropped for good;
//! 3. `no_new_privs`: no setuid binary or file capability gives more;
//! 4. a seccomp filter: the system calls Docker's profile refuses.
//!
//! It adds no namespace: its hooks are `validate` (names and profiles the
//! lesson cannot honour are refused before anything exists) and
//! `in_child`, which runs after every other lesson's.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use caps::{CapSet, Capability, CapsHashSet};
use nix::mount::{MsFlags, mount};
use nix::sys::prctl;
use nslab_runtime::{CloneFlags, Config, Context, Error, Namespace, Result, Run};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

pub struct Harden;

// ANCHOR: lifecycle
impl Namespace for Harden {
    /// A capability name that does not exist, or a profile we cannot
    /// load, is refused before anything exists.
    fn validate(&self, run: &Run) -> Result<()> {
        for name in run.config.cap_add.iter().chain(&run.config.cap_drop) {
            parse_capability(name)?;
        }
        confined(&run.config).map(drop)
    }

    /// Hardening needs no namespace of its own.
    fn clone_flags(&self) -> CloneFlags {
        CloneFlags::empty()
    }

    /// The last of every lesson's `in_child`: everything privileged the
    /// container needed is done, and the command is next.
    fn in_child(&self, run: &Run) -> Result<()> {
        let keep = capabilities(&run.config, &every_capability()?)?;
        let (masked, read_only) = paths_to_hide(&run.config);
        harden(&keep, confined(&run.config)?, &masked, &read_only)
    }

    /// A process `exec NAME` starts inside the container is locked like
    /// the container's first one, from the flags the container was started
    /// with. It shares the container's mounts, masks included.
    fn in_joined(&self, command: &Config) -> Result<()> {
        let keep = capabilities(command, &every_capability()?)?;
        lock(&keep, confined(command)?)
    }
}
// ANCHOR_END: lifecycle

// ANCHOR: defaults
/// The capabilities `docker run` leaves a container (moby's
/// `DefaultCapabilities`): enough for a distribution's tools to install
/// packages, change owners, bind port 80 and ping; none of the ones that
/// reach the kernel as a whole (`SYS_ADMIN`, `SYS_MODULE`, `SYS_TIME`, ...).
pub const DEFAULT_CAPABILITIES: [Capability; 14] = [
    Capability::CAP_CHOWN,
    Capability::CAP_DAC_OVERRIDE,
    Capability::CAP_FSETID,
    Capability::CAP_FOWNER,
    Capability::CAP_MKNOD,
    Capability::CAP_NET_RAW,
    Capability::CAP_SETGID,
    Capability::CAP_SETUID,
    Capability::CAP_SETFCAP,
    Capability::CAP_SETPCAP,
    Capability::CAP_NET_BIND_SERVICE,
    Capability::CAP_SYS_CHROOT,
    Capability::CAP_KILL,
    Capability::CAP_AUDIT_WRITE,
];

/// Files and directories of /proc and /sys that tell about, or reach, the
/// host's kernel as a whole; Docker hides them (a file under /dev/null, a
/// directory under an empty read-only tmpfs). Those a kernel does not
/// have are left alone.
pub const MASKED_PATHS: [&str; 12] = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Parts of /proc that stay readable but that nobody in the container
/// may write: most of /proc/sys is the host's kernel's settings, and
/// /proc/sysrq-trigger reboots the machine with one byte.
pub const READ_ONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];
// ANCHOR_END: defaults

/// The paths to mask and to make read-only: Docker's, unless an OCI
/// bundle (lesson 11) lists its own.
pub fn paths_to_hide(config: &Config) -> (Vec<&str>, Vec<&str>) {
    fn listed<'a>(given: &'a Option<Vec<String>>, docker: &[&'static str]) -> Vec<&'a str> {
        match given {
            Some(paths) => paths.iter().map(String::as_str).collect(),
            None => docker.to_vec(),
        }
    }
    (
        listed(&config.masked_paths, &MASKED_PATHS),
        listed(&config.read_only_paths, &READ_ONLY_PATHS),
    )
}

// ANCHOR: doors
/// A group of system calls the filter refuses with `EPERM`, unless the
/// container keeps the capability that opens the door (as Docker's
/// profile does: `--cap-add SYS_ADMIN` lets `mount` through).
pub struct Door {
    pub what: &'static str,
    pub opened_by: Option<Capability>,
    pub syscalls: &'static [i64],
}

/// What Docker's default profile refuses, by door. Calls this
/// architecture does not have are left out by `libc`'s constants.
pub const DOORS: &[Door] = &[
    Door {
        what: "load or remove kernel modules",
        opened_by: Some(Capability::CAP_SYS_MODULE),
        syscalls: &[
            libc::SYS_init_module,
            libc::SYS_finit_module,
            libc::SYS_delete_module,
        ],
    },
    Door {
        what: "reboot, or replace the running kernel",
        opened_by: Some(Capability::CAP_SYS_BOOT),
        syscalls: &[
            libc::SYS_reboot,
            libc::SYS_kexec_load,
            libc::SYS_kexec_file_load,
        ],
    },
    Door {
        what: "mount, unmount, change root: the old mount API and the new",
        opened_by: Some(Capability::CAP_SYS_ADMIN),
        syscalls: &[
            libc::SYS_mount,
            libc::SYS_umount2,
            libc::SYS_pivot_root,
            libc::SYS_fsopen,
            libc::SYS_fsconfig,
            libc::SYS_fsmount,
            libc::SYS_fspick,
            libc::SYS_move_mount,
            libc::SYS_open_tree,
            libc::SYS_mount_setattr,
        ],
    },
    Door {
        what: "make new namespaces or enter others (clone: see `clone_rules`)",
        opened_by: Some(Capability::CAP_SYS_ADMIN),
        syscalls: &[libc::SYS_unshare, libc::SYS_setns],
    },
    Door {
        what: "swap, disk quotas, eBPF and kernel tracing",
        opened_by: Some(Capability::CAP_SYS_ADMIN),
        syscalls: &[
            libc::SYS_swapon,
            libc::SYS_swapoff,
            libc::SYS_quotactl,
            libc::SYS_bpf,
            libc::SYS_perf_event_open,
        ],
    },
    Door {
        what: "open any file of a file system by its handle (the shocker escape)",
        opened_by: Some(Capability::CAP_DAC_READ_SEARCH),
        syscalls: &[libc::SYS_open_by_handle_at],
    },
    Door {
        what: "set the clock, which no namespace separates",
        opened_by: Some(Capability::CAP_SYS_TIME),
        syscalls: &[
            libc::SYS_settimeofday,
            libc::SYS_clock_settime,
            libc::SYS_clock_adjtime,
        ],
    },
    Door {
        what: "process accounting to a file",
        opened_by: Some(Capability::CAP_SYS_PACCT),
        syscalls: &[libc::SYS_acct],
    },
    Door {
        what: "the kernel keyrings, which no namespace separates",
        opened_by: None,
        syscalls: &[libc::SYS_add_key, libc::SYS_keyctl, libc::SYS_request_key],
    },
    Door {
        what: "userfaultfd, a favourite of kernel exploits",
        opened_by: None,
        syscalls: &[libc::SYS_userfaultfd],
    },
];

/// The `CLONE_NEW*` flags `clone(2)` may carry (`CLONE_NEWTIME` shares
/// its bit with the exit signal there, so only `unshare` knows it).
pub const NAMESPACE_FLAGS: [CloneFlags; 7] = [
    CloneFlags::CLONE_NEWNS,
    CloneFlags::CLONE_NEWCGROUP,
    CloneFlags::CLONE_NEWUTS,
    CloneFlags::CLONE_NEWIPC,
    CloneFlags::CLONE_NEWUSER,
    CloneFlags::CLONE_NEWPID,
    CloneFlags::CLONE_NEWNET,
];
// ANCHOR_END: doors

// ANCHOR: parse_capability
/// `SYS_TIME`, `sys_time`, `CAP_SYS_TIME`: the capability, as Docker
/// reads names; `ALL` is `None`. Anything else is refused.
pub fn parse_capability(name: &str) -> Result<Option<Capability>> {
    if name.eq_ignore_ascii_case("all") {
        return Ok(None);
    }
    caps::to_canonical(name).parse().map(Some).map_err(|_| {
        Error::new(format!("unknown capability {name:?}"))
            .fix("name one of capabilities(7) with or without CAP_ (SYS_TIME, NET_ADMIN), or ALL")
    })
}

/// What `ALL` means: every capability this process could still hold, its
/// bounding set. That is every capability the kernel knows, except where
/// the runtime itself was started without some (a VM whose root lacks
/// `CAP_SYS_RESOURCE`): asking for one of those would make `capset` fail.
pub fn every_capability() -> Result<CapsHashSet> {
    caps::read(None, CapSet::Bounding).context("read the bounding set")
}

/// `--seccomp`: `false` for `unconfined`, `true` for the default filter.
/// A profile file is refused: this lesson builds its filter in code.
pub fn confined(config: &Config) -> Result<bool> {
    match config.seccomp.as_deref() {
        None => Ok(true),
        Some("unconfined") => Ok(false),
        Some(path) if !Path::new(path).exists() => Err(Error::new(format!(
            "--seccomp {path}: no such file"
        ))
        .fix("leave --seccomp out for the default filter, or say --seccomp unconfined")),
        Some(path) => Err(Error::new(format!(
            "--seccomp {path}: profiles from files are not supported (lesson 10 builds its filter in code)"
        ))
        .fix("leave --seccomp out for the default filter, or say --seccomp unconfined")),
    }
}
// ANCHOR_END: parse_capability

// ANCHOR: capabilities
/// The capabilities the container keeps: Docker's default 14, with
/// `--cap-add` and `--cap-drop` applied as Docker applies them. `every`
/// is what `ALL` means ([`every_capability`]).
pub fn capabilities(config: &Config, every: &CapsHashSet) -> Result<CapsHashSet> {
    let parse = |names: &[String]| -> Result<Vec<Option<Capability>>> {
        names.iter().map(|name| parse_capability(name)).collect()
    };
    let (add, drop) = (parse(&config.cap_add)?, parse(&config.cap_drop)?);
    let mut keep: CapsHashSet = if drop.contains(&None) {
        CapsHashSet::new()
    } else {
        DEFAULT_CAPABILITIES.into_iter().collect()
    };
    for cap in &add {
        match cap {
            None => keep.extend(every),
            Some(cap) => {
                keep.insert(*cap);
            }
        }
    }
    for cap in drop.iter().flatten() {
        keep.remove(cap);
    }
    Ok(keep)
}
// ANCHOR_END: capabilities

// ANCHOR: harden
/// Close every door, in the only order that works: the masks are mounts,
/// made while we still hold `CAP_SYS_ADMIN`; then `lock` takes that away.
/// `masked` and `read_only` are [`MASKED_PATHS`] and [`READ_ONLY_PATHS`]
/// unless an OCI bundle (lesson 11) names its own.
pub fn harden(
    keep: &CapsHashSet,
    confined: bool,
    masked: &[&str],
    read_only: &[&str],
) -> Result<()> {
    for path in masked {
        mask_path(Path::new(path))?;
    }
    for path in read_only {
        make_read_only(Path::new(path))?;
    }
    lock(keep, confined)
}
// ANCHOR_END: harden

// ANCHOR: lock
/// Take away for good what the process may not do: the capabilities,
/// then `no_new_privs` (which lets an unprivileged process install a
/// filter), then the filter, which must still allow everything up to and
/// including `execve`. Also what `exec NAME` does to the process it starts.
pub fn lock(keep: &CapsHashSet, confined: bool) -> Result<()> {
    drop_capabilities(keep)?;
    prctl::set_no_new_privs().context("set no_new_privs (prctl PR_SET_NO_NEW_PRIVS)")?;
    if confined {
        for filter in seccomp_filters(keep)? {
            install(&filter)?;
        }
    }
    Ok(())
}
// ANCHOR_END: lock

// ANCHOR: mask_path
/// Hide `path` from the container: what is there must read as nothing,
/// and stay hidden (the container cannot unmount without `CAP_SYS_ADMIN`).
fn mask_path(path: &Path) -> Result<()> {
    let Ok(found) = fs::metadata(path) else {
        return Ok(()); // this kernel does not have it
    };
    let masked = if found.is_dir() {
        let flags =
            MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
        mount(Some("tmpfs"), path, Some("tmpfs"), flags, Some("mode=755"))
    } else {
        mount(
            Some("/dev/null"),
            path,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
    };
    masked.with_context(|| format!("mask {}", path.display()))
}
// ANCHOR_END: mask_path

// ANCHOR: make_read_only
/// Make `path` read-only for the container, and only there: a bind mount
/// of it onto itself is a mount of its own, which can be remounted
/// read-only without touching the rest of /proc.
fn make_read_only(path: &Path) -> Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let bind = MsFlags::MS_BIND | MsFlags::MS_REC;
    mount(Some(path), path, None::<&str>, bind, None::<&str>)
        .with_context(|| format!("bind {} onto itself", path.display()))?;
    // A remount sets every per-mount flag: name again those lesson 04
    // mounted /proc with, or the kernel would clear them.
    let read_only = MsFlags::MS_BIND
        | MsFlags::MS_REMOUNT
        | MsFlags::MS_RDONLY
        | MsFlags::MS_NOSUID
        | MsFlags::MS_NODEV
        | MsFlags::MS_NOEXEC;
    mount(None::<&str>, path, None::<&str>, read_only, None::<&str>)
        .with_context(|| format!("remount {} read-only", path.display()))
}
// ANCHOR_END: make_read_only

// ANCHOR: drop_capabilities
/// Keep exactly `keep`: for this process, for whatever it `exec`s, and
/// for good. The bounding set is what root gets back at every `exec`, so
/// it is cut first, while we still hold `CAP_SETPCAP`.
fn drop_capabilities(keep: &CapsHashSet) -> Result<()> {
    for cap in caps::runtime::thread_all_supported().difference(keep) {
        caps::drop(None, CapSet::Bounding, *cap)
            .with_context(|| format!("drop {cap} from the bounding set"))?;
    }
    caps::clear(None, CapSet::Ambient).context("clear the ambient capabilities")?;
    caps::clear(None, CapSet::Inheritable).context("clear the inheritable capabilities")?;
    caps::set(None, CapSet::Effective, keep).context("set the effective capabilities")?;
    caps::set(None, CapSet::Permitted, keep).context("set the permitted capabilities")
}
// ANCHOR_END: drop_capabilities

// ANCHOR: seccomp_filters
/// The filters to install: every door the container's capabilities do
/// not open answers `EPERM`; `clone` with a namespace flag too; `clone3`
/// answers `ENOSYS`, because its flags are in memory a filter cannot
/// read, and C libraries then fall back to `clone`, whose flags it can.
fn seccomp_filters(keep: &CapsHashSet) -> Result<Vec<BpfProgram>> {
    let mut refused: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for door in DOORS {
        if door.opened_by.is_some_and(|cap| keep.contains(&cap)) {
            continue;
        }
        for &syscall in door.syscalls {
            refused.insert(syscall, Vec::new());
        }
    }
    if !keep.contains(&Capability::CAP_SYS_ADMIN) {
        refused.insert(libc::SYS_clone, clone_rules()?);
    }
    let clone3 = BTreeMap::from([(libc::SYS_clone3, Vec::new())]);
    Ok(vec![
        compile(refused, libc::EPERM)?,
        compile(clone3, libc::ENOSYS)?,
    ])
}
// ANCHOR_END: seccomp_filters

// ANCHOR: helpers
/// One rule per namespace flag: `clone` is refused when its flags
/// (the first argument on x86-64 and arm64) carry any of them.
fn clone_rules() -> Result<Vec<SeccompRule>> {
    NAMESPACE_FLAGS
        .iter()
        .map(|flag| {
            let bits = flag.bits() as u64;
            let carries = SeccompCondition::new(
                0,
                SeccompCmpArgLen::Qword,
                SeccompCmpOp::MaskedEq(bits),
                bits,
            )
            .context("build a seccomp condition")?;
            SeccompRule::new(vec![carries]).context("build a seccomp rule")
        })
        .collect()
}

/// A filter that answers `errno` to the calls of `rules` and lets every
/// other call through, compiled for this machine's architecture.
fn compile(rules: BTreeMap<i64, Vec<SeccompRule>>, errno: i32) -> Result<BpfProgram> {
    let arch = TargetArch::try_from(std::env::consts::ARCH)
        .map_err(|e| Error::new(format!("seccomp on {}: {e}", std::env::consts::ARCH)))?;
    let answer = SeccompAction::Errno(errno.unsigned_abs());
    let filter = SeccompFilter::new(rules, SeccompAction::Allow, answer, arch)
        .context("build the seccomp filter")?;
    filter.try_into().context("compile the seccomp filter")
}

/// Install `filter` on this process; it stays for good, across `exec`.
/// Without `no_new_privs` the kernel allows it only to `CAP_SYS_ADMIN`;
/// `seccompiler::apply_filter` sets `no_new_privs` itself, first.
fn install(filter: &BpfProgram) -> Result<()> {
    seccompiler::apply_filter(filter).map_err(|e| {
        Error::new("install the seccomp filter")
            .because(e)
            .fix("set no_new_privs before installing the filter (chapter 10, \"The order\")")
    })
}
// ANCHOR_END: helpers
