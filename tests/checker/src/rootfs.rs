//! `just rootfs`: a minimal root filesystem for the container (lesson 04),
//! built offline.
//!
//! From Debian's `busybox-static` when it is installed: one static binary
//! and a symlink for each of its applets. Without it, from the host's own
//! binaries plus the shared libraries `ldd` says they need, as one of the
//! articles does by hand.
//!
//! The result is reproducible: the same inputs give the same tree, with
//! the same modes and timestamps. It is cached under
//! `target/nslab/rootfs/<key>`, where the key is a hash of the inputs, and
//! built in a scratch directory that is renamed into place, so concurrent
//! builds (parallel tests) never see half a tree.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::sys::stat::{UtimensatFlags, utimensat};
use nix::sys::time::TimeSpec;

/// Where Debian's busybox-static installs the binary.
pub const BUSYBOX: &str = "/bin/busybox";

/// Change this when the layout below changes, so old caches are rebuilt.
const LAYOUT_VERSION: &str = "2";

/// Every file gets this modification time (2000-01-01), so two builds of
/// the same inputs are identical, timestamps included.
const FIXED_TIME: i64 = 946_684_800;

/// The directories of a Linux root, with their usual modes. `proc`, `sys`,
/// `dev`, `tmp` and `run` are mount points for lesson 04.
const DIRECTORIES: &[(&str, u32)] = &[
    ("bin", 0o755),
    ("sbin", 0o755),
    ("usr", 0o755),
    ("usr/bin", 0o755),
    ("usr/sbin", 0o755),
    ("etc", 0o755),
    ("dev", 0o755),
    ("proc", 0o555),
    ("sys", 0o555),
    ("tmp", 0o1777),
    ("run", 0o755),
    ("root", 0o700),
    ("home", 0o755),
    ("mnt", 0o755),
    ("var", 0o755),
    ("var/tmp", 0o1777),
];

/// The runtime bind-mounts its own hostname, hosts and resolv.conf over
/// the empty ones here: the image never hard-codes them.
const FILES: &[(&str, &str, u32)] = &[
    (
        "etc/passwd",
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
        0o644,
    ),
    ("etc/group", "root:x:0:\nnogroup:x:65534:\n", 0o644),
    ("etc/hostname", "", 0o644),
    ("etc/hosts", "", 0o644),
    ("etc/resolv.conf", "", 0o644),
];

/// Host programs for the fallback: what the lessons' checks run inside.
const HOST_PROGRAMS: &[&str] = &[
    "sh", "ls", "cat", "echo", "true", "false", "sleep", "id", "env", "hostname", "uname",
    "readlink", "mkdir", "rm", "touch", "chmod", "stat", "ps", "mount", "umount", "ip", "ping",
    "ipcs", "ipcmk", "grep", "sed", "awk", "mknod", "kill", "wc", "head", "tail", "test",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Debian's busybox-static.
    Busybox,
    /// The host's binaries and their libraries.
    HostBinaries,
}

impl Source {
    /// Busybox when it is installed, else the host's binaries.
    pub fn best_available() -> Source {
        if Path::new(BUSYBOX).is_file() {
            Source::Busybox
        } else {
            Source::HostBinaries
        }
    }
}

/// Where the rootfs for `source` is (or will be) under `cache`.
fn location(cache: &Path, source: Source) -> Result<PathBuf, String> {
    let inputs = inputs(source)?;
    let name = format!(
        "{}-{:016x}",
        match source {
            Source::Busybox => "busybox",
            Source::HostBinaries => "host",
        },
        fnv1a(&inputs)
    );
    Ok(cache.join(name))
}

/// The rootfs for `source` under `cache`, built if it is not there yet.
pub fn ensure(cache: &Path, source: Source) -> Result<PathBuf, String> {
    let done = location(cache, source)?;
    if done.is_dir() {
        return Ok(done);
    }
    fs::create_dir_all(cache).map_err(|e| format!("create {}: {e}", cache.display()))?;
    // Threads of one process (the checks run in parallel) build at the
    // same time too: each needs a scratch directory of its own.
    static BUILDS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let build_number = BUILDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let scratch = cache.join(format!(".building-{}-{build_number}", std::process::id()));
    let _ = fs::remove_dir_all(&scratch);
    let built = build(&scratch, source).and_then(|()| {
        match fs::rename(&scratch, &done) {
            Ok(()) => Ok(()),
            // Someone else finished the same build first: theirs is ours.
            Err(_) if done.is_dir() => Ok(()),
            Err(e) => Err(format!("rename {} into place: {e}", scratch.display())),
        }
    });
    let _ = fs::remove_dir_all(&scratch);
    built.map(|()| done)
}

/// What a learner changed in the course rootfs `rootfs` since it was
/// built (a `--volume X:/data` run makes `/data`, as runc does): one line
/// per path, `+ /data` added, `- /bin/ls` gone, `~ /etc/passwd` changed,
/// found by comparing it with a fresh build of `source` under `cache`.
pub fn changes(cache: &Path, rootfs: &Path, source: Source) -> Result<Vec<String>, String> {
    let fresh = cache.join(format!(".compare-{}", std::process::id()));
    remove_tree(&fresh);
    let compared = build(&fresh, source)
        .and_then(|()| Ok(differences(&fingerprint(rootfs)?, &fingerprint(&fresh)?)));
    remove_tree(&fresh);
    compared
}

/// `just rootfs --fresh`: build the rootfs for `source` again, and remove
/// the old one unless something is still mounted in it (a running
/// container's volume, which removing would reach into).
pub fn rebuild(cache: &Path, source: Source) -> Result<(PathBuf, Option<String>), String> {
    let done = location(cache, source)?;
    let mut note = None;
    if done.is_dir() {
        let stale = cache.join(format!(".stale-{}", std::process::id()));
        fs::rename(&done, &stale).map_err(failed("move aside", &done))?;
        if mounted_below(&stale) {
            note = Some(format!(
                "the old rootfs is kept at {} (something is mounted in it): remove it once                  no container uses it",
                stale.display()
            ));
        } else {
            remove_tree(&stale);
        }
    }
    ensure(cache, source).map(|path| (path, note))
}

/// Whether anything is mounted at or below `dir` (in our mount namespace).
fn mounted_below(dir: &Path) -> bool {
    let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    mounts
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .any(|point| Path::new(point).starts_with(dir))
}

/// Remove a rootfs tree, whose read-only directories (`proc`, `sys`)
/// would stop a user without CAP_DAC_OVERRIDE.
fn remove_tree(root: &Path) {
    for (dir, _) in DIRECTORIES {
        let _ = set_mode(&root.join(dir), 0o755);
    }
    let _ = fs::remove_dir_all(root);
}

/// Kind, mode, size, mtime and link target of every entry below `root`,
/// by its path inside (`/etc/passwd`). A directory's size and mtime are
/// left out: they change with its entries, which are listed themselves.
fn fingerprint(root: &Path) -> Result<BTreeMap<String, String>, String> {
    walk(root)?
        .iter()
        .map(|path| {
            let meta = fs::symlink_metadata(path).map_err(failed("stat", path))?;
            let inside = Path::new("/").join(path.strip_prefix(root).unwrap_or(path));
            let what = if meta.is_dir() {
                format!("dir {:o}", meta.mode())
            } else {
                format!(
                    "{:o} {} {} {:?}",
                    meta.mode(),
                    if meta.is_symlink() { 0 } else { meta.size() },
                    meta.mtime(),
                    fs::read_link(path).ok()
                )
            };
            Ok((inside.display().to_string(), what))
        })
        .collect()
}

fn differences(now: &BTreeMap<String, String>, built: &BTreeMap<String, String>) -> Vec<String> {
    let mut lines = Vec::new();
    for (path, what) in now {
        match built.get(path) {
            None => lines.push(format!("+ {path}")),
            Some(was) if was != what => lines.push(format!("~ {path}")),
            Some(_) => {}
        }
    }
    lines.extend(
        built
            .keys()
            .filter(|path| !now.contains_key(*path))
            .map(|path| format!("- {path}")),
    );
    lines
}

/// Everything the tree is made from, for the cache key.
fn inputs(source: Source) -> Result<Vec<u8>, String> {
    let mut inputs = LAYOUT_VERSION.as_bytes().to_vec();
    match source {
        Source::Busybox => {
            inputs.extend(fs::read(BUSYBOX).map_err(|e| format!("read {BUSYBOX}: {e}"))?)
        }
        Source::HostBinaries => {
            for file in host_files()? {
                inputs.extend(file.to_string_lossy().as_bytes());
                inputs
                    .extend(fs::read(&file).map_err(|e| format!("read {}: {e}", file.display()))?);
            }
        }
    }
    Ok(inputs)
}

/// Build the whole tree in `root`, which must not exist yet.
pub fn build(root: &Path, source: Source) -> Result<(), String> {
    fs::create_dir(root).map_err(failed("create", root))?;
    for (dir, _) in DIRECTORIES {
        fs::create_dir_all(root.join(dir)).map_err(failed("create", &root.join(dir)))?;
    }
    for (file, content, mode) in FILES {
        let path = root.join(file);
        fs::write(&path, content).map_err(failed("write", &path))?;
        set_mode(&path, *mode)?;
    }
    match source {
        Source::Busybox => add_busybox(root)?,
        Source::HostBinaries => add_host_binaries(root)?,
    }
    // Modes last: `root` (0700) and `proc` (0555) would stop us writing.
    for (dir, mode) in DIRECTORIES {
        set_mode(&root.join(dir), *mode)?;
    }
    set_mode(root, 0o755)?;
    fix_timestamps(root)
}

/// Turns an I/O error into "what path: error".
fn failed(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> String {
    let path = path.display().to_string();
    move |e| format!("{what} {path}: {e}")
}

fn add_busybox(root: &Path) -> Result<(), String> {
    let binary = root.join("bin/busybox");
    fs::copy(BUSYBOX, &binary).map_err(|e| format!("copy {BUSYBOX}: {e}"))?;
    set_mode(&binary, 0o755)?;
    let list = Command::new(BUSYBOX)
        .arg("--list-full")
        .output()
        .map_err(|e| format!("run {BUSYBOX} --list-full: {e}"))?;
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        let link = root.join(applet);
        if applet.is_empty() || link.exists() {
            continue;
        }
        symlink("/bin/busybox", &link).map_err(|e| format!("link {}: {e}", link.display()))?;
    }
    Ok(())
}

/// Each host program as found (`/usr/bin/sh`) and as the file it really
/// is (`/usr/bin/dash`).
fn host_programs() -> Vec<(PathBuf, PathBuf)> {
    HOST_PROGRAMS
        .iter()
        .filter_map(|program| find_program(program))
        .filter_map(|found| Some((found.clone(), found.canonicalize().ok()?)))
        .collect()
}

/// The real files to copy: every program and every library it loads.
fn host_files() -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for (_, real) in host_programs() {
        files.extend(libraries(&real)?);
        files.push(real);
    }
    files.sort();
    files.dedup();
    Ok(files)
}

fn add_host_binaries(root: &Path) -> Result<(), String> {
    for file in host_files()? {
        let inside = root.join(file.strip_prefix("/").unwrap_or(&file));
        if let Some(parent) = inside.parent() {
            fs::create_dir_all(parent).map_err(failed("create", parent))?;
        }
        fs::copy(&file, &inside).map_err(failed("copy", &file))?;
    }
    // Keep each program's own name (Debian's sh is a link to dash), and
    // make it reachable from /bin too, as on a merged-/usr host: the
    // default command is /bin/sh.
    for (found, real) in host_programs() {
        let name = found.file_name().unwrap_or_default();
        for link in [found.clone(), Path::new("/bin").join(name)] {
            let inside = root.join(link.strip_prefix("/").unwrap_or(&link));
            if fs::symlink_metadata(&inside).is_err() {
                symlink(&real, &inside).map_err(failed("link", &inside))?;
            }
        }
    }
    Ok(())
}

fn find_program(name: &str) -> Option<PathBuf> {
    ["/usr/bin", "/usr/sbin", "/bin", "/sbin"]
        .iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|path| path.is_file())
}

/// The shared libraries `ldd` lists for `program` (none if it is static).
fn libraries(program: &Path) -> Result<Vec<PathBuf>, String> {
    let output = Command::new("ldd")
        .arg(program)
        .output()
        .map_err(|e| format!("run ldd: {e}"))?;
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or
            // "/lib64/ld-linux-x86-64.so.2 (0x...)"
            let path = line.split("=>").last()?.split_whitespace().next()?;
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect())
}

fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| format!("chmod {}: {e}", path.display()))
}

/// Every entry, symlinks included, gets the same timestamps.
fn fix_timestamps(root: &Path) -> Result<(), String> {
    let time = TimeSpec::new(FIXED_TIME, 0);
    let mut entries = walk(root)?;
    // Children first: touching a file would change its directory's mtime.
    entries.sort_by_key(|path| std::cmp::Reverse(path.components().count()));
    entries.push(root.to_path_buf());
    for path in entries {
        utimensat(
            nix::fcntl::AT_FDCWD,
            &path,
            &time,
            &time,
            UtimensatFlags::NoFollowSymlink,
        )
        .map_err(|e| format!("set the time of {}: {e}", path.display()))?;
    }
    Ok(())
}

/// Every path below `root`, without following symlinks.
pub fn walk(root: &Path) -> Result<Vec<PathBuf>, String> {
    let mut paths = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = fs::read_dir(&dir).map_err(|e| format!("read {}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                pending.push(path.clone());
            }
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

/// FNV-1a: a small, stable hash (std's hashers may change between Rust
/// releases, and a cache key must not).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("nslab-rootfs-test-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_busybox_rootfs_has_a_shell_and_is_reproducible() {
        if Source::best_available() != Source::Busybox {
            return; // covered by the host-binaries test below
        }
        let (first, second) = (scratch("a"), scratch("b"));
        build(&first, Source::Busybox).unwrap();
        build(&second, Source::Busybox).unwrap();
        assert_eq!(
            fs::read_link(first.join("bin/sh")).unwrap(),
            Path::new("/bin/busybox")
        );
        assert!(first.join("etc/resolv.conf").is_file());
        assert_eq!(
            fs::metadata(first.join("tmp")).unwrap().mode() & 0o7777,
            0o1777
        );
        assert_eq!(fingerprint(&first).unwrap(), fingerprint(&second).unwrap());
        for root in [first, second] {
            remove_tree(&root);
        }
    }

    #[test]
    fn the_host_fallback_brings_the_libraries_its_programs_need() {
        let root = scratch("host");
        build(&root, Source::HostBinaries).unwrap();
        let shell = find_program("sh").unwrap().canonicalize().unwrap();
        assert!(root.join(shell.strip_prefix("/").unwrap()).is_file());
        assert!(root.join("bin/sh").exists(), "the default command /bin/sh");
        for library in libraries(&shell).unwrap() {
            assert!(
                root.join(library.strip_prefix("/").unwrap()).is_file(),
                "{} is missing",
                library.display()
            );
        }
        remove_tree(&root);
    }

    /// A `--volume X:/data` run made /data; a learner edited a file and
    /// removed a program: `just rootfs` lists each.
    #[test]
    fn a_changed_rootfs_shows_what_changed_and_rebuild_makes_it_fresh() {
        let cache = scratch("changes");
        let source = Source::best_available();
        let rootfs = ensure(&cache, source).unwrap();
        assert_eq!(
            changes(&cache, &rootfs, source).unwrap(),
            Vec::<String>::new()
        );
        fs::create_dir(rootfs.join("data")).unwrap();
        fs::write(rootfs.join("etc/passwd"), "root:x:0:0::/:/bin/sh\n").unwrap();
        let removed = walk(&rootfs.join("bin"))
            .unwrap()
            .into_iter()
            .find(|path| path.is_symlink())
            .unwrap();
        fs::remove_file(&removed).unwrap();
        let gone = format!("- /{}", removed.strip_prefix(&rootfs).unwrap().display());
        assert_eq!(
            changes(&cache, &rootfs, source).unwrap(),
            ["+ /data".to_string(), "~ /etc/passwd".to_string(), gone]
        );
        let (fresh, note) = rebuild(&cache, source).unwrap();
        assert_eq!((fresh.as_path(), note), (rootfs.as_path(), None));
        assert_eq!(
            changes(&cache, &rootfs, source).unwrap(),
            Vec::<String>::new()
        );
        let left: Vec<_> = fs::read_dir(&cache).unwrap().flatten().collect();
        assert_eq!(
            left.len(),
            1,
            "only the rootfs is left in the cache: {left:?}"
        );
        remove_tree(&rootfs);
        let _ = fs::remove_dir_all(&cache);
    }

    #[test]
    fn the_cache_key_is_stable() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
