//! Lesson 04's material: the container's root filesystem (the shared
//! cached one, or a private copy a check may change), the container's
//! mount table in a shape that does not depend on the host, and the
//! static helpers built from C (lesson 04's chroot escape, lesson 10's
//! doors).

use std::path::{Path, PathBuf};

use nslab_checker::course::repo_root;
use nslab_checker::rootfs::{Source, ensure};

use super::{Outcome, Prepare, TempDir, setup_failure, static_helper};

/// Set, the rootfs the checks take for the course's shared one.
pub const COURSE_ROOTFS_VARIABLE: &str = "NSLAB_COURSE_ROOTFS";

/// The busybox rootfs of `just rootfs`, built if it is missing. Shared by
/// every check, possibly at the same time: containers may read it and
/// mount on the directories it has, never change it.
pub fn shared_rootfs() -> PathBuf {
    // A check that must show the others cope with a course rootfs a
    // learner changed runs them on a changed copy (`rough_edges`).
    if let Some(rootfs) = std::env::var_os(COURSE_ROOTFS_VARIABLE) {
        return PathBuf::from(rootfs);
    }
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

/// Print on stderr, in words that name the fix, how the container's mount
/// table `got` (from [`mount_table`]) differs from the one the snapshot
/// `snapshot` of `module` expects; nothing when they agree. The check then
/// asserts the snapshot, and the learner reads these lines above its diff.
pub fn explain_mount_table(module: &str, snapshot: &str, got: &str) {
    let path = repo_root().join(format!(
        "tests/checks/snapshots/checks__{module}__{snapshot}.snap"
    ));
    let Ok(text) = std::fs::read_to_string(&path) else {
        return;
    };
    // insta's file: a header between two `---` lines, then the snapshot.
    let expected = text.splitn(3, "---\n").nth(2).unwrap_or("").trim_end();
    for line in mount_table_differences(expected, got) {
        eprintln!("{line}");
    }
}

/// What differs between two mount tables, one sentence per mount, each
/// naming the fix: a missing option by its `MS_` flag, a writable bind by
/// the remount that makes it read-only, an extra mount by what it is.
pub fn mount_table_differences(expected: &str, got: &str) -> Vec<String> {
    let parse = |table: &str| -> Vec<(String, String, Vec<String>)> {
        table
            .lines()
            .filter_map(|line| {
                let mut words = line.split(' ');
                let point = words.next()?.to_string();
                let kind = words.next().unwrap_or("").to_string();
                let options = words
                    .next()
                    .unwrap_or("")
                    .split(',')
                    .map(str::to_string)
                    .collect();
                Some((point, kind, options))
            })
            .collect()
    };
    let mut unmatched = parse(got);
    let mut said = Vec::new();
    for (point, kind, options) in parse(expected) {
        let Some(at) = unmatched.iter().position(|(p, ..)| *p == point) else {
            said.push(format!(
                "nothing is mounted at {point}, where a {kind} should be"
            ));
            continue;
        };
        let (_, got_kind, got_options) = unmatched.remove(at);
        if got_kind != kind {
            said.push(format!(
                "{point} is a {got_kind} mount, and should be a new {kind}: mount a {kind} there, not a bind of the host's"
            ));
            continue;
        }
        let missing: Vec<&String> = options
            .iter()
            .filter(|o| !got_options.contains(o))
            .collect();
        let extra: Vec<&String> = got_options
            .iter()
            .filter(|o| !options.contains(o))
            .collect();
        if missing.iter().any(|o| *o == "ro") {
            said.push(format!(
                "{point} is writable, and should be read-only: a bind mount becomes read-only only \
                 when remounted with MS_BIND | MS_REMOUNT | MS_RDONLY (`bind_mount`)"
            ));
        } else if extra.iter().any(|o| *o == "ro") {
            said.push(format!("{point} is read-only, and should be writable"));
        }
        let flags = |options: &[&String]| -> Vec<String> {
            options
                .iter()
                .filter(|o| !["ro", "rw"].contains(&o.as_str()))
                .map(|o| format!("{o} (MS_{})", o.to_uppercase()))
                .collect()
        };
        let (missing, extra) = (flags(&missing), flags(&extra));
        if !missing.is_empty() {
            said.push(format!(
                "{point} ({kind}) lacks {}: add the flag to its mount",
                missing.join(", ")
            ));
        }
        if !extra.is_empty() {
            said.push(format!(
                "{point} ({kind}) has {}, which it should not",
                extra.join(", ")
            ));
        }
    }
    for (point, kind, _) in unmatched {
        said.push(if point == "/" {
            "a second mount at /: the host's old root, still there after pivot_root: \
             detach it (umount2 with MNT_DETACH)"
                .to_string()
        } else {
            format!("{point} ({kind}) is mounted, and should not be")
        });
    }
    const SHOWN: usize = 8;
    if said.len() > SHOWN {
        let more = said.len() - SHOWN;
        said.truncate(SHOWN);
        said.push(format!("... and {more} more differences"));
    }
    said
}

/// Build the chroot-escape helper (`escape.c`) into `dir`, and return its
/// path.
pub fn escape_helper(dir: &Path) -> PathBuf {
    static_helper("escape", dir)
}

#[cfg(test)]
mod tests {
    use super::mount_table_differences;

    #[test]
    fn each_difference_of_a_mount_table_names_its_fix() {
        let expected =
            "/ bind rw\n/proc proc rw,nosuid,nodev,noexec\n/etc/hosts bind ro\n/tmp tmpfs rw";
        let got = "/ bind rw\n/proc proc rw\n/etc/hosts bind rw\n/ bind rw";
        assert_eq!(
            mount_table_differences(expected, got),
            [
                "/proc (proc) lacks nosuid (MS_NOSUID), nodev (MS_NODEV), noexec (MS_NOEXEC): add the flag to its mount",
                "/etc/hosts is writable, and should be read-only: a bind mount becomes read-only only when remounted with MS_BIND | MS_REMOUNT | MS_RDONLY (`bind_mount`)",
                "nothing is mounted at /tmp, where a tmpfs should be",
                "a second mount at /: the host's old root, still there after pivot_root: detach it (umount2 with MNT_DETACH)",
            ]
        );
        assert!(mount_table_differences(expected, expected).is_empty());
    }
}
