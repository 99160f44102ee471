//! Lesson 08: cgroup.
//!
//! Namespaces decide what a container can *see*; control groups decide
//! how much it may *use*. The runtime makes one cgroup per container,
//! `nslab/<runtime PID>`, writes its limits (`--memory`, `--pids-limit`,
//! `--cpus`) into the controllers' files, and moves the container into
//! it while it still waits for "go", so that the command never runs a
//! single instruction outside its limits. Then the container gets the
//! seventh namespace, its own cgroup namespace, in which its cgroup is
//! the root. When it ends, the runtime reads the OOM killer's counter,
//! says if it struck, and removes the cgroup.
//!
//! You write the cgroup v2 logic, in v2's file names; on a host whose
//! controllers are v1, the core's small table writes the same limits in
//! v1's files (see `nslab_runtime::cgroup`).

use std::fs;
use std::path::Path;

use nix::mount::{MsFlags, mount};
use nix::sched::unshare;
use nix::unistd::{Pid, geteuid};
use nslab_runtime::cgroup::{self, Cgroups, PARENT, Version};
use nslab_runtime::limits::CPU_PERIOD_US;
use nslab_runtime::{CloneFlags, Context, Error, Limits, Namespace, Result, Run, transcript};

pub struct CgroupNamespace;

impl Namespace for CgroupNamespace {
    // ANCHOR: validate
    /// Refuse limits this host or this user cannot give, before anything
    /// exists. Also the first look at the host's cgroups, which the
    /// container keeps a copy of (`cgroup::host`).
    fn validate(&self, run: &Run) -> Result<()> {
        let cgroups = cgroup::host()?;
        let limits = &run.config.limits;
        if limits.is_empty() {
            return Ok(());
        }
        if !geteuid().is_root() {
            return Err(Error::new(format!(
                "limits ({limits}) need root: the cgroup trees under {} belong to root",
                cgroup::ROOT
            ))
            .fix("run as root (sudo), or leave out --memory, --pids-limit and --cpus"));
        }
        cgroups.refuse_missing(&limits.controllers())
    }
    // ANCHOR_END: validate

    // ANCHOR: clone_flags
    fn clone_flags(&self) -> CloneFlags {
        // Not CLONE_NEWCGROUP: a cgroup namespace's root is the cgroup its
        // creator is in when it is made, and at clone time that is the
        // runtime's. The child unshares it later, from inside its own.
        CloneFlags::empty()
    }
    // ANCHOR_END: clone_flags

    // ANCHOR: in_parent
    /// On the host, while the child waits for "go": its cgroup, its
    /// limits, and the child in it. Only root may make cgroups; a
    /// normal user's container runs in the user's own (as rootless
    /// runtimes do without systemd's help).
    fn in_parent(&self, run: &Run, child: Pid) -> Result<()> {
        if !geteuid().is_root() {
            return Ok(());
        }
        let cgroups = cgroup::host()?;
        let path = cgroup::container_path(run.runtime_pid);
        // A leftover of a dead runtime that had our PID goes first: its
        // old limits must not become ours.
        cgroups.remove(&path)?;
        create_cgroup(run, cgroups, &path)?;
        cgroups.write_all(&path, &limit_files(&run.config.limits))?;
        place(cgroups, &path, child)?;
        transcript::parent(format_args!(
            "cgroup {path} ({}), limits: {}",
            cgroups.describe(),
            run.config.limits
        ));
        Ok(())
    }
    // ANCHOR_END: in_parent

    // ANCHOR: in_child
    /// In the container, already in its cgroup: a cgroup namespace whose
    /// root is that cgroup, and with `--rootfs` a read-only view of it at
    /// /sys/fs/cgroup.
    fn in_child(&self, run: &Run) -> Result<()> {
        // Asked before the namespace, where the path still shows.
        let own_cgroup = in_own_cgroup(run);
        enter_cgroup_namespace()?;
        // Without a cgroup of its own, the namespace's root would be the
        // runtime's cgroup: nothing the container should look around in.
        if run.config.rootfs.is_some() && own_cgroup {
            mount_cgroup_fs(cgroup::host()?, Path::new(cgroup::ROOT))?;
        }
        let shown = fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        let trees = shown.lines().count();
        let at_root = shown.lines().filter(|line| line.ends_with(":/")).count();
        transcript::container(format_args!(
            "own cgroup namespace: /proc/self/cgroup shows / in {at_root} of {trees} trees"
        ));
        Ok(())
    }
    // ANCHOR_END: in_child

    // ANCHOR: cleanup
    /// Once the container is gone: did the OOM killer strike? Then the
    /// cgroup goes.
    fn cleanup(&self, run: &Run, _child: Pid) -> Result<()> {
        if !geteuid().is_root() {
            return Ok(());
        }
        let cgroups = cgroup::host()?;
        let path = cgroup::container_path(run.runtime_pid);
        if !cgroups.dirs(&path).iter().any(|dir| dir.exists()) {
            return Ok(());
        }
        if let Some(memory) = run.config.limits.memory {
            let kills = oom_kills(cgroups, &path)?;
            if kills > 0 {
                transcript::notice(format_args!(
                    "the OOM killer killed {kills} process(es) of the container: it reached \
                     its memory limit, --memory {memory} ({} bytes; memory.events oom_kill {kills})",
                    memory.0
                ));
            }
        }
        remove_cgroup(run, cgroups, &path)
    }
    // ANCHOR_END: cleanup
}

// ANCHOR: limit_files
/// The v2 files that hold `limits`, and what to write in each, e.g.
/// `("memory.max", "33554432")`. A limit that is `None` is not written:
/// a new cgroup starts unlimited (`max`).
pub fn limit_files(limits: &Limits) -> Vec<(String, String)> {
    let mut files = Vec::new();
    if let Some(memory) = limits.memory {
        files.push(("memory.max".to_string(), memory.0.to_string()));
        // Without this, a host with swap lets the container page out
        // instead of meeting its limit.
        files.push(("memory.swap.max".to_string(), "0".to_string()));
    }
    if let Some(pids) = limits.pids {
        files.push(("pids.max".to_string(), pids.0.to_string()));
    }
    if let Some(cpus) = limits.cpus {
        files.push((
            "cpu.max".to_string(),
            format!("{} {CPU_PERIOD_US}", cpus.quota_us),
        ));
    }
    files
}
// ANCHOR_END: limit_files

// ANCHOR: create_cgroup
/// Make `nslab`, let its children use the controllers, then make the
/// container's cgroup `path` under it, recorded in the container's
/// directory (`create_container`) so that `just clean` finds it.
fn create_cgroup(run: &Run, cgroups: &Cgroups, path: &str) -> Result<()> {
    cgroups.create(PARENT)?;
    // v2: a controller works in a cgroup only if its parent lists it in
    // `cgroup.subtree_control`. nslab holds no process, so the "no
    // internal processes" rule allows it.
    let enable: Vec<String> = cgroups
        .v2_controllers()
        .iter()
        .map(|controller| format!("+{controller}"))
        .collect();
    if !enable.is_empty() {
        cgroups.write(PARENT, "cgroup.subtree_control", &enable.join(" "))?;
    }
    cgroups.create_container(&run.container_dir, path)
}
// ANCHOR_END: create_cgroup

// ANCHOR: place
/// Move the waiting child into the cgroup `path`: its PID, written to
/// `cgroup.procs`.
fn place(cgroups: &Cgroups, path: &str, child: Pid) -> Result<()> {
    cgroups.write(path, "cgroup.procs", &child.to_string())
}
// ANCHOR_END: place

// ANCHOR: enter_cgroup_namespace
/// A cgroup namespace of our own, made now that we are in our cgroup: its
/// root is that cgroup, so `/proc/self/cgroup` shows `/`.
fn enter_cgroup_namespace() -> Result<()> {
    unshare(CloneFlags::CLONE_NEWCGROUP).context("unshare the cgroup namespace")
}
// ANCHOR_END: enter_cgroup_namespace

// ANCHOR: oom_kills
/// How many processes of the cgroup `path` the OOM killer killed: the
/// `oom_kill` line of `memory.events`.
fn oom_kills(cgroups: &Cgroups, path: &str) -> Result<u64> {
    let events = cgroups.read(path, "memory.events")?;
    Ok(cgroup::field(&events, "oom_kill").unwrap_or(0))
}
// ANCHOR_END: oom_kills

// ANCHOR: remove_cgroup
/// Remove the container's cgroup, now empty, and its record.
fn remove_cgroup(run: &Run, cgroups: &Cgroups, path: &str) -> Result<()> {
    cgroups.remove_container(&run.container_dir, path)
}
// ANCHOR_END: remove_cgroup

// ANCHOR: mount_cgroup_fs
/// A read-only cgroup file system at `target` (the container's
/// /sys/fs/cgroup). Mounted from inside the cgroup namespace, it shows the
/// namespace's root, the container's own cgroup, and nothing above it.
/// v2: the one tree. v1: a small tmpfs with one directory per tree.
fn mount_cgroup_fs(cgroups: &Cgroups, target: &Path) -> Result<()> {
    let read_only =
        MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    let mount_tree = |fstype: &str, at: &Path, options: &str| {
        mount(Some(fstype), at, Some(fstype), read_only, Some(options))
            .with_context(|| format!("mount {fstype} ({options}) on {}", at.display()))
    };
    let trees = cgroups.hierarchies();
    if let [tree] = trees
        && tree.version == Version::V2
    {
        return mount_tree("cgroup2", target, "");
    }
    let writable = read_only.difference(MsFlags::MS_RDONLY);
    mount(
        Some("tmpfs"),
        target,
        Some("tmpfs"),
        writable,
        Some("mode=755,size=16k"),
    )
    .with_context(|| format!("mount a tmpfs on {}", target.display()))?;
    for tree in trees {
        let name = tree.mount_point.file_name().unwrap_or_default();
        let at = target.join(name);
        fs::create_dir(&at).with_context(|| format!("create {}", at.display()))?;
        match tree.version {
            Version::V1 => mount_tree("cgroup", &at, &tree.controllers.join(","))?,
            Version::V2 => mount_tree("cgroup2", &at, "")?,
        }
    }
    mount(
        None::<&str>,
        target,
        None::<&str>,
        read_only | MsFlags::MS_REMOUNT,
        Some("mode=755,size=16k"),
    )
    .with_context(|| format!("make {} read-only", target.display()))
}
// ANCHOR_END: mount_cgroup_fs

/// Whether `/proc/self/cgroup` puts us in our own cgroup,
/// `/nslab/<runtime PID>` (a normal user's runtime makes none).
fn in_own_cgroup(run: &Run) -> bool {
    let own = format!("/{}", cgroup::container_path(run.runtime_pid));
    fs::read_to_string("/proc/self/cgroup")
        .unwrap_or_default()
        .lines()
        .any(|line| line.ends_with(&own))
}
