//! Lesson 11: oci.
//!
//! A container engine (podman, docker, containerd) never makes a
//! namespace itself: it writes a *bundle* (a directory with `config.json`
//! and a root filesystem) and calls a *runtime* (runc, crun, youki) with
//! the commands of the OCI runtime spec: `create`, `start`, `state`,
//! `kill`, `delete`. This lesson makes the course's runtime one of them,
//! so that `podman --runtime` runs it in runc's place.
//!
//! The core does the plumbing: the command line, reading `config.json`
//! into the `oci-spec` crate's types, the container's directory, the exec
//! FIFO that holds a created container before `exec`, signals, undo
//! records. This crate decides what the spec means for the course:
//!
//! * the mapping: each field of `config.json` onto what lessons 00 to 10
//!   already do, or one line naming the field this runtime cannot honour;
//! * the life cycle: which state a container is in, from what the core
//!   sees on the host, and what each state allows.

use std::collections::HashSet;
use std::path::Path;

use nslab_runtime::oci::{Oci, Operation, Plan, Seen, in_bundle};
use nslab_runtime::oci_spec::runtime::{
    Capability, ContainerState, LinuxIdMapping, LinuxNamespace, LinuxNamespaceType, LinuxResources,
    Mount, Process, Spec,
};
use nslab_runtime::paths::resolve_in_root;
use nslab_runtime::{
    Config, Cpus, Error, IdMap, Limits, Memory, MsFlags, OciProcess, Pids, Result, Rlimit, Tmpfs,
    Volume,
};

pub struct OciRuntime;

// ANCHOR: contract
impl Oci for OciRuntime {
    fn plan(&self, spec: &Spec, bundle: &Path) -> Result<Plan> {
        map_spec(spec, bundle)
    }

    fn exec_process(&self, process: &Process) -> Result<Config> {
        map_process(process)
    }

    fn status(&self, seen: &Seen) -> ContainerState {
        status(seen)
    }

    fn allow(&self, operation: Operation, status: ContainerState) -> Result<()> {
        allow(operation, status)
    }
}
// ANCHOR_END: contract

/// The major version of the runtime spec this runtime speaks.
pub const SPEC_MAJOR: &str = "1";

// ANCHOR: map_spec
/// The whole bundle: each part mapped by one function below, and every
/// field this runtime does not do refused by name. Nothing may be left out
/// in silence: a container that silently lacks what its engine asked for
/// (a hook, a device, a user namespace) is worse than one that fails.
pub fn map_spec(spec: &Spec, bundle: &Path) -> Result<Plan> {
    check_version(spec.version())?;
    let process = spec
        .process()
        .as_ref()
        .ok_or_else(|| unsupported("process", "config.json has no process: nothing to run"))?;
    let root = spec
        .root()
        .as_ref()
        .ok_or_else(|| unsupported("root", "config.json has no root"))?;
    if let Some(hooks) = spec.hooks() {
        let any = [
            hooks.prestart().is_some(),
            hooks.create_runtime().is_some(),
            hooks.create_container().is_some(),
            hooks.start_container().is_some(),
            hooks.poststart().is_some(),
            hooks.poststop().is_some(),
        ];
        if any.contains(&true) {
            return Err(unsupported("hooks", "OCI hooks are not supported"));
        }
    }
    let linux = spec
        .linux()
        .as_ref()
        .ok_or_else(|| unsupported("linux", "config.json has no linux section"))?;
    refuse_set(&[
        (
            "linux.rootfsPropagation",
            linux.rootfs_propagation().is_some(),
        ),
        ("linux.mountLabel", linux.mount_label().is_some()),
        ("linux.intelRdt", linux.intel_rdt().is_some()),
        ("linux.personality", linux.personality().is_some()),
        ("linux.timeOffsets", linux.time_offsets().is_some()),
        ("linux.netDevices", linux.net_devices().is_some()),
        ("linux.memoryPolicy", linux.memory_policy().is_some()),
        (
            "linux.devices",
            linux.devices().as_ref().is_some_and(|d| !d.is_empty()),
        ),
    ])?;

    let (create, join) = map_namespaces(linux.namespaces().as_deref().unwrap_or_default())?;
    let uid_maps = id_maps(linux.uid_mappings());
    let gid_maps = id_maps(linux.gid_mappings());
    if create.iter().any(|kind| kind == "user") && (uid_maps.is_empty() || gid_maps.is_empty()) {
        return Err(unsupported(
            "linux.uidMappings",
            "a new user namespace needs both uidMappings and gidMappings",
        ));
    }
    let limits = match linux.resources() {
        Some(resources) => map_resources(resources)?,
        None => Limits::default(),
    };
    let mut container = map_process(process)?;
    if let Some(oci) = container.oci.as_mut() {
        oci.join = join;
        oci.umask = process.user().umask();
        oci.sysctl = linux
            .sysctl()
            .iter()
            .flatten()
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
    }
    let rootfs = in_bundle(bundle, root.path());
    let mounts = spec.mounts().as_deref().unwrap_or_default();
    let config = Config {
        hostname: spec.hostname().clone().unwrap_or_default(),
        domainname: spec.domainname().clone(),
        volumes: map_mounts(mounts, bundle)?,
        tmpfs: map_tmpfs(mounts, &rootfs)?,
        // podman's --read-only: lesson 04 remounts the rootfs last.
        read_only_root: root.readonly().unwrap_or(false),
        rootfs: Some(rootfs),
        uid_maps,
        gid_maps,
        limits,
        // The spec's own lists: none listed means none hidden.
        masked_paths: Some(linux.masked_paths().clone().unwrap_or_default()),
        read_only_paths: Some(linux.readonly_paths().clone().unwrap_or_default()),
        // Lesson 10's own filter stays off: the spec's profile, if any,
        // is the core's to compile and install.
        seccomp: Some("unconfined".to_string()),
        ..container
    };
    Ok(Plan {
        config,
        create,
        seccomp: linux.seccomp().clone(),
    })
}
// ANCHOR_END: map_spec

/// A namespace to join rather than create: its `/proc/PID/ns` name and
/// the file that names it (`net`, `/run/netns/NAME`).
pub type Joined = (String, std::path::PathBuf);

// ANCHOR: map_namespaces
/// The namespaces to create (by `/proc/PID/ns` name: `mnt`, `net`) and
/// those to join, by the file that names one (`/run/netns/NAME`, which
/// podman makes for its networks). Each type at most once; a mount
/// namespace of its own is required (lesson 04 would otherwise change the
/// host's mounts); only network, IPC and UTS namespaces may be joined.
pub fn map_namespaces(namespaces: &[LinuxNamespace]) -> Result<(Vec<String>, Vec<Joined>)> {
    // Book: chapter 11, "Exercise: map_namespaces". Every namespace the bundle
    // lists must be either created by the lesson that makes it or, when it
    // names a file, joined, and nothing listed may be dropped or doubled in
    // silence. A container without a mount namespace of its own would let
    // lesson 04 change the host's mounts.
    todo!("which namespaces to create, and which to join")
}
// ANCHOR_END: map_namespaces

/// The file systems lesson 04 mounts itself, by target and type. Its
/// `/tmp` and `/run` are its own, whatever options the bundle gives them.
const LESSON_04_MOUNTS: [(&str, &str); 8] = [
    ("/proc", "proc"),
    ("/tmp", "tmpfs"),
    ("/run", "tmpfs"),
    ("/dev", "tmpfs"),
    ("/sys", "sysfs"),
    ("/dev/pts", "devpts"),
    ("/dev/mqueue", "mqueue"),
    ("/dev/shm", "tmpfs"),
];

/// Options of a bind mount this runtime accepts: `ro` makes it
/// read-only, a private propagation is what every mount of ours has, and
/// `nosuid`, `nodev` and `noexec` are not applied (a volume has no such
/// flags; podman's `/dev/shm` asks for all three, and chapter 11's table
/// names the difference). Every other one is refused.
const BIND_OPTIONS: [&str; 9] = [
    "bind", "rbind", "ro", "rw", "private", "rprivate", "nosuid", "nodev", "noexec",
];

// ANCHOR: map_mounts
/// The spec's mounts as lesson 04's volumes. The kernel filesystems
/// lesson 04 mounts by itself are skipped, and so is a `cgroup`
/// filesystem (lesson 08's namespace shows the container its own part
/// when it mounts one) and any other `tmpfs` ([`map_tmpfs`] has those);
/// a bind mount becomes a volume, read-only with `ro`; anything else is
/// refused, naming the mount.
pub fn map_mounts(mounts: &[Mount], bundle: &Path) -> Result<Vec<Volume>> {
    // Book: chapter 11, "Exercise: map_mounts". Each mount of the bundle must
    // end up in the container as the engine asked (podman binds its own
    // /etc/hosts, /etc/hostname and /dev/shm), or be refused by name; a kernel
    // filesystem lesson 04 already mounts at that place needs nothing more, and
    // a tmpfs anywhere else is `map_tmpfs`'s (given).
    todo!("the bundle's mounts as lesson 04's volumes")
}
// ANCHOR_END: map_mounts

// ANCHOR: map_tmpfs
/// The spec's `tmpfs` mounts beyond lesson 04's own, each a tmpfs of the
/// container's (podman's `--read-only` asks for one at `/var/tmp`): the
/// mount flags its options name, and the file system's own options
/// (`size=`, `mode=`) passed on as they are. `tmpcopyup` asks for what
/// the image has at that place to be copied in: honoured where the image
/// has nothing there, refused where it has something.
pub fn map_tmpfs(mounts: &[Mount], rootfs: &Path) -> Result<Vec<Tmpfs>> {
    let mut all = Vec::new();
    for (index, mount) in mounts.iter().enumerate() {
        let target = mount.destination();
        let own = LESSON_04_MOUNTS.contains(&(&*target.to_string_lossy(), "tmpfs"));
        if mount.typ().as_deref() != Some("tmpfs") || own {
            continue;
        }
        let field = format!("mounts[{index}] ({})", target.display());
        let in_rootfs = resolve_in_root(rootfs, target).map_err(|why| unsupported(&field, &why))?;
        let mut flags = MsFlags::empty();
        let mut data = Vec::new();
        for option in mount.options().iter().flatten() {
            match option.as_str() {
                "ro" => flags |= MsFlags::MS_RDONLY,
                "nosuid" => flags |= MsFlags::MS_NOSUID,
                "nodev" => flags |= MsFlags::MS_NODEV,
                "noexec" => flags |= MsFlags::MS_NOEXEC,
                "noatime" => flags |= MsFlags::MS_NOATIME,
                "strictatime" => flags |= MsFlags::MS_STRICTATIME,
                // The defaults, and a propagation every mount of ours has.
                "rw" | "suid" | "dev" | "exec" | "relatime" | "private" | "rprivate" => {}
                "tmpcopyup" => {
                    let has_files = std::fs::read_dir(&in_rootfs)
                        .is_ok_and(|mut entries| entries.next().is_some());
                    if has_files {
                        return Err(unsupported(
                            &field,
                            "tmpcopyup is not supported where the image has files",
                        ));
                    }
                }
                sized if TMPFS_DATA.iter().any(|key| sized.starts_with(key)) => {
                    data.push(sized.to_string());
                }
                other => {
                    return Err(unsupported(
                        &field,
                        &format!("the tmpfs option {other:?} is not supported"),
                    ));
                }
            }
        }
        all.push(Tmpfs {
            container: target.clone(),
            flags,
            data: data.join(","),
        });
    }
    Ok(all)
}
// ANCHOR_END: map_tmpfs

/// Options tmpfs itself takes, passed on to it.
const TMPFS_DATA: [&str; 6] = ["size=", "mode=", "nr_inodes=", "nr_blocks=", "uid=", "gid="];

// ANCHOR: map_process
/// The process: its command, environment, working directory, user,
/// resource limits and capabilities. Also what conmon's `exec` asks for.
/// The capabilities are the spec's bounding set, exactly: lesson 10 keeps
/// `--cap-add` of each on top of `--cap-drop ALL`. Without a
/// `capabilities` section the process keeps every capability, as runc.
pub fn map_process(process: &Process) -> Result<Config> {
    // Book: chapter 11, "Exercise: map_process". The container's process must
    // start with exactly what the bundle describes: its arguments, its whole
    // environment, its working directory, its user and groups, its resource
    // limits, and exactly the capabilities of its bounding set (lesson 10
    // applies them). What the course cannot honour is refused by name.
    todo!("the bundle's process, in the course's terms")
}
// ANCHOR_END: map_process

/// The process settings this runtime does not do, refused by name.
fn refuse_process_fields(process: &Process) -> Result<()> {
    if process.terminal().unwrap_or(false) {
        return Err(unsupported(
            "process.terminal",
            "a terminal is not supported (leave out podman's -t)",
        ));
    }
    refuse_set(&[
        (
            "process.apparmorProfile",
            process.apparmor_profile().is_some(),
        ),
        ("process.selinuxLabel", process.selinux_label().is_some()),
        ("process.oomScoreAdj", process.oom_score_adj().is_some()),
        ("process.ioPriority", process.io_priority().is_some()),
        ("process.scheduler", process.scheduler().is_some()),
        ("process.commandLine", process.command_line().is_some()),
        (
            "process.execCPUAffinity",
            process.exec_cpu_affinity().is_some(),
        ),
    ])
}

/// The process's resource limits, by their `RLIMIT_*` numbers.
fn map_rlimits(process: &Process) -> Result<Vec<Rlimit>> {
    process
        .rlimits()
        .iter()
        .flatten()
        .map(|limit| {
            let name = limit.typ().to_string();
            let resource = rlimit_number(&name).ok_or_else(|| {
                unsupported(
                    "process.rlimits",
                    &format!("{name} is not a limit of Linux"),
                )
            })?;
            Ok(Rlimit {
                resource,
                soft: limit.soft(),
                hard: limit.hard(),
            })
        })
        .collect()
}

// ANCHOR: map_resources
/// `linux.resources` as lesson 08's limits: memory in bytes, processes,
/// and CPU time as a quota per 100 ms period. A limit lesson 08 does not
/// set is refused by name (`refuse_resource_fields`), and so is a CPU
/// period other than 100 ms.
pub fn map_resources(resources: &LinuxResources) -> Result<Limits> {
    // Book: chapter 11, "Exercise: map_resources". The bundle's memory, process
    // and CPU limits must reach lesson 08 with the same meaning and the same
    // checks as `--memory`, `--pids-limit` and `--cpus`; a limit lesson 08
    // cannot set is refused by name, never dropped.
    todo!("the bundle's limits as lesson 08's")
}
// ANCHOR_END: map_resources

/// The limits lesson 08 does not set, refused by name. The devices rule
/// podman always sends, "deny every device", is what lesson 04's `/dev`
/// already means; a rule that allows one is refused.
fn refuse_resource_fields(resources: &LinuxResources) -> Result<()> {
    let devices_allowed = resources
        .devices()
        .iter()
        .flatten()
        .any(|rule| rule.allow());
    refuse_set(&[
        (
            "linux.resources.devices (allowing a device)",
            devices_allowed,
        ),
        ("linux.resources.blockIO", resources.block_io().is_some()),
        (
            "linux.resources.hugepageLimits",
            resources.hugepage_limits().is_some(),
        ),
        ("linux.resources.network", resources.network().is_some()),
        ("linux.resources.rdma", resources.rdma().is_some()),
        ("linux.resources.unified", resources.unified().is_some()),
    ])?;
    // Lesson 08 sets a memory limit (and allows no swap: `swap` asks for
    // no more than that) and a CPU quota; nothing else of either.
    let memory = resources.memory().as_ref();
    let cpu = resources.cpu().as_ref();
    refuse_set(&[
        (
            "linux.resources.memory.reservation",
            memory.is_some_and(|m| m.reservation().is_some()),
        ),
        (
            "linux.resources.memory.kernel",
            memory.is_some_and(|m| m.kernel().is_some()),
        ),
        (
            "linux.resources.memory.kernelTCP",
            memory.is_some_and(|m| m.kernel_tcp().is_some()),
        ),
        (
            "linux.resources.memory.swappiness",
            memory.is_some_and(|m| m.swappiness().is_some()),
        ),
        (
            "linux.resources.memory.disableOOMKiller",
            memory.is_some_and(|m| m.disable_oom_killer() == Some(true)),
        ),
        (
            "linux.resources.cpu.shares",
            cpu.is_some_and(|c| c.shares().is_some()),
        ),
        (
            "linux.resources.cpu.idle",
            cpu.is_some_and(|c| c.idle().is_some()),
        ),
        (
            "linux.resources.cpu.burst",
            cpu.is_some_and(|c| c.burst().is_some()),
        ),
        (
            "linux.resources.cpu.realtimeRuntime",
            cpu.is_some_and(|c| c.realtime_runtime().is_some() || c.realtime_period().is_some()),
        ),
        (
            "linux.resources.cpu.cpus",
            cpu.is_some_and(|c| c.cpus().is_some()),
        ),
        (
            "linux.resources.cpu.mems",
            cpu.is_some_and(|c| c.mems().is_some()),
        ),
    ])
}

/// The CPU period lesson 08 uses, in microseconds.
const CPU_PERIOD_US: u64 = 100_000;

// ANCHOR: status
/// The state a container is in, from what the core saw: `creating` until
/// `create` has finished, `created` while it waits at its exec FIFO,
/// `running` once `start` took the FIFO away, `stopped` once its process
/// has ended, whatever the rest says.
pub fn status(seen: &Seen) -> ContainerState {
    // Book: chapter 11, "Exercise: status". The state must be true at every
    // moment, including when nobody was there to see a change: a container
    // whose process ended by itself, or was killed before `start`, is stopped.
    todo!("which state is the container in?")
}
// ANCHOR_END: status

// ANCHOR: allow
/// The spec's rules for each operation: `start` only a created container
/// (and so only once); `kill` only one whose process exists (created or
/// running); `exec` only a running one; `delete` only a stopped one,
/// unless forced.
pub fn allow(operation: Operation, status: ContainerState) -> Result<()> {
    // Book: chapter 11, "Exercise: allow". Each command must act only on a
    // container in a state the runtime spec allows it in, and otherwise fail
    // with one line that says the state and what to do instead.
    todo!("may this command act on a container in this state?")
}
// ANCHOR_END: allow

/// Refuse a spec version whose major is not ours: a version 2 may mean
/// something else by the same fields.
fn check_version(version: &str) -> Result<()> {
    if version.split('.').next() == Some(SPEC_MAJOR) {
        return Ok(());
    }
    Err(Error::new(format!(
        "config.json: ociVersion {version:?} is not a version {SPEC_MAJOR}.x of the runtime spec"
    ))
    .fix("give a bundle made for runtime spec 1.x (runc and podman write 1.0.2 and later)"))
}

/// The spec's ID maps as lesson 05's.
fn id_maps(maps: &Option<Vec<LinuxIdMapping>>) -> Vec<IdMap> {
    maps.iter()
        .flatten()
        .map(|map| IdMap {
            inside: map.container_id(),
            outside: map.host_id(),
            count: map.size(),
        })
        .collect()
}

/// Capability names as lesson 10 reads them (`CHOWN`, `NET_RAW`).
fn names(set: &Option<HashSet<Capability>>) -> Vec<String> {
    let mut names: Vec<String> = set.iter().flatten().map(|cap| cap.to_string()).collect();
    names.sort();
    names
}

/// `RLIMIT_NOFILE` and the others, by the name the spec gives them.
fn rlimit_number(name: &str) -> Option<u32> {
    let known = [
        ("RLIMIT_CPU", libc::RLIMIT_CPU),
        ("RLIMIT_FSIZE", libc::RLIMIT_FSIZE),
        ("RLIMIT_DATA", libc::RLIMIT_DATA),
        ("RLIMIT_STACK", libc::RLIMIT_STACK),
        ("RLIMIT_CORE", libc::RLIMIT_CORE),
        ("RLIMIT_RSS", libc::RLIMIT_RSS),
        ("RLIMIT_NPROC", libc::RLIMIT_NPROC),
        ("RLIMIT_NOFILE", libc::RLIMIT_NOFILE),
        ("RLIMIT_MEMLOCK", libc::RLIMIT_MEMLOCK),
        ("RLIMIT_AS", libc::RLIMIT_AS),
        ("RLIMIT_LOCKS", libc::RLIMIT_LOCKS),
        ("RLIMIT_SIGPENDING", libc::RLIMIT_SIGPENDING),
        ("RLIMIT_MSGQUEUE", libc::RLIMIT_MSGQUEUE),
        ("RLIMIT_NICE", libc::RLIMIT_NICE),
        ("RLIMIT_RTPRIO", libc::RLIMIT_RTPRIO),
        ("RLIMIT_RTTIME", libc::RLIMIT_RTTIME),
    ];
    known
        .iter()
        .find(|(known, _)| *known == name)
        // The constants are u32 with glibc, c_int with musl.
        .map(|&(_, number)| {
            #[allow(clippy::unnecessary_cast)]
            let number = number as u32;
            number
        })
}

/// Refuse the first of `fields` that the bundle sets, by name.
fn refuse_set(fields: &[(&str, bool)]) -> Result<()> {
    match fields.iter().find(|(_, set)| *set) {
        Some((field, _)) => Err(unsupported(field, "not supported by this runtime")),
        None => Ok(()),
    }
}

/// One line naming the field and the fix.
fn unsupported(field: &str, why: &str) -> Error {
    Error::new(format!("config.json: {field}: {why}"))
        .fix("remove it from the bundle, or use runc for this container")
}
