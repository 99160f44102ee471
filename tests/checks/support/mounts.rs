//! Lesson 04's material: the container's root filesystem (the shared
//! cached one, or a private copy a check may change), the container's
//! mount table in a shape that does not depend on the host, and the
//! static helpers built from C (lesson 04's chroot escape, lesson 10's
//! doors).

use std::path::{Path, PathBuf};

use nslab_checker::course::repo_root;
use nslab_checker::rootfs::{Source, ensure};

use super::{Outcome, Prepare, TempDir, setup_failure, static_helper};

/// The busybox rootfs of `just rootfs`, built if it is missing. Shared by
/// every check, possibly at the same time: containers may read it and
/// mount on the directories it has, never change it.
pub fn shared_rootfs() -> PathBuf {
    ensure(
        &repo_root().join("target/nslab/rootfs"),
        Source::best_available(),
    )
    .prepared("build its rootfs (try `just rootfs`)")
}

/// The shared rootfs as a `--rootfs` value.
pub fn shared_rootfs_flag() -> String {
    shared_rootfs().display().to_string()
}

/// A copy of the rootfs of a check's own, removed with it.
pub struct PrivateRootfs {
    _dir: TempDir,
    pub path: PathBuf,
}

impl PrivateRootfs {
    pub fn new() -> PrivateRootfs {
        let dir = TempDir::new();
        let path = dir.path.join("rootfs");
        let (from, to) = (shared_rootfs(), path.display().to_string());
        let copied = Outcome::of_host_command("cp", &["-a", &from.display().to_string(), &to]);
        if copied.status != Some(0) {
            panic!(
                "{}",
                setup_failure("prepare its rootfs", copied.stderr.trim())
            );
        }
        PrivateRootfs { _dir: dir, path }
    }

    pub fn flag(&self) -> String {
        self.path.display().to_string()
    }
}

/// The file systems the runtime mounts fresh; anything else in the
/// container is a bind mount of something of the host's.
const FRESH: [&str; 5] = ["proc", "sysfs", "tmpfs", "devpts", "mqueue"];

/// `/proc/self/mountinfo` as one line per mount: where, what and how. The
/// kind of a bind mount (ext4, btrfs...) and its flags come from the
/// host's mount, so a bind shows as `bind`, with only `ro` or `rw`.
///
/// Nothing below `/proc` shows: from lesson 10 on, that is its masked and
/// read-only paths, which lesson 10's checks look at themselves.
///
/// `/sys` shows as `sysfs` with only `ro` or `rw`, and nothing below it:
/// in lesson 05 it is the host's, bound read-only with the host's flags
/// and the host's mounts below it (chapter 04, "What goes into the
/// rootfs").
pub fn mount_table(mountinfo: &str) -> String {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (mount, source) = line.split_once(" - ")?;
            let fields: Vec<&str> = mount.split_whitespace().collect();
            let (root, point, options) = (fields.get(3)?, fields.get(4)?, fields.get(5)?);
            let kind = source.split_whitespace().next()?;
            let options: Vec<&str> = options.split(',').collect();
            if point.starts_with("/sys/") || point.starts_with("/proc/") {
                return None;
            }
            let is_sys = *point == "/sys";
            let fresh = !is_sys && *root == "/" && FRESH.contains(&kind);
            let shown: Vec<&str> = options
                .iter()
                .copied()
                .filter(|o| ["ro", "rw"].contains(o) || fresh && o.starts_with("no"))
                .collect();
            let kind = if fresh || is_sys { kind } else { "bind" };
            Some(format!("{point} {kind} {}", shown.join(",")))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Build the chroot-escape helper (`escape.c`) into `dir`, and return its
/// path.
pub fn escape_helper(dir: &Path) -> PathBuf {
    static_helper("escape", dir)
}
