//! The runtime's state directory: files the runtime keeps on the host for
//! the containers it runs.
//!
//! ```text
//! /run/nslab/                  as root; a normal user's is $XDG_RUNTIME_DIR/nslab
//!   containers/                 or /tmp/nslab-UID; these two 0711
//!     4242/                    one per running container (0700), named after the
//!       hostname, hosts, ...   runtime's PID, removed when the run ends
//!       network                lesson 06: its address lease
//! ```
//!
//! A runtime killed with SIGKILL cannot remove its directory; since the
//! directory is named after its PID, a dead PID marks a leftover, and
//! [`clean`] (`just clean`) removes those. Later lessons keep more here
//! (lesson 06's address leases; lesson 07's registry of named containers,
//! `names/`, see [`registry`]), and extend [`clean`].
//!
//! What containers share (the lease table, the bridge) is changed under
//! [`lock`], an `flock` on the `containers` directory.

use std::fs;
use std::os::fd::OwnedFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use nix::fcntl::{Flock, FlockArg, OFlag, open, openat};
use nix::sys::stat::Mode;
use nix::unistd::{Pid, Uid};

use crate::error::{Context, Error, Result};
use crate::{cgroup, netns, network, registry};

/// The state directory when the runtime runs as root.
pub const ROOT_STATE_DIR: &str = "/run/nslab";

/// The subdirectory that holds one directory per container.
pub const CONTAINERS: &str = "containers";

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

static RUNTIME_PID: OnceLock<Pid> = OnceLock::new();
static CONTAINER_DIR: OnceLock<PathBuf> = OnceLock::new();

/// This run's container directory, `<state dir>/containers/<runtime PID>`.
///
/// Fixed at the first call, which the core makes in the runtime before
/// `clone`: the container process gets a copy of it and so the same
/// answer, although there `getpid()` answers 1 and, in a user namespace,
/// the user is someone else.
pub fn container_dir() -> &'static Path {
    CONTAINER_DIR.get_or_init(|| container_dir_of(&root(), runtime_pid()))
}

/// The runtime's PID on the host, fixed like [`container_dir`]: in the
/// container, the way to look at the runtime in the host's `/proc`.
pub fn runtime_pid() -> Pid {
    *RUNTIME_PID.get_or_init(Pid::this)
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

/// Remove the container directory `dir` and everything in it, at the end
/// of a run, however it went.
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

static HELD_CONTAINER_DIR: OnceLock<OwnedFd> = OnceLock::new();

/// In the container, before the lessons' `in_child` hooks: keep a handle
/// on this container's directory, so that the files the runtime left there
/// stay readable after lesson 04's `pivot_root` has taken the path away.
/// Close-on-exec: the command never gets it. If the directory cannot be
/// opened, [`read_container_file`] says so when a lesson asks.
pub fn hold_container_dir() {
    let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    if let Ok(dir) = open(container_dir(), flags, Mode::empty()) {
        let _ = HELD_CONTAINER_DIR.set(dir);
    }
}

/// The file `name` of this container's directory: in the runtime by its
/// path; in the container through the handle [`hold_container_dir`] kept.
pub fn read_container_file(name: &str) -> std::io::Result<String> {
    match HELD_CONTAINER_DIR.get() {
        Some(dir) => {
            let file = openat(dir, name, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())?;
            std::io::read_to_string(fs::File::from(file))
        }
        None => fs::read_to_string(container_dir().join(name)),
    }
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

/// `just clean`: remove what killed runtimes left under `state_root` and
/// on the host (lesson 06: their veth pairs; the bridge and the NAT rule if
/// no running container uses them; lesson 07: the network namespace names
/// they kept, and names in the registry that no running container holds;
/// lesson 08: their cgroups),
/// and say what it did, a sentence each.
pub fn clean(state_root: &Path) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    for dir in leftovers(state_root) {
        removed.extend(clean_up_container(state_root, &dir)?);
    }
    removed.extend(registry::clean(state_root));
    if Uid::effective().is_root() {
        removed.extend(cgroup::clean()?);
    }
    Ok(removed)
}

/// What `just clean` does for one runtime, `runtime`, that a tool has just
/// killed: it may not be reaped yet, so its PID still looks alive.
pub fn clean_up_after(state_root: &Path, runtime: Pid) -> Result<Vec<String>> {
    let mut removed = clean_up_container(state_root, &container_dir_of(state_root, runtime))?;
    removed.extend(registry::clean(state_root));
    Ok(removed)
}

fn clean_up_container(state_root: &Path, dir: &Path) -> Result<Vec<String>> {
    let mut removed = match owner(dir) {
        Some(pid) => network::release(state_root, pid)?,
        None => Vec::new(),
    };
    // Lesson 08: the container's cgroup, in every tree.
    if let Some(pid) = owner(dir).filter(|_| Uid::effective().is_root()) {
        removed.extend(cgroup::release(Pid::from_raw(pid))?);
    }
    removed.extend(netns::release(dir)?);
    if dir.exists() {
        remove_container_dir(dir)?;
        removed.push(format!("removed {} (its runtime is gone)", dir.display()));
    }
    Ok(removed)
}

/// The container directory of the runtime `pid` under `state_root`, for
/// tools that clean up after one runtime they killed.
pub fn container_dir_of(state_root: &Path, pid: Pid) -> PathBuf {
    state_root.join(CONTAINERS).join(pid.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scratch::Scratch;

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
        let removed = clean(&root).unwrap();
        assert_eq!(removed.len(), 2, "{removed:?}");
        assert!(
            removed[0].contains(&dead.display().to_string()),
            "{removed:?}"
        );
        assert!(alive.is_dir() && !dead.exists() && !stray.exists());
        assert_eq!(leftovers(&root), Vec::<PathBuf>::new());
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
