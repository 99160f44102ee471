//! The runtime's state directory: files the runtime keeps on the host for
//! the containers it runs, and the undo records that let `just clean` put
//! the host back after a runtime that could not.
//!
//! ```text
//! /run/nslab/                  as root; a normal user's is $XDG_RUNTIME_DIR/nslab
//!   containers/                 or /tmp/nslab-UID; these two 0711
//!     4242/                    one per running container (0700), named after the
//!       hostname, hosts, ...   runtime's PID, removed when the run ends
//!       undo/                  one record per thing the container left on the host
//!         network              e.g. lesson 06's address lease (veth, bridge, NAT)
//!   ip_forward                 host-wide records that outlive any one container
//! ```
//!
//! **Undo records.** Whatever a container leaves on the host is recorded
//! in its `undo/` directory *before* it is made (or atomically with it), by
//! the module that knows how to make it; the record goes only once its
//! undo has run. So a runtime killed by SIGKILL, or a lesson whose
//! `cleanup` forgot a release, leaves records behind, and [`clean`] (`just
//! clean`) replays them. This module knows no lesson: the kinds of record
//! and their undo ([`Undo`]) are handed in by the top of the runtime.
//!
//! What containers share (the lease table, the bridge) is changed under
//! [`lock`], an `flock` on the `containers` directory.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};
use nix::unistd::{Pid, Uid};

use crate::error::{Context, Error, Result};

/// The state directory when the runtime runs as root.
pub const ROOT_STATE_DIR: &str = "/run/nslab";

/// The subdirectory that holds one directory per container.
pub const CONTAINERS: &str = "containers";

/// The subdirectory of a container's directory that holds its undo records.
pub const UNDO: &str = "undo";

/// Where this user's runtime keeps its state: `/run/nslab` for root;
/// for anyone else a directory they own, `$XDG_RUNTIME_DIR/nslab` (the
/// per-login directory systemd makes) or else `/tmp/nslab-UID`.
pub fn root() -> PathBuf {
    let uid = Uid::effective();
    if uid.is_root() {
        return PathBuf::from(ROOT_STATE_DIR);
    }
    match std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        Some(dir) if fs::metadata(&dir).is_ok_and(|m| m.is_dir() && m.uid() == uid.as_raw()) => {
            dir.join("nslab")
        }
        _ => std::env::temp_dir().join(format!("nslab-{uid}")),
    }
}

/// Every user's state directory that exists on this host, with its
/// owner's uid: root's, `/tmp/nslab-UID` and `/run/user/UID/nslab`. For
/// root's `just clean`, which tidies after everyone.
pub fn every_users_root() -> Vec<(u32, PathBuf)> {
    let mut found = Vec::new();
    let mut look = |dir: PathBuf| {
        if let Ok(meta) = fs::symlink_metadata(&dir)
            && meta.is_dir()
            && !found.iter().any(|(_, d)| *d == dir)
        {
            found.push((meta.uid(), dir));
        }
    };
    look(PathBuf::from(ROOT_STATE_DIR));
    for parent in [std::env::temp_dir(), PathBuf::from("/run/user")] {
        let Ok(entries) = fs::read_dir(&parent) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            if let Some(uid) = name.strip_prefix("nslab-") {
                if uid.parse::<u32>().is_ok() {
                    look(parent.join(&name));
                }
            } else if parent.ends_with("user") && name.parse::<u32>().is_ok() {
                look(parent.join(&name).join("nslab"));
            }
        }
    }
    found
}

/// Create the container directory `dir` (0700), in the runtime. A
/// directory already there has the PID of a dead runtime (ours is alive):
/// it is a leftover, and goes first.
///
/// Its parents are 0711: anyone may pass through, nobody else may list
/// them. A container whose root is another user of the host (root with
/// `--uid-map 0:100000:65536`, lesson 05) is given its own directory, and
/// must be able to reach it.
pub fn create_container_dir(dir: &Path) -> Result<()> {
    let _ = fs::remove_dir_all(dir);
    let fix = "check that the state directory is writable (`just clean` tidies it)";
    let what = || format!("create the container's state directory {}", dir.display());
    if let Some(containers) = dir.parent() {
        fs::create_dir_all(containers)
            .with_context(what)
            .map_err(|e| e.fix(fix))?;
    }
    // `containers` and the state directory itself.
    for passage in dir.ancestors().skip(1).take(2) {
        fs::set_permissions(passage, fs::Permissions::from_mode(0o711))
            .with_context(what)
            .map_err(|e| e.fix(fix))?;
    }
    fs::DirBuilder::new()
        .mode(0o700)
        .create(dir)
        .with_context(what)
        .map_err(|e| e.fix(fix))
}

/// Remove the container directory `dir` and everything in it.
pub fn remove_container_dir(dir: &Path) -> Result<()> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::new(format!(
            "remove the container's state directory {}",
            dir.display()
        ))
        .because(e)),
        _ => Ok(()),
    }
}

/// Whether a runtime with this PID still exists (a zombie still does: it
/// has not been reaped, so its PID is not free yet).
pub fn runtime_is_alive(pid: i32) -> bool {
    pid > 0 && Path::new(&format!("/proc/{pid}")).exists()
}

/// The record of kind `kind` in `dir` (a container's directory, or the
/// state root for a host-wide record): `dir/undo/KIND`.
pub fn record_path(dir: &Path, kind: &str) -> PathBuf {
    dir.join(UNDO).join(kind)
}

/// Write the record `kind` into `dir`, whole or not at all (written aside,
/// then renamed): call it *before* making what it undoes.
pub fn write_record(dir: &Path, kind: &str, text: &str) -> Result<()> {
    let what = || format!("write the undo record {}", record_path(dir, kind).display());
    // Named after its writer, so that a writer killed before the rename
    // leaves a half-written record `clean` knows for a leftover.
    let partial = dir
        .join(UNDO)
        .join(format!(".{kind}.{}.new", std::process::id()));
    let make_and_write = || {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir.join(UNDO))?;
        fs::write(&partial, text)
    };
    // An empty `undo/` is removed by the last record out and by `clean`,
    // so it can vanish between making it and writing into it: once more.
    make_and_write()
        .or_else(|e| match e.kind() {
            std::io::ErrorKind::NotFound => make_and_write(),
            _ => Err(e),
        })
        .and_then(|()| fs::rename(&partial, record_path(dir, kind)))
        .with_context(what)
}

/// The record `kind` in `dir`, if there is one.
pub fn read_record(dir: &Path, kind: &str) -> Option<String> {
    fs::read_to_string(record_path(dir, kind)).ok()
}

/// Remove the record `kind` from `dir`: call it once its undo has run.
/// The last record out removes `undo/`.
pub fn remove_record(dir: &Path, kind: &str) -> Result<()> {
    let path = record_path(dir, kind);
    match fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(
                Error::new(format!("remove the undo record {}", path.display())).because(e),
            );
        }
        _ => {}
    }
    let _ = fs::remove_dir(dir.join(UNDO));
    Ok(())
}

/// The kinds of the records in `dir`, sorted.
pub fn records(dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(dir.join(UNDO)) else {
        return Vec::new();
    };
    let mut kinds: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('.'))
        .collect();
    kinds.sort();
    kinds
}

// ANCHOR: undo
/// One kind of thing a container can leave on the host, and how to take
/// it away again. Each module that makes such a thing implements it; the
/// top of the runtime hands the list to [`clean`], so this module (and
/// `clean`) never names a lesson.
pub trait Undo: Sync {
    /// The record's file name in `undo/`, e.g. `network`.
    fn kind(&self) -> &'static str;

    /// Undo what the record `kind()` in the container directory `dir`
    /// describes, then remove the record. Idempotent. Returns what it
    /// did, a sentence each.
    fn undo(&self, state_root: &Path, dir: &Path) -> Result<Vec<String>>;

    /// The call a lesson's `cleanup` makes to release it (e.g.
    /// `network::release`), named when a `cleanup` forgot it.
    fn released_by(&self) -> &'static str;

    /// Find this kind's leftovers on the host by what they are, with no
    /// record left (a record lost with a deleted directory, a release
    /// forgotten by an older runtime): with [`Tidy::Remove`] remove them,
    /// with [`Tidy::Look`] only say what is there. [`clean`] calls it for
    /// every state directory it tidies; what is shared by the whole host
    /// (the bridge) is swept only with root's.
    fn sweep(&self, state_root: &Path, tidy: Tidy) -> Result<Vec<String>> {
        let _ = (state_root, tidy);
        Ok(Vec::new())
    }
}
// ANCHOR_END: undo

/// Whether a sweep removes what it finds or only reports it (`just
/// doctor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tidy {
    Look,
    Remove,
}

/// Replay the records in the container directory `dir`, in the reverse of
/// the order of `kinds` (the order lessons made them, as `cleanup` runs).
/// Returns what was done, and the kinds of the records left (unknown to
/// `kinds`, or whose undo failed).
pub fn replay(state_root: &Path, dir: &Path, kinds: &[&dyn Undo]) -> (Vec<String>, Vec<String>) {
    let mut done = Vec::new();
    for kind in kinds.iter().rev() {
        if read_record(dir, kind.kind()).is_none() {
            continue;
        }
        match kind.undo(state_root, dir) {
            Ok(sentences) => done.extend(sentences),
            Err(error) => done.push(format!("could not undo {}: {error}", kind.kind())),
        }
    }
    (done, records(dir))
}

/// An exclusive lock on what the containers under one state directory
/// share, held until dropped.
pub struct Lock(#[allow(dead_code)] Flock<fs::File>);

/// Wait until no other runtime holds the lock of `state_root`, and take
/// it. The lock is an `flock` on the `containers` directory, made here if
/// it is missing: it is never removed, so every runtime locks the same one.
pub fn lock(state_root: &Path) -> Result<Lock> {
    let containers = state_root.join(CONTAINERS);
    let what = || format!("lock {}", containers.display());
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&containers)
        .with_context(what)?;
    let dir = fs::File::open(&containers).with_context(what)?;
    Flock::lock(dir, FlockArg::LockExclusive)
        .map(Lock)
        .map_err(|(_, errno)| Error::new(what()).because(errno))
}

/// The runtime PID a container directory is named after, if it is one.
pub fn owner(container_dir: &Path) -> Option<i32> {
    container_dir.file_name()?.to_str()?.parse().ok()
}

/// The container directories under `state_root` whose runtime is gone:
/// what a runtime killed by SIGKILL left behind.
pub fn leftovers(state_root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(state_root.join(CONTAINERS)) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|dir| owner(dir).is_none_or(|pid| !runtime_is_alive(pid)))
        .collect();
    found.sort();
    found
}

// ANCHOR: clean
/// `just clean` for the state directory `state_root`: replay the records
/// of every container whose runtime is gone and remove its directory, then
/// let each kind sweep for leftovers that have no record. Says what it
/// did, a sentence each. A directory with a record that could not be
/// undone stays, and says so: it is the only way back to what it made.
pub fn clean(state_root: &Path, kinds: &[&dyn Undo]) -> Result<Vec<String>> {
    let mut done = Vec::new();
    for dir in leftovers(state_root) {
        done.extend(clean_up_container(state_root, &dir, kinds)?);
    }
    done.extend(remove_half_written(&state_root.join(UNDO), |pid| {
        !runtime_is_alive(pid)
    }));
    for kind in kinds.iter().rev() {
        done.extend(kind.sweep(state_root, Tidy::Remove)?);
    }
    Ok(done)
}
// ANCHOR_END: clean

/// Remove the half-written records (`.KIND.PID.new`) in `undo_dir` whose
/// writer is `gone`: killed between writing and renaming, so what the
/// record was to describe was never made. Then `undo_dir` itself if that
/// leaves it empty, or if a writer was killed between making it and
/// writing into it.
fn remove_half_written(undo_dir: &Path, gone: impl Fn(i32) -> bool) -> Vec<String> {
    let Ok(entries) = fs::read_dir(undo_dir) else {
        return Vec::new();
    };
    let mut done: Vec<String> = entries
        .flatten()
        .filter(|entry| {
            let name = entry.file_name();
            let writer = name
                .to_str()
                .and_then(|name| name.strip_prefix('.')?.strip_suffix(".new"))
                .and_then(|kind_and_pid| kind_and_pid.rsplit_once('.'))
                .and_then(|(_, pid)| pid.parse().ok());
            writer.is_some_and(&gone)
        })
        .filter(|entry| fs::remove_file(entry.path()).is_ok())
        .map(|entry| {
            format!(
                "removed the half-written undo record {}",
                entry.path().display()
            )
        })
        .collect();
    if fs::remove_dir(undo_dir).is_ok() {
        done.push(format!("removed the empty {}", undo_dir.display()));
    }
    done
}

/// What `just clean` does for one runtime, `runtime`, that a tool has just
/// killed: it may not be reaped yet, so its PID still looks alive.
pub fn clean_up_after(state_root: &Path, runtime: Pid, kinds: &[&dyn Undo]) -> Result<Vec<String>> {
    let dir = container_dir_of(state_root, runtime);
    let mut done = clean_up_container(state_root, &dir, kinds)?;
    done.extend(remove_half_written(&state_root.join(UNDO), |pid| {
        pid == runtime.as_raw() || !runtime_is_alive(pid)
    }));
    for kind in kinds.iter().rev() {
        done.extend(kind.sweep(state_root, Tidy::Remove)?);
    }
    Ok(done)
}

fn clean_up_container(state_root: &Path, dir: &Path, kinds: &[&dyn Undo]) -> Result<Vec<String>> {
    let (mut done, left) = replay(state_root, dir, kinds);
    if !left.is_empty() {
        done.push(format!(
            "kept {} (its runtime is gone): no undo for its records {}",
            dir.display(),
            left.join(", ")
        ));
    } else if dir.exists() {
        remove_container_dir(dir)?;
        done.push(format!("removed {} (its runtime is gone)", dir.display()));
    }
    Ok(done)
}

/// The container directory of the runtime `pid` under `state_root`.
pub fn container_dir_of(state_root: &Path, pid: Pid) -> PathBuf {
    state_root.join(CONTAINERS).join(pid.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scratch::{Marker, Scratch};

    #[test]
    fn a_record_half_written_by_a_dead_runtime_is_removed_and_a_live_ones_kept() {
        let scratch = Scratch::new("half-written");
        let undo = scratch.0.join(UNDO);
        fs::create_dir_all(&undo).unwrap();
        let dead = undo.join(".ip_forward.4194305.new");
        let live = undo.join(format!(".ip_forward.{}.new", std::process::id()));
        let whole = undo.join("ip_forward");
        for file in [&dead, &live, &whole] {
            fs::write(file, "0").unwrap();
        }
        let done = remove_half_written(&undo, |pid| !runtime_is_alive(pid));
        assert_eq!(done.len(), 1, "{done:?}");
        assert!(!dead.exists() && live.exists() && whole.exists());
    }

    /// A runtime killed between making the host-wide `undo/` and writing
    /// its record into it, or between writing and renaming, leaves the
    /// directory; `clean` takes it away once nothing is in it.
    #[test]
    fn clean_removes_an_undo_directory_a_killed_writer_left_empty() {
        let scratch = Scratch::new("empty-undo");
        let undo = scratch.0.join(UNDO);
        fs::create_dir_all(&undo).unwrap();
        let done = clean(&scratch.0, &[]).unwrap();
        assert!(!undo.exists(), "{done:?}");
        assert_eq!(done.len(), 1, "{done:?}");

        fs::create_dir_all(&undo).unwrap();
        fs::write(undo.join(".ip_forward.4194305.new"), "0").unwrap();
        let done = clean(&scratch.0, &[]).unwrap();
        assert!(!undo.exists(), "{done:?}");
        assert_eq!(done.len(), 2, "{done:?}");

        fs::create_dir_all(&undo).unwrap();
        write_record(&scratch.0, "ip_forward", "0").unwrap();
        clean(&scratch.0, &[]).unwrap();
        assert_eq!(records(&scratch.0), ["ip_forward"]);
    }

    #[test]
    fn leftovers_are_the_directories_of_dead_runtimes() {
        let scratch = Scratch::new("leftovers");
        let root = scratch.0.clone();
        // Our own PID is alive; PID 0 never names a runtime; a PID above
        // the kernel's limit (2^22) never exists.
        let alive = container_dir_of(&root, Pid::this());
        let dead = root.join(CONTAINERS).join("4194305");
        let stray = root.join(CONTAINERS).join("not-a-pid");
        for dir in [&alive, &dead, &stray] {
            create_container_dir(dir).unwrap();
        }
        fs::write(dead.join("hosts"), "127.0.0.1 localhost\n").unwrap();
        assert_eq!(leftovers(&root), [dead.clone(), stray.clone()]);
        let removed = clean(&root, &[]).unwrap();
        assert_eq!(removed.len(), 2, "{removed:?}");
        assert!(
            removed[0].contains(&dead.display().to_string()),
            "{removed:?}"
        );
        assert!(alive.is_dir() && !dead.exists() && !stray.exists());
        assert_eq!(leftovers(&root), Vec::<PathBuf>::new());
    }

    #[test]
    fn clean_replays_records_and_keeps_a_directory_it_cannot_undo() {
        let scratch = Scratch::new("records");
        let root = scratch.0.clone();
        let made = root.join("made-on-the-host");
        let dead = root.join(CONTAINERS).join("4194305");
        create_container_dir(&dead).unwrap();
        write_record(&dead, "marker", &made.display().to_string()).unwrap();
        fs::write(&made, "").unwrap();
        assert_eq!(records(&dead), ["marker"]);
        let done = clean(&root, &[&Marker]).unwrap();
        assert!(!made.exists() && !dead.exists(), "{done:?}");
        assert!(done[0].contains("removed the marker"), "{done:?}");

        create_container_dir(&dead).unwrap();
        write_record(&dead, "unknown", "").unwrap();
        let done = clean(&root, &[&Marker]).unwrap();
        assert!(dead.exists(), "{done:?}");
        assert!(
            done[0].contains("no undo for its records unknown"),
            "{done:?}"
        );
    }

    #[test]
    fn a_container_directory_is_private_and_replaces_a_leftover() {
        let root = Scratch::new("private");
        let dir = root.0.join(CONTAINERS).join("7");
        create_container_dir(&dir).unwrap();
        fs::write(dir.join("old"), "from a dead runtime").unwrap();
        create_container_dir(&dir).unwrap();
        assert!(!dir.join("old").exists());
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        for passage in [root.0.join(CONTAINERS), root.0.clone()] {
            assert_eq!(fs::metadata(passage).unwrap().mode() & 0o777, 0o711);
        }
        remove_container_dir(&dir).unwrap();
        remove_container_dir(&dir).unwrap();
    }

    #[test]
    fn the_state_directory_belongs_to_its_user() {
        let root = root();
        if Uid::effective().is_root() {
            assert_eq!(root, Path::new(ROOT_STATE_DIR));
        } else {
            assert!(
                root.ends_with("nslab") || root.ends_with(format!("nslab-{}", Uid::effective()))
            );
        }
    }
}
