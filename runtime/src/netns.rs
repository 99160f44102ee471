//! Lesson 07: names for network namespaces under `/run/netns`, the way
//! `ip netns add` makes them, so that `ip netns exec NAME ...` works in a
//! running container's network namespace (`--keep-net NAME`).
//!
//! A name is an empty file with the namespace's `/proc/PID/ns/net` bind-
//! mounted on it. The lesson makes the mount; this module owns the rest:
//! the directory, the file, the undo record in the container's state
//! directory that lets `just clean` release a name a killed runtime left
//! behind ([`KeptNetnsUndo`]), and the release itself.

use std::fs::{self, File, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use nix::mount::{MntFlags, MsFlags, mount, umount2};

use crate::error::{Context, Error, Result};
use crate::state::{self, Undo};

/// Where `ip` looks for named network namespaces.
pub const RUN_DIR: &str = "/run/netns";

/// The kind of undo record of a kept name, in the container's state
/// directory.
pub const RECORD: &str = "netns";

/// `/run/netns/NAME`.
pub fn path(name: &str) -> PathBuf {
    Path::new(RUN_DIR).join(name)
}

/// For `validate`: refuse a name that is taken, or that this user may
/// not make, before anything exists.
pub fn refuse_if_taken(name: &str) -> Result<()> {
    if !nix::unistd::geteuid().is_root() {
        return Err(Error::new(format!(
            "--keep-net {name}: only root may name a network namespace in {RUN_DIR}"
        ))
        .fix("run as root, or leave out --keep-net (`exec` works without it)"));
    }
    if fs::symlink_metadata(path(name)).is_ok() {
        return Err(Error::new(format!(
            "--keep-net {name}: {} already exists",
            path(name).display()
        ))
        .fix(format!(
            "choose another name, or remove the old one with `ip netns delete {name}`"
        )));
    }
    Ok(())
}

/// Make `/run/netns` a mount point with shared propagation, as `ip netns
/// add` does: a name unmounted in one mount namespace is then unmounted in
/// its peers too, so no forgotten copy keeps the namespace alive. If it is
/// not a mount point yet, `mount --make-shared` fails with EINVAL: bind-
/// mount the directory onto itself first. Like `ip`, we leave it in place.
// ANCHOR: prepare_run_dir
pub fn prepare_run_dir() -> Result<()> {
    let what = || format!("prepare {RUN_DIR}");
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(RUN_DIR)
        .with_context(what)?;
    // Two runtimes starting together must not both stack a bind mount.
    let _lock = Flock::lock(
        File::open(RUN_DIR).with_context(what)?,
        FlockArg::LockExclusive,
    )
    .map_err(|(_, errno)| Error::new(what()).because(errno))?;
    let shared = MsFlags::MS_SHARED | MsFlags::MS_REC;
    match mount(None::<&str>, RUN_DIR, None::<&str>, shared, None::<&str>) {
        Err(Errno::EINVAL) => {
            let bind = MsFlags::MS_BIND | MsFlags::MS_REC;
            mount(Some(RUN_DIR), RUN_DIR, None::<&str>, bind, None::<&str>)
                .and_then(|()| mount(None::<&str>, RUN_DIR, None::<&str>, shared, None::<&str>))
                .with_context(what)
        }
        done => done.with_context(what),
    }
}
// ANCHOR_END: prepare_run_dir

/// Create the empty file `/run/netns/NAME` for the lesson to mount on,
/// and record the name in `container_dir` first, so that `just clean`
/// finds it if the runtime is killed. Fails if the name exists.
pub fn claim(container_dir: &Path, name: &str) -> Result<PathBuf> {
    let target = path(name);
    state::write_record(container_dir, RECORD, name)?;
    let created = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&target)
        .with_context(|| format!("create {}", target.display()))
        .map_err(|e| e.fix("choose another --keep-net, or `ip netns delete` the old one"));
    if let Err(error) = created {
        // Not ours: the record must not make `clean` remove it.
        state::remove_record(container_dir, RECORD)?;
        return Err(error);
    }
    Ok(target)
}

/// Release the name recorded in `container_dir`, if any: unmount it (the
/// namespace goes once nothing else holds it) and remove the file. Returns
/// what it did. Idempotent.
pub fn release(container_dir: &Path) -> Result<Option<String>> {
    let Some(name) = state::read_record(container_dir, RECORD) else {
        return Ok(None);
    };
    let target = path(name.trim());
    // EINVAL: not a mount point (the mount was never made); ENOENT: gone.
    match umount2(&target, MntFlags::MNT_DETACH) {
        Ok(()) | Err(Errno::EINVAL) | Err(Errno::ENOENT) => {}
        Err(e) => return Err(Error::new(format!("unmount {}", target.display())).because(e)),
    }
    match fs::remove_file(&target) {
        Err(e) if e.kind() != ErrorKind::NotFound => {
            return Err(Error::new(format!("remove {}", target.display())).because(e));
        }
        _ => {}
    }
    state::remove_record(container_dir, RECORD)?;
    Ok(Some(format!("released {}", target.display())))
}

/// The undo of a kept name, for `just clean`: [`release`]. Names under
/// `/run/netns` are the user's choice, so none is found without a record.
pub struct KeptNetnsUndo;

impl Undo for KeptNetnsUndo {
    fn kind(&self) -> &'static str {
        RECORD
    }

    fn released_by(&self) -> &'static str {
        "netns::release"
    }

    fn undo(&self, _state_root: &Path, dir: &Path) -> Result<Vec<String>> {
        release(dir).map(|done| done.into_iter().collect())
    }
}
