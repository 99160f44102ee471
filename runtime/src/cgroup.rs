//! Lesson 08: the host's control groups, in the words of cgroup v2.
//!
//! A cgroup is a directory in a cgroup file system; its files are the
//! controllers' knobs (`memory.max`) and meters (`memory.events`), and
//! writing a PID to its `cgroup.procs` moves that process in. The kernel
//! has two layouts:
//!
//! * **v2**, one tree (`/sys/fs/cgroup`), every controller in it;
//! * **v1**, one tree per controller (`/sys/fs/cgroup/memory`,
//!   `/sys/fs/cgroup/pids`, ...), with other file names.
//!
//! A host may mix them, controller by controller (this one is v1 for
//! memory, pids and cpu, with a v2 tree beside that holds only hugetlb),
//! so [`Cgroups::detect`] decides per controller. The lesson speaks v2
//! only: it names v2 files, and this module writes them where they are,
//! translating to v1 with a small table ([`v1_writes`], [`v1_read`]) when
//! the controller lives there. Written by hand, not with a crate: the
//! whole job is a few `mkdir`, `write` and `rmdir` calls on files the
//! learner can `cat`, and hiding them would hide the lesson.
//!
//! Every container's cgroup is `nslab/<runtime PID>` at the root of each
//! tree it uses, as Docker's cgroupfs driver makes `docker/<id>`. A dead
//! runtime's PID marks a leftover, as in the state directory. The cgroup
//! is recorded in the container's directory before it is made, and `just
//! clean` replays the record ([`CgroupUndo`]), or finds `nslab/<PID>` of a
//! dead runtime without one.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::unistd::Pid;

use crate::error::{Context, Error, Result};
use crate::state::{self, Tidy, Undo};

/// Where cgroup file systems are mounted, on every distribution.
pub const ROOT: &str = "/sys/fs/cgroup";
/// The runtime's own cgroup, under which each container gets one.
pub const PARENT: &str = "nslab";
/// The controllers the course's limits use.
pub const CONTROLLERS: [&str; 3] = ["memory", "pids", "cpu"];
/// On v1, CPU time is counted by its own controller, `cpuacct`, often
/// mounted with `cpu` (`cpu,cpuacct`) but not always.
const V1_ACCOUNTING: &str = "cpuacct";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Version::V1 => "v1",
            Version::V2 => "v2",
        })
    }
}

/// One mounted cgroup tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hierarchy {
    pub version: Version,
    pub mount_point: PathBuf,
    /// The controllers it holds (of those the course uses, and cpuacct).
    pub controllers: Vec<String>,
}

/// The host's cgroup trees, as far as the course's controllers go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cgroups {
    hierarchies: Vec<Hierarchy>,
}

static HOST: std::sync::OnceLock<Result<Cgroups>> = std::sync::OnceLock::new();

/// This host's layout, found once. The first call comes from lesson 08's
/// `validate`, in the runtime before `clone`, so the container gets a copy:
/// after `pivot_root` the host's mounts are out of its sight.
pub fn host() -> Result<&'static Cgroups> {
    HOST.get_or_init(Cgroups::detect)
        .as_ref()
        .map_err(Clone::clone)
}

/// The container's cgroup: `nslab/<runtime PID>`.
pub fn container_path(runtime: Pid) -> String {
    format!("{PARENT}/{runtime}")
}

impl Cgroups {
    /// Read this host's layout from `/proc/self/mountinfo`, and for a v2
    /// tree the controllers its root hands to its children
    /// (`cgroup.subtree_control`): those `nslab`, a child of the root, can
    /// have.
    pub fn detect() -> Result<Cgroups> {
        let mountinfo = fs::read_to_string("/proc/self/mountinfo")
            .context("read /proc/self/mountinfo to find the cgroup trees")?;
        Ok(Cgroups::from_mountinfo(&mountinfo, |mount_point| {
            fs::read_to_string(mount_point.join("cgroup.subtree_control")).unwrap_or_default()
        }))
    }

    /// The layout `mountinfo` describes; `v2_controllers` reads what a v2
    /// root hands down. A controller used by a v1 tree is not
    /// available in v2 (the kernel binds each to one), so v1 is taken
    /// first.
    pub fn from_mountinfo(mountinfo: &str, v2_controllers: impl Fn(&Path) -> String) -> Cgroups {
        let mut v1 = Vec::new();
        let mut v2 = Vec::new();
        for line in mountinfo.lines() {
            // ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [TAGS] - FSTYPE SOURCE SUPER_OPTIONS
            let Some((before, after)) = line.split_once(" - ") else {
                continue;
            };
            let fields: Vec<&str> = before.split(' ').collect();
            let rest: Vec<&str> = after.split(' ').collect();
            let (Some(root), Some(mount_point), Some(fstype)) =
                (fields.get(3), fields.get(4), rest.first())
            else {
                continue;
            };
            // A bind mount of a subtree is not the tree's root.
            if *root != "/" {
                continue;
            }
            let mount_point = PathBuf::from(mount_point);
            match *fstype {
                "cgroup" => {
                    let options = rest.get(2).copied().unwrap_or_default();
                    let controllers: Vec<String> = options
                        .split(',')
                        .filter(|o| CONTROLLERS.contains(o) || *o == V1_ACCOUNTING)
                        .map(str::to_string)
                        .collect();
                    if !controllers.is_empty() {
                        v1.push(Hierarchy {
                            version: Version::V1,
                            mount_point,
                            controllers,
                        });
                    }
                }
                "cgroup2" if v2.is_empty() => {
                    let offered = v2_controllers(&mount_point);
                    let controllers = offered
                        .split_whitespace()
                        .filter(|c| CONTROLLERS.contains(c))
                        .map(str::to_string)
                        .collect();
                    v2.push(Hierarchy {
                        version: Version::V2,
                        mount_point,
                        controllers,
                    });
                }
                _ => {}
            }
        }
        let mut hierarchies = v1;
        // The v2 tree counts if it holds one of ours, or if there is no
        // v1 tree at all (a pure v2 host whose controllers are all off
        // still has the tree, and CPU time in `cpu.stat`).
        if let Some(tree) = v2.pop() {
            let taken: Vec<String> = hierarchies
                .iter()
                .flat_map(|h| h.controllers.clone())
                .collect();
            let controllers: Vec<String> = tree
                .controllers
                .into_iter()
                .filter(|c| !taken.contains(c))
                .collect();
            if !controllers.is_empty() || hierarchies.is_empty() {
                hierarchies.push(Hierarchy {
                    controllers,
                    ..tree
                });
            }
        }
        Cgroups { hierarchies }
    }

    /// A layout made up by hand, for tests and for `just doctor`'s
    /// explanations.
    pub fn from_hierarchies(hierarchies: Vec<Hierarchy>) -> Cgroups {
        Cgroups { hierarchies }
    }

    pub fn hierarchies(&self) -> &[Hierarchy] {
        &self.hierarchies
    }

    /// The tree that holds `controller`, if any.
    pub fn hierarchy_of(&self, controller: &str) -> Option<&Hierarchy> {
        self.hierarchies
            .iter()
            .find(|h| h.controllers.iter().any(|c| c == controller))
    }

    /// Which version `controller` uses here, if the host has it.
    pub fn version_of(&self, controller: &str) -> Option<Version> {
        self.hierarchy_of(controller).map(|h| h.version)
    }

    /// Whether the host has `controller`.
    pub fn has(&self, controller: &str) -> bool {
        self.hierarchy_of(controller).is_some()
    }

    /// The course's controllers that live in the v2 tree here: those a
    /// v2 parent must enable for its children (`cgroup.subtree_control`).
    pub fn v2_controllers(&self) -> Vec<&'static str> {
        CONTROLLERS
            .into_iter()
            .filter(|c| self.version_of(c) == Some(Version::V2))
            .collect()
    }

    /// `memory v1, pids v1, cpu v1`: for the transcript and `just doctor`.
    pub fn describe(&self) -> String {
        CONTROLLERS
            .iter()
            .map(|c| match self.version_of(c) {
                Some(version) => format!("{c} {version}"),
                None => format!("{c} missing"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The mount point of the tree that `dir` is in.
    fn mount_point_of(&self, dir: &Path) -> Option<&Path> {
        self.hierarchies
            .iter()
            .map(|h| h.mount_point.as_path())
            .find(|mount_point| dir.starts_with(mount_point))
    }

    /// `path` (e.g. `nslab/4242`) in every tree the course uses.
    pub fn dirs(&self, path: &str) -> Vec<PathBuf> {
        self.hierarchies
            .iter()
            .map(|h| h.mount_point.join(path))
            .collect()
    }

    /// For lesson 08's `validate`: refuse a limit whose controller this
    /// host lacks, before anything exists.
    pub fn refuse_missing(&self, needed: &[&str]) -> Result<()> {
        for controller in needed {
            if !self.has(controller) {
                let flag = match *controller {
                    "memory" => "--memory",
                    "pids" => "--pids-limit",
                    _ => "--cpus",
                };
                return Err(Error::new(format!(
                    "{flag} needs the {controller} controller, which this host does not have \
                     (cgroups: {})",
                    self.describe()
                ))
                .fix(format!(
                    "leave out {flag}, or enable the controller (see `just doctor`)"
                )));
            }
        }
        Ok(())
    }

    /// Make the cgroup `path` in every tree (`mkdir -p`); one already
    /// there is fine.
    pub fn create(&self, path: &str) -> Result<()> {
        for dir in self.dirs(path) {
            fs::create_dir_all(&dir)
                .with_context(|| format!("create the cgroup {}", dir.display()))
                .map_err(|e| e.fix("run as root; see `just doctor` for this host's cgroups"))?;
        }
        Ok(())
    }

    /// Write `value` to the v2 file `file` of the cgroup `path`. On v1 the
    /// file is translated ([`v1_writes`]); `cgroup.procs` goes to every
    /// tree, so the process moves in each.
    pub fn write(&self, path: &str, file: &str, value: &str) -> Result<()> {
        self.write_all(path, &[(file.to_string(), value.to_string())])
    }

    /// Write several v2 files at once: on v1 one file may depend on
    /// another (swap is limited together with memory).
    pub fn write_all(&self, path: &str, writes: &[(String, String)]) -> Result<()> {
        let mut v1 = Vec::new();
        for (file, value) in writes {
            if file == "cgroup.procs" {
                for dir in self.dirs(path) {
                    write_file(&dir.join(file), value)?;
                }
                continue;
            }
            match self.version_for_file(file) {
                Some(Version::V2) => {
                    let tree = self.v2_tree().expect("a v2 file has a v2 tree");
                    write_file(&tree.mount_point.join(path).join(file), value)?;
                }
                Some(Version::V1) => v1.push((file.clone(), value.clone())),
                None => {
                    return Err(Error::new(format!(
                        "cannot write {file}: this host has no cgroup controller for it"
                    ))
                    .fix("see `just doctor` for this host's cgroups"));
                }
            }
        }
        for (controller, file, value) in v1_writes(&v1)? {
            let tree = self
                .hierarchy_of(controller)
                .ok_or_else(|| Error::new(format!("this host has no {controller} cgroup tree")))?;
            let target = tree.mount_point.join(path).join(file);
            // memsw exists only where swap is accounted; where it is not,
            // there is no swap limit to set.
            if file == "memory.memsw.limit_in_bytes" && !target.exists() {
                continue;
            }
            write_file(&target, &value)?;
        }
        Ok(())
    }

    /// Read the v2 file `file` of the cgroup `path` (on v1, made up from
    /// the v1 files that hold the same numbers, [`v1_read`]).
    pub fn read(&self, path: &str, file: &str) -> Result<String> {
        match self.version_for_file(file) {
            Some(Version::V2) => {
                let tree = self.v2_tree().expect("a v2 file has a v2 tree");
                read_file(&tree.mount_point.join(path).join(file))
            }
            Some(Version::V1) => v1_read(file, |controller, v1_file| {
                let tree = self.hierarchy_of(controller).ok_or_else(|| {
                    Error::new(format!("this host has no {controller} cgroup tree"))
                })?;
                read_file(&tree.mount_point.join(path).join(v1_file))
            }),
            None => Err(Error::new(format!(
                "cannot read {file}: this host has no cgroup controller for it"
            ))),
        }
    }

    /// Remove the cgroup `path` from every tree (`rmdir`); one already
    /// gone is fine. A cgroup with a process in it cannot be removed
    /// (EBUSY); the last ones of a container that just ended may take a
    /// moment to leave, so this waits up to a second for them.
    pub fn remove(&self, path: &str) -> Result<()> {
        for dir in self.dirs(path) {
            let deadline = Instant::now() + Duration::from_secs(1);
            loop {
                match fs::remove_dir(&dir) {
                    Ok(()) => break,
                    Err(e) if e.kind() == ErrorKind::NotFound => break,
                    Err(e)
                        if e.raw_os_error() == Some(libc::EBUSY) && Instant::now() < deadline =>
                    {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    Err(e) => {
                        return Err(Error::new(format!("remove the cgroup {}", dir.display()))
                            .because(e)
                            .fix(format!(
                                "a process is still in it: see {}/cgroup.procs",
                                dir.display()
                            )));
                    }
                }
            }
        }
        Ok(())
    }

    /// Which version holds the v2 file `file`: its controller is the part
    /// of its name before the dot; `cgroup.*` files are the tree's own.
    fn version_for_file(&self, file: &str) -> Option<Version> {
        let controller = file.split('.').next().unwrap_or_default();
        if controller == "cgroup" {
            return Some(
                if self.v2_tree().is_some_and(|t| !t.controllers.is_empty()) {
                    Version::V2
                } else {
                    self.hierarchies.first()?.version
                },
            );
        }
        // cpu.stat's usage is counted by every v2 cgroup, cpu controller
        // or not; on v1 by cpuacct.
        if file == "cpu.stat" && !self.has("cpu") {
            return self.v2_tree().map(|_| Version::V2);
        }
        self.version_of(controller)
    }

    fn v2_tree(&self) -> Option<&Hierarchy> {
        self.hierarchies.iter().find(|h| h.version == Version::V2)
    }
}

// ANCHOR: v1_writes
/// The v1 files to write for a set of v2 writes, in order, as
/// `(controller, file, value)`. The whole table:
///
/// ```text
///   v2                              v1
///   memory.max       BYTES|max      memory.limit_in_bytes      BYTES|-1
///   memory.swap.max  SWAP           memory.memsw.limit_in_bytes BYTES+SWAP (memory + swap)
///   pids.max         N|max          pids.max                   N|max
///   cpu.max          QUOTA PERIOD   cpu.cfs_period_us PERIOD, then cpu.cfs_quota_us QUOTA|-1
///   cgroup.subtree_control          (nothing: in v1 every tree has every cgroup)
/// ```
pub fn v1_writes(writes: &[(String, String)]) -> Result<Vec<(&'static str, &'static str, String)>> {
    let unlimited = |value: &str| {
        if value == "max" {
            "-1".to_string()
        } else {
            value.to_string()
        }
    };
    let memory = writes
        .iter()
        .find(|(file, _)| file == "memory.max")
        .map(|(_, value)| value.as_str());
    let mut v1 = Vec::new();
    for (file, value) in writes {
        match file.as_str() {
            "memory.max" => v1.push(("memory", "memory.limit_in_bytes", unlimited(value))),
            "memory.swap.max" => {
                let total = match (memory.map(str::parse::<u64>), value.parse::<u64>()) {
                    (Some(Ok(memory)), Ok(swap)) => memory.saturating_add(swap).to_string(),
                    _ => "-1".to_string(),
                };
                v1.push(("memory", "memory.memsw.limit_in_bytes", total));
            }
            "pids.max" => v1.push(("pids", "pids.max", value.clone())),
            "cpu.max" => {
                let (quota, period) = value.split_once(' ').ok_or_else(|| {
                    Error::new(format!("cpu.max takes \"QUOTA PERIOD\", not {value:?}"))
                })?;
                v1.push(("cpu", "cpu.cfs_period_us", period.to_string()));
                v1.push(("cpu", "cpu.cfs_quota_us", unlimited(quota)));
            }
            "cgroup.subtree_control" => {}
            other => {
                return Err(Error::new(format!(
                    "{other} has no v1 equivalent in this runtime's table"
                ))
                .fix("use memory.max, memory.swap.max, pids.max or cpu.max"));
            }
        }
    }
    Ok(v1)
}
// ANCHOR_END: v1_writes

// ANCHOR: v1_read
/// A v2 file, made up from the v1 files that hold the same numbers:
///
/// ```text
///   memory.events   oom_kill N          from memory.oom_control's oom_kill line
///   memory.max      BYTES|max           from memory.limit_in_bytes
///   pids.max        N|max               from pids.max
///   cpu.max         QUOTA|max PERIOD    from cpu.cfs_quota_us and cpu.cfs_period_us
///   cpu.stat        usage_usec N        from cpuacct.usage (nanoseconds)
/// ```
pub fn v1_read(file: &str, read: impl Fn(&'static str, &str) -> Result<String>) -> Result<String> {
    let number = |text: String| text.trim().to_string();
    match file {
        "memory.events" => {
            let control = read("memory", "memory.oom_control")?;
            let kills = control
                .lines()
                .find_map(|line| line.strip_prefix("oom_kill "))
                .unwrap_or("0");
            Ok(format!("oom_kill {}\n", kills.trim()))
        }
        "memory.max" => {
            let bytes = number(read("memory", "memory.limit_in_bytes")?);
            // v1 says "no limit" with the largest page-aligned number.
            let unlimited = bytes.parse::<u64>().is_ok_and(|b| b >= i64::MAX as u64 / 2);
            Ok(format!("{}\n", if unlimited { "max" } else { &bytes }))
        }
        "pids.max" => Ok(format!("{}\n", number(read("pids", "pids.max")?))),
        "cpu.max" => {
            let quota = number(read("cpu", "cpu.cfs_quota_us")?);
            let period = number(read("cpu", "cpu.cfs_period_us")?);
            let quota = if quota == "-1" { "max".into() } else { quota };
            Ok(format!("{quota} {period}\n"))
        }
        "cpu.stat" => {
            let nanoseconds: u64 = number(read(V1_ACCOUNTING, "cpuacct.usage")?)
                .parse()
                .map_err(|_| Error::new("cpuacct.usage is not a number"))?;
            Ok(format!("usage_usec {}\n", nanoseconds / 1000))
        }
        other => Err(Error::new(format!(
            "{other} has no v1 equivalent in this runtime's table"
        ))),
    }
}
// ANCHOR_END: v1_read

fn write_file(path: &Path, value: &str) -> Result<()> {
    fs::write(path, value).with_context(|| format!("write {value:?} to {}", path.display()))
}

fn read_file(path: &Path) -> Result<String> {
    fs::read_to_string(path).with_context(|| format!("read {}", path.display()))
}

/// The value of `key` in a flat-keyed file like `memory.events` or
/// `cpu.stat` (`key value` a line).
pub fn field(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (name, value) = line.split_once(' ')?;
        (name == key).then(|| value.trim().parse().ok())?
    })
}

/// The limits set on the cgroup of container runtime `runtime`, as `ps`
/// shows them: `memory 64m, pids 100`, `-` if it has none or no cgroup.
pub fn limits_of(runtime: Pid) -> String {
    let Ok(cgroups) = Cgroups::detect() else {
        return "-".into();
    };
    let path = container_path(runtime);
    if !cgroups.dirs(&path).iter().any(|dir| dir.exists()) {
        return "-".into();
    }
    let read = |file: &str| {
        cgroups
            .read(&path, file)
            .ok()
            .map(|text| text.trim().to_string())
            .filter(|value| value != "max" && !value.starts_with("max "))
    };
    let mut shown = Vec::new();
    if let Some(bytes) = read("memory.max").and_then(|b| b.parse().ok()) {
        shown.push(format!("memory {}", crate::limits::Memory(bytes)));
    }
    if let Some(pids) = read("pids.max") {
        shown.push(format!("pids {pids}"));
    }
    if let Some(quota) =
        read("cpu.max").and_then(|max| max.split_once(' ').and_then(|(q, _)| q.parse::<u64>().ok()))
    {
        shown.push(format!("cpus {}", crate::limits::Cpus { quota_us: quota }));
    }
    if shown.is_empty() {
        "-".into()
    } else {
        shown.join(", ")
    }
}

/// For lesson 07's `exec`, from lesson 08 on: move this process into the
/// cgroup of the container that runtime `runtime` started, where it has
/// one, as `docker exec` does. The command then counts against the
/// container's limits, and in the container's cgroup namespace its
/// `/proc/self/cgroup` shows `/` rather than a path out of it.
pub fn enter(runtime: Pid) -> Result<()> {
    let cgroups = Cgroups::detect()?;
    let path = container_path(runtime);
    if !cgroups.dirs(&path).iter().all(|dir| dir.exists()) {
        return Ok(());
    }
    cgroups.write(&path, "cgroup.procs", &Pid::this().to_string())
}

/// `just clean`, last: the `nslab` parents, once empty, so that the host
/// looks as it did before the course. Never while containers may start
/// (a check's own tidying), since one may be between making `nslab` and
/// its own cgroup in it; a parent that still holds a container's cgroup
/// refuses (EBUSY), as it should.
pub fn remove_empty_parents() -> Vec<String> {
    let Ok(cgroups) = Cgroups::detect() else {
        return Vec::new();
    };
    cgroups
        .dirs(PARENT)
        .into_iter()
        .filter(|parent| fs::remove_dir(parent).is_ok())
        .map(|parent| format!("removed the empty cgroup {}", parent.display()))
        .collect()
}

/// The container cgroups (`nslab/<PID>`) of runtimes that are gone, in
/// every tree: what a runtime killed by SIGKILL left behind.
pub fn leftovers(cgroups: &Cgroups) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = cgroups
        .hierarchies()
        .iter()
        .flat_map(|h| {
            fs::read_dir(h.mount_point.join(PARENT))
                .into_iter()
                .flatten()
                .flatten()
                .filter(|entry| entry.file_type().is_ok_and(|t| t.is_dir()))
                .map(|entry| entry.path())
        })
        .filter(|dir| state::owner(dir).is_none_or(|pid| !state::runtime_is_alive(pid)))
        .collect();
    found.sort();
    found
}

// ANCHOR: undo
/// The undo record of a container's cgroup, in its state directory.
pub const RECORD: &str = "cgroup";

impl Cgroups {
    /// Make the container's cgroup `path` (see [`Cgroups::create`]),
    /// recording it first in the container's directory `container_dir`, so
    /// that `just clean` removes it if the runtime cannot.
    pub fn create_container(&self, container_dir: &Path, path: &str) -> Result<()> {
        state::write_record(container_dir, RECORD, path)?;
        self.create(path)
    }

    /// Remove the container's cgroup `path` from every tree, then its
    /// record.
    pub fn remove_container(&self, container_dir: &Path, path: &str) -> Result<()> {
        self.remove(path)?;
        state::remove_record(container_dir, RECORD)
    }
}

/// The undo of a container's cgroup, for `just clean` and for a run whose
/// `cleanup` forgot it: remove the cgroup the record names. Without a
/// record, the sweep finds `nslab/<PID>` of runtimes that are gone.
pub struct CgroupUndo;

impl Undo for CgroupUndo {
    fn kind(&self) -> &'static str {
        RECORD
    }

    fn released_by(&self) -> &'static str {
        "remove_cgroup"
    }

    fn undo(&self, _state_root: &Path, dir: &Path) -> Result<Vec<String>> {
        let Some(path) = state::read_record(dir, RECORD) else {
            return Ok(Vec::new());
        };
        let path = path.trim();
        let cgroups = Cgroups::detect()?;
        let existing: Vec<PathBuf> = cgroups
            .dirs(path)
            .into_iter()
            .filter(|d| d.exists())
            .collect();
        cgroups.remove_container(dir, path)?;
        Ok(existing
            .iter()
            .map(|dir| format!("removed the cgroup {}", dir.display()))
            .collect())
    }

    /// Only root makes cgroups: swept with root's state directory.
    fn sweep(&self, state_root: &Path, tidy: Tidy) -> Result<Vec<String>> {
        if state_root != Path::new(state::ROOT_STATE_DIR) {
            return Ok(Vec::new());
        }
        let Ok(cgroups) = Cgroups::detect() else {
            return Ok(Vec::new());
        };
        let mut done = Vec::new();
        for dir in leftovers(&cgroups) {
            if tidy == Tidy::Look {
                done.push(format!(
                    "the cgroup {} (its runtime is gone)",
                    dir.display()
                ));
                continue;
            }
            let path = dir
                .strip_prefix(cgroups.mount_point_of(&dir).unwrap_or(Path::new("/")))
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            cgroups.remove(&path)?;
            done.push(format!(
                "removed the cgroup {} (its runtime is gone)",
                dir.display()
            ));
        }
        Ok(done)
    }
}
// ANCHOR_END: undo

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scratch::Scratch;

    /// This machine's layout: v1 controllers, cpu and cpuacct apart, and
    /// a v2 tree with only hugetlb.
    const HYBRID: &str = "\
30 25 0:26 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
31 30 0:27 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
32 30 0:28 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
33 30 0:29 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
34 30 0:30 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
35 30 0:31 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
36 30 0:32 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    /// A learner's VM: one v2 tree.
    const PURE_V2: &str = "\
30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate
";

    fn hybrid() -> Cgroups {
        Cgroups::from_mountinfo(HYBRID, |_| "hugetlb\n".into())
    }

    fn pure_v2() -> Cgroups {
        Cgroups::from_mountinfo(PURE_V2, |_| {
            "cpuset cpu io memory hugetlb pids rdma\n".into()
        })
    }

    #[test]
    fn each_controller_is_found_in_its_own_version() {
        let cgroups = hybrid();
        assert_eq!(cgroups.describe(), "memory v1, pids v1, cpu v1");
        assert_eq!(
            cgroups.hierarchy_of("cpuacct").unwrap().mount_point,
            Path::new("/sys/fs/cgroup/cpuacct")
        );
        // The v2 tree holds none of ours: it is not used.
        assert_eq!(cgroups.hierarchies().len(), 4);
        assert!(cgroups.v2_controllers().is_empty());
        let cgroups = pure_v2();
        assert_eq!(cgroups.describe(), "memory v2, pids v2, cpu v2");
        assert_eq!(cgroups.v2_controllers(), ["memory", "pids", "cpu"]);
        assert_eq!(
            cgroups.dirs("nslab/7"),
            [PathBuf::from("/sys/fs/cgroup/nslab/7")]
        );
    }

    #[test]
    fn a_missing_controller_is_refused_by_its_flag() {
        let no_pids = Cgroups::from_mountinfo(PURE_V2, |_| "memory cpu\n".into());
        assert_eq!(no_pids.describe(), "memory v2, pids missing, cpu v2");
        assert!(no_pids.refuse_missing(&["memory", "cpu"]).is_ok());
        let error = no_pids.refuse_missing(&["pids"]).unwrap_err().to_string();
        assert!(
            error.contains("--pids-limit") && error.contains("pids controller"),
            "{error}"
        );
        assert!(error.contains("(fix: "), "{error}");
    }

    #[test]
    fn the_v1_table_translates_every_limit() {
        let writes = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(f, v)| (f.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        let v1 = v1_writes(&writes(&[
            ("memory.max", "33554432"),
            ("memory.swap.max", "0"),
            ("pids.max", "10"),
            ("cpu.max", "20000 100000"),
            ("cgroup.subtree_control", "+memory +pids +cpu"),
        ]))
        .unwrap();
        let v1: Vec<(&str, &str, &str)> = v1.iter().map(|(c, f, v)| (*c, *f, v.as_str())).collect();
        assert_eq!(
            v1,
            [
                ("memory", "memory.limit_in_bytes", "33554432"),
                ("memory", "memory.memsw.limit_in_bytes", "33554432"),
                ("pids", "pids.max", "10"),
                ("cpu", "cpu.cfs_period_us", "100000"),
                ("cpu", "cpu.cfs_quota_us", "20000"),
            ]
        );
        let unlimited =
            v1_writes(&writes(&[("memory.max", "max"), ("cpu.max", "max 100000")])).unwrap();
        assert_eq!(unlimited[0].2, "-1");
        assert_eq!(unlimited[2].2, "-1");
        assert!(v1_writes(&writes(&[("memory.high", "1")])).is_err());
        assert!(v1_writes(&writes(&[("cpu.max", "20000")])).is_err());
    }

    #[test]
    fn v1_files_read_as_their_v2_counterparts() {
        let host = |controller: &'static str, file: &str| -> Result<String> {
            Ok(match (controller, file) {
                ("memory", "memory.oom_control") => "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
                ("memory", "memory.limit_in_bytes") => "9223372036854771712\n",
                ("pids", "pids.max") => "10\n",
                ("cpu", "cpu.cfs_quota_us") => "20000\n",
                ("cpu", "cpu.cfs_period_us") => "100000\n",
                ("cpuacct", "cpuacct.usage") => "250000000\n",
                _ => return Err(Error::new(format!("no {file}"))),
            }
            .to_string())
        };
        let events = v1_read("memory.events", host).unwrap();
        assert_eq!(field(&events, "oom_kill"), Some(2));
        assert_eq!(v1_read("memory.max", host).unwrap(), "max\n");
        assert_eq!(v1_read("pids.max", host).unwrap(), "10\n");
        assert_eq!(v1_read("cpu.max", host).unwrap(), "20000 100000\n");
        assert_eq!(
            field(&v1_read("cpu.stat", host).unwrap(), "usage_usec"),
            Some(250_000)
        );
    }

    /// A layout of directories under a scratch root, to see which files
    /// the writes land in, without a kernel.
    fn fake(scratch: &Scratch, v1: bool) -> Cgroups {
        let tree = |name: &str, version, controllers: &[&str]| {
            let mount_point = scratch.0.join(name);
            fs::create_dir_all(&mount_point).unwrap();
            Hierarchy {
                version,
                mount_point,
                controllers: controllers.iter().map(|c| c.to_string()).collect(),
            }
        };
        Cgroups::from_hierarchies(if v1 {
            vec![
                tree("memory", Version::V1, &["memory"]),
                tree("pids", Version::V1, &["pids"]),
                tree("cpu", Version::V1, &["cpu"]),
                tree("cpuacct", Version::V1, &["cpuacct"]),
            ]
        } else {
            vec![tree("unified", Version::V2, &["memory", "pids", "cpu"])]
        })
    }

    #[test]
    fn v2_writes_land_in_the_one_tree() {
        let scratch = Scratch::new("cgroup-v2");
        let cgroups = fake(&scratch, false);
        cgroups.create("nslab/7").unwrap();
        cgroups
            .write("nslab", "cgroup.subtree_control", "+memory +pids +cpu")
            .unwrap();
        cgroups
            .write_all(
                "nslab/7",
                &[
                    ("memory.max".into(), "33554432".into()),
                    ("cpu.max".into(), "20000 100000".into()),
                ],
            )
            .unwrap();
        cgroups.write("nslab/7", "cgroup.procs", "4243").unwrap();
        let read = |file: &str| fs::read_to_string(scratch.0.join("unified").join(file)).unwrap();
        assert_eq!(read("nslab/cgroup.subtree_control"), "+memory +pids +cpu");
        assert_eq!(read("nslab/7/memory.max"), "33554432");
        assert_eq!(read("nslab/7/cpu.max"), "20000 100000");
        assert_eq!(read("nslab/7/cgroup.procs"), "4243");
        for file in ["memory.max", "cpu.max", "cgroup.procs"] {
            fs::remove_file(scratch.0.join("unified/nslab/7").join(file)).unwrap();
        }
        cgroups.remove("nslab/7").unwrap();
        assert!(!scratch.0.join("unified/nslab/7").exists());
    }

    #[test]
    fn v1_writes_land_in_each_controllers_tree() {
        let scratch = Scratch::new("cgroup-v1");
        let cgroups = fake(&scratch, true);
        cgroups.create("nslab/7").unwrap();
        // v1 has no subtree_control: nothing is written for it.
        cgroups
            .write("nslab", "cgroup.subtree_control", "+memory")
            .unwrap();
        cgroups
            .write_all(
                "nslab/7",
                &[
                    ("memory.max".into(), "33554432".into()),
                    ("memory.swap.max".into(), "0".into()),
                    ("pids.max".into(), "10".into()),
                    ("cpu.max".into(), "20000 100000".into()),
                ],
            )
            .unwrap();
        cgroups.write("nslab/7", "cgroup.procs", "4243").unwrap();
        let read = |file: &str| fs::read_to_string(scratch.0.join(file)).ok();
        assert_eq!(read("memory/nslab/cgroup.subtree_control"), None);
        assert_eq!(
            read("memory/nslab/7/memory.limit_in_bytes").as_deref(),
            Some("33554432")
        );
        // No memsw file: swap is not accounted here, and nothing is made up.
        assert_eq!(read("memory/nslab/7/memory.memsw.limit_in_bytes"), None);
        assert_eq!(read("pids/nslab/7/pids.max").as_deref(), Some("10"));
        assert_eq!(
            read("cpu/nslab/7/cpu.cfs_quota_us").as_deref(),
            Some("20000")
        );
        assert_eq!(
            read("cpu/nslab/7/cpu.cfs_period_us").as_deref(),
            Some("100000")
        );
        for tree in ["memory", "pids", "cpu", "cpuacct"] {
            assert_eq!(
                read(&format!("{tree}/nslab/7/cgroup.procs")).as_deref(),
                Some("4243")
            );
        }
    }

    #[test]
    fn flat_keyed_files_give_their_numbers() {
        let events = "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n";
        assert_eq!(field(events, "oom_kill"), Some(1));
        assert_eq!(field(events, "oom"), Some(1));
        assert_eq!(field(events, "nothing"), None);
    }
}
