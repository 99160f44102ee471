//! Lesson 08's material, read from the host on its own (not through the
//! runtime's code): the cgroup trees mounted here, a container's cgroup in
//! each, its limit files and its CPU time, and the host guard's list of
//! `nslab` cgroups.

use std::path::PathBuf;

/// A shell script that holds 64 MiB in the shell itself (PID 1: a command
/// substitution's output is read into the variable by the shell that runs
/// it), then says it survived: under `--memory 32m` the OOM killer ends it
/// first (lessons 08 and 11). The pipe's own complaints (`tr: write
/// error`) go to /dev/null: they would share stderr with the runtime's
/// line.
pub const ALLOCATE_64M: &str =
    "x=$(head -c 64m /dev/zero 2>/dev/null | tr '\\0' x 2>/dev/null); echo survived";

/// A mounted cgroup tree: where, which version, which controllers.
#[derive(Debug, Clone)]
pub struct Tree {
    pub mount_point: PathBuf,
    pub v2: bool,
    /// v1: the controllers in its mount options; v2: its root's
    /// `cgroup.controllers`.
    pub controllers: Vec<String>,
}

/// Every cgroup tree in the host's mount table.
pub fn trees() -> Vec<Tree> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    mountinfo
        .lines()
        .filter_map(|line| {
            let (before, after) = line.split_once(" - ")?;
            let fields: Vec<&str> = before.split(' ').collect();
            let rest: Vec<&str> = after.split(' ').collect();
            let mount_point = PathBuf::from(fields.get(4)?);
            match *rest.first()? {
                "cgroup" => Some(Tree {
                    controllers: rest.get(2)?.split(',').map(str::to_string).collect(),
                    mount_point,
                    v2: false,
                }),
                "cgroup2" => Some(Tree {
                    controllers: std::fs::read_to_string(mount_point.join("cgroup.controllers"))
                        .unwrap_or_default()
                        .split_whitespace()
                        .map(str::to_string)
                        .collect(),
                    mount_point,
                    v2: true,
                }),
                _ => None,
            }
        })
        .collect()
}

/// The tree that holds `controller` (a v1 tree first: the kernel gives
/// each controller to one).
pub fn tree_of(controller: &str) -> Option<Tree> {
    let all = trees();
    let holds = |tree: &&Tree| tree.controllers.iter().any(|c| c == controller);
    all.iter()
        .filter(|tree| !tree.v2)
        .find(holds)
        .or_else(|| all.iter().filter(|tree| tree.v2).find(holds))
        .cloned()
}

/// Whether `controller` is a cgroup v2 controller on this host.
pub fn is_v2(controller: &str) -> bool {
    tree_of(controller).is_some_and(|tree| tree.v2)
}

/// `memory v1, pids v1, cpu v1`, for messages.
pub fn describe_host() -> String {
    ["memory", "pids", "cpu"]
        .iter()
        .map(|c| match tree_of(c) {
            Some(tree) => format!("{c} {}", if tree.v2 { "v2" } else { "v1" }),
            None => format!("{c} missing"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The container cgroup of runtime `runtime` in the tree of `controller`.
pub fn dir_of(controller: &str, runtime: i32) -> Option<PathBuf> {
    tree_of(controller).map(|tree| tree.mount_point.join(format!("nslab/{runtime}")))
}

/// Every directory of runtime `runtime`'s cgroup that exists, in any tree.
pub fn existing_dirs_of(runtime: i32) -> Vec<PathBuf> {
    trees()
        .iter()
        .map(|tree| tree.mount_point.join(format!("nslab/{runtime}")))
        .filter(|dir| dir.exists())
        .collect()
}

/// A limit as the host shows it, in v2's words: `memory.max`, `pids.max`,
/// `cpu.max` ("QUOTA PERIOD"), read from v2's file or v1's.
pub fn limit(runtime: i32, file: &str) -> String {
    let controller = file.split('.').next().unwrap_or_default();
    let Some(dir) = dir_of(controller, runtime) else {
        return format!("<no {controller} controller>");
    };
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name))
            .map(|text| text.trim().to_string())
            .unwrap_or_else(|e| format!("<cannot read {}: {e}>", dir.join(name).display()))
    };
    if is_v2(controller) {
        return read(file);
    }
    match file {
        "memory.max" => read("memory.limit_in_bytes"),
        "pids.max" => read("pids.max"),
        "cpu.max" => format!("{} {}", read("cpu.cfs_quota_us"), read("cpu.cfs_period_us")),
        _ => format!("<no v1 file for {file}>"),
    }
}

/// The CPU time the cgroup of runtime `runtime` has used, in seconds,
/// from its own accounting: v2 `cpu.stat` usage_usec, v1 `cpuacct.usage`.
pub fn cpu_seconds(runtime: i32) -> Option<f64> {
    if let Some(tree) = tree_of("cpuacct") {
        let usage = std::fs::read_to_string(
            tree.mount_point
                .join(format!("nslab/{runtime}/cpuacct.usage")),
        );
        return usage.ok()?.trim().parse::<f64>().ok().map(|ns| ns / 1e9);
    }
    let v2 = trees().into_iter().find(|tree| tree.v2)?;
    let stat =
        std::fs::read_to_string(v2.mount_point.join(format!("nslab/{runtime}/cpu.stat"))).ok()?;
    stat.lines()
        .find_map(|line| line.strip_prefix("usage_usec "))
        .and_then(|usec| usec.trim().parse::<f64>().ok())
        .map(|usec| usec / 1e6)
}

/// For the host guard: every cgroup below `nslab` in any tree, but for
/// those of runtimes still running (other checks' containers, which
/// remove theirs when they end). `nslab` itself stays, as Docker's
/// `docker` does: it holds no process and no limit.
pub fn nslab_cgroups() -> String {
    let mut found = Vec::new();
    for tree in trees() {
        let parent = tree.mount_point.join("nslab");
        let Ok(entries) = std::fs::read_dir(&parent) else {
            continue;
        };
        for entry in entries.flatten() {
            if !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let alive = entry
                .file_name()
                .to_str()
                .and_then(|name| name.parse::<i32>().ok())
                .is_some_and(nslab_runtime::state::runtime_is_alive);
            if !alive && entry.path().exists() {
                found.push(entry.path().display().to_string());
            }
        }
    }
    found.sort();
    found.join("\n")
}

/// What a check that needs cgroup v2 prints when this host's controllers
/// are v1: the checker shows it as a skipped check, never a silent pass.
pub fn skip_unless_v2(what: &str) -> bool {
    if is_v2("memory") {
        return false;
    }
    eprintln!(
        "nslab-skip: {what} needs cgroup v2, and this host's controllers are {}; it runs on a \
         v2 host (Debian 12, Ubuntu 22.04 and later)",
        describe_host()
    );
    true
}
