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
    let (mut create, mut join) = (Vec::new(), Vec::new());
    let mut seen = HashSet::new();
    for namespace in namespaces {
        let kind = namespace.typ().to_string();
        if !seen.insert(namespace.typ()) {
            return Err(unsupported(
                "linux.namespaces",
                &format!("the {kind} namespace is listed twice"),
            ));
        }
        match (namespace.path(), namespace.typ()) {
            (None, _) => create.push(kind),
            (
                Some(path),
                LinuxNamespaceType::Network | LinuxNamespaceType::Ipc | LinuxNamespaceType::Uts,
            ) => join.push((kind, path.clone())),
            (Some(_), _) => {
                return Err(unsupported(
                    "linux.namespaces",
                    &format!("joining a {kind} namespace by path is not supported"),
                ));
            }
        }
    }
    if !create.iter().any(|kind| kind == "mnt") {
        return Err(unsupported(
            "linux.namespaces",
            "a container without a mount namespace of its own is not supported",
        ));
    }
    Ok((create, join))
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
    let mut volumes = Vec::new();
    for (index, mount) in mounts.iter().enumerate() {
        let target = mount.destination();
        let kind = mount.typ().clone().unwrap_or_default();
        let options = mount.options().clone().unwrap_or_default();
        let field = format!("mounts[{index}] ({})", target.display());
        let is_bind = kind == "bind" || options.iter().any(|o| o == "bind" || o == "rbind");
        if !is_bind {
            let made_by_lesson_04 =
                LESSON_04_MOUNTS.contains(&(&*target.to_string_lossy(), kind.as_str()));
            if made_by_lesson_04 || kind == "tmpfs" || kind == "cgroup" || kind == "cgroup2" {
                continue;
            }
            return Err(unsupported(
                &field,
                &format!("a {kind:?} mount is not supported"),
            ));
        }
        if let Some(option) = options.iter().find(|o| !BIND_OPTIONS.contains(&o.as_str())) {
            return Err(unsupported(
                &field,
                &format!("the mount option {option:?} is not supported"),
            ));
        }
        let source = mount
            .source()
            .as_ref()
            .ok_or_else(|| unsupported(&field, "a bind mount needs a source"))?;
        volumes.push(Volume {
            host: in_bundle(bundle, source),
            container: target.clone(),
            read_only: options.iter().any(|o| o == "ro"),
        });
    }
    Ok(volumes)
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
    refuse_process_fields(process)?;
    let command = process.args().clone().unwrap_or_default();
    if command.is_empty() {
        return Err(unsupported("process.args", "the process has no arguments"));
    }
    let cap_add = match process.capabilities() {
        Some(capabilities) => names(capabilities.bounding()),
        None => vec!["ALL".to_string()],
    };
    let user = process.user();
    Ok(Config {
        command,
        cap_drop: vec!["ALL".to_string()],
        cap_add,
        oci: Some(Box::new(OciProcess {
            env: process.env().clone().unwrap_or_default(),
            cwd: process.cwd().clone(),
            uid: user.uid(),
            gid: user.gid(),
            additional_gids: user.additional_gids().clone().unwrap_or_default(),
            rlimits: map_rlimits(process)?,
            ..OciProcess::default()
        })),
        ..Config::default()
    })
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
    let mut limits = Limits::default();
    if let Some(bytes) = resources
        .memory()
        .as_ref()
        .and_then(|memory| memory.limit())
    {
        let memory = bytes
            .to_string()
            .parse::<Memory>()
            .map_err(|why| unsupported("linux.resources.memory.limit", &why))?;
        limits.memory = Some(memory);
    }
    // Zero or less is no limit, as runc reads it.
    if let Some(limit) = resources.pids().map(|pids| pids.limit()).filter(|l| *l > 0) {
        let pids = limit
            .to_string()
            .parse::<Pids>()
            .map_err(|why| unsupported("linux.resources.pids.limit", &why))?;
        limits.pids = Some(pids);
    }
    if let Some(cpu) = resources.cpu() {
        if cpu.period().is_some_and(|period| period != CPU_PERIOD_US) {
            return Err(unsupported(
                "linux.resources.cpu.period",
                "only the kernel's default period, 100000 microseconds, is supported",
            ));
        }
        if let Some(quota) = cpu.quota().filter(|quota| *quota > 0) {
            limits.cpus = Some(Cpus {
                quota_us: quota.unsigned_abs(),
            });
        }
    }
    refuse_resource_fields(resources)?;
    Ok(limits)
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
    if !seen.alive {
        ContainerState::Stopped
    } else if !seen.set_up {
        ContainerState::Creating
    } else if seen.exec_fifo {
        ContainerState::Created
    } else {
        ContainerState::Running
    }
}
// ANCHOR_END: status

// ANCHOR: allow
/// The spec's rules for each operation: `start` only a created container
/// (and so only once); `kill` only one whose process exists (created or
/// running); `exec` only a running one; `delete` only a stopped one,
/// unless forced.
pub fn allow(operation: Operation, status: ContainerState) -> Result<()> {
    use ContainerState::{Created, Running, Stopped};
    let allowed = match operation {
        Operation::Start => status == Created,
        Operation::Kill => matches!(status, Created | Running),
        Operation::Exec => status == Running,
        Operation::Delete { force } => force || status == Stopped,
    };
    if allowed {
        return Ok(());
    }
    let fix = match operation {
        Operation::Start => "`start` runs a container once, after `create`",
        Operation::Kill => "`kill` signals created and running containers only",
        Operation::Exec => "`exec` enters running containers only",
        Operation::Delete { .. } => "stop it first (`kill`), or `delete --force` it",
    };
    Err(Error::new(format!("it is {status}: cannot {operation}")).fix(fix))
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
