//! The runtime's state directory: files the runtime keeps on the host for
//! the containers it runs.
//!
//! ```text
//! /run/nslab/                  as root; a normal user's is $XDG_RUNTIME_DIR/nslab
//!   containers/                 or /tmp/nslab-UID; these two 0711
//!     4242/                    one per running container (0700), named after the
//!       hostname, hosts, ...   runtime's PID, removed when the run ends
//! ```
//!
//! A runtime killed with SIGKILL cannot remove its directory; since the
//! directory is named after its PID, a dead PID marks a leftover, and
//! [`clean`] (`just clean`) removes those. Later lessons keep more here
//! (address leases, the registry of named containers), and extend
//! [`clean`].

use std::fs;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use nix::unistd::{Pid, Uid};

use crate::error::{Context, Error, Result};

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

/// `just clean`: remove what killed runtimes left under `state_root`, and
/// return what was removed.
pub fn clean(state_root: &Path) -> Result<Vec<PathBuf>> {
    let found = leftovers(state_root);
    for dir in &found {
        remove_container_dir(dir)?;
    }
    Ok(found)
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
        assert_eq!(clean(&root).unwrap(), [dead.clone(), stray.clone()]);
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
