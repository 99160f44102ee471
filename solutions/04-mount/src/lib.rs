//! Lesson 04: mount.
//!
//! A mount namespace is the container's own list of mounts. It starts as
//! a copy of the host's, so the work is in what the container does with
//! it: first cut it off from the host (make every mount private), then
//! mount a `/proc` that shows the container's PID namespace, and, with
//! `--rootfs`, build a whole tree in a directory (`/proc`, `/sys`, a small
//! `/dev`, the generated `/etc` files, the volumes) and make that
//! directory the root with `pivot_root`, leaving the host's tree behind.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sys::statvfs::{FsFlags, statvfs};
use nix::unistd::{Pid, chdir, pivot_root};
use nslab_runtime::paths::resolve_in_root;
use nslab_runtime::{CloneFlags, Context, Errno, Error, Namespace, Result, Run, conf};

pub struct MountNamespace;

impl Namespace for MountNamespace {
    // ANCHOR: validate
    /// Refuse a rootfs or a volume that cannot work, before anything
    /// exists: nothing is mounted or created yet.
    fn validate(&self, run: &Run) -> Result<()> {
        let Some(rootfs) = &run.config.rootfs else {
            return match run.config.volumes.first() {
                // Without a rootfs, the mount point would be made on the host.
                Some(volume) => Err(Error::new(format!(
                    "--volume {} needs --rootfs",
                    volume.container.display()
                ))
                .fix("give the container a root filesystem with --rootfs DIR (`just rootfs`)")),
                None => Ok(()),
            };
        };
        let fix = "give a directory that holds the container's files; `just rootfs` builds one";
        let metadata = fs::metadata(rootfs)
            .with_context(|| format!("--rootfs {}", rootfs.display()))
            .map_err(|e| e.fix(fix))?;
        if !metadata.is_dir() {
            return Err(
                Error::new(format!("--rootfs {} is not a directory", rootfs.display())).fix(fix),
            );
        }
        for volume in &run.config.volumes {
            let flag = format!("--volume {volume}");
            fs::metadata(&volume.host)
                .with_context(|| format!("{flag}: the host path"))
                .map_err(|e| e.fix("create it first, or correct the path"))?;
            if !volume.container.is_absolute() {
                return Err(
                    Error::new(format!("{flag}: the container path is relative"))
                        .fix("start it with /, the container's root, as in /data"),
                );
            }
            resolve_in_root(rootfs, &volume.container).map_err(|why| {
                Error::new(format!("{flag}: {why}"))
                    .fix("give a path that stays inside the container's /")
            })?;
        }
        Ok(())
    }
    // ANCHOR_END: validate

    // ANCHOR: clone_flags
    fn clone_flags(&self) -> CloneFlags {
        CloneFlags::CLONE_NEWNS
    }
    // ANCHOR_END: clone_flags

    // ANCHOR: in_parent
    /// On the host, before the child goes on: the container's `hostname`,
    /// `hosts` and `resolv.conf`, in its state directory, for `in_child`
    /// to bind-mount.
    fn in_parent(&self, run: &Run, _child: Pid) -> Result<()> {
        if run.config.rootfs.is_some() {
            conf::write(&run.container_dir, &run.config.hostname, &[])?;
        }
        Ok(())
    }
    // ANCHOR_END: in_parent

    // ANCHOR: in_child
    /// In the new mount namespace, a copy of the host's mounts: cut it off
    /// from the host, then give the container its own `/proc`, or its own
    /// root filesystem.
    fn in_child(&self, run: &Run) -> Result<()> {
        refuse_the_hosts_mount_namespace(run.runtime_pid)?;
        make_mounts_private()?;
        match &run.config.rootfs {
            None => mount_proc(Path::new("/proc")),
            Some(rootfs) => {
                let rootfs = fs::canonicalize(rootfs)
                    .with_context(|| format!("find the rootfs {}", rootfs.display()))?;
                set_up_rootfs(&rootfs, run)?;
                enter_rootfs(&rootfs)
            }
        }
    }
    // ANCHOR_END: in_child
}

// ANCHOR: make_mounts_private
/// Make every mount of this namespace private, recursively, so that no
/// mount or unmount made here reaches the host, nor one of the host's
/// reaches us.
fn make_mounts_private() -> Result<()> {
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .context("make every mount private (mount --make-rprivate /)")
}
// ANCHOR_END: make_mounts_private

// ANCHOR: mount_proc
/// Mount a new `proc` on `target`: it shows the PID namespace of the
/// process that mounts it, the container's.
fn mount_proc(target: &Path) -> Result<()> {
    mount(
        Some("proc"),
        target,
        Some("proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None::<&str>,
    )
    .with_context(|| format!("mount proc on {}", target.display()))
}
// ANCHOR_END: mount_proc

// ANCHOR: bind_mount
/// Make `source` (a file or a directory, with everything mounted below
/// it) appear at `target` too; read-only there if `read_only`.
fn bind_mount(source: &Path, target: &Path, read_only: bool) -> Result<()> {
    let what = || format!("bind-mount {} on {}", source.display(), target.display());
    mount(
        Some(source),
        target,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .with_context(what)?;
    if read_only {
        // The kernel ignores MS_RDONLY when it creates a bind mount: only
        // a remount makes one read-only.
        remount_read_only(target)?;
    }
    Ok(())
}
// ANCHOR_END: bind_mount

// ANCHOR: remount_read_only
/// Make the mount at `target` read-only, and only that mount: not the
/// file system it shows, nor the mounts inside it (`/tmp` on a rootfs).
fn remount_read_only(target: &Path) -> Result<()> {
    let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
    mount(
        None::<&str>,
        target,
        None::<&str>,
        flags | flags_to_keep(target)?,
        None::<&str>,
    )
    .with_context(|| format!("make {} read-only", target.display()))
}
// ANCHOR_END: remount_read_only

// ANCHOR: enter_rootfs
/// Make `rootfs`, a mount point, the root of this mount namespace, and
/// let go of the host's tree.
fn enter_rootfs(rootfs: &Path) -> Result<()> {
    chdir(rootfs).with_context(|| format!("chdir to the rootfs {}", rootfs.display()))?;
    // The new root and the place for the old one are both ".": the old
    // root ends up mounted on top of the new one, at "/"...
    pivot_root(".", ".").context("pivot_root into the rootfs")?;
    // ...where unmounting "." takes it off (lazily: a process may still
    // use it), and uncovers the new root.
    umount2(".", MntFlags::MNT_DETACH).context("detach the host's root")?;
    chdir("/").context("chdir to the new /")
}
// ANCHOR_END: enter_rootfs

// ANCHOR: set_up_rootfs
/// Everything the container needs under `rootfs`, mounted while the
/// host's tree is still there to mount from.
fn set_up_rootfs(rootfs: &Path, run: &Run) -> Result<()> {
    // pivot_root wants a mount point; a bind mount onto itself makes one.
    bind_mount(rootfs, rootfs, false)?;
    mount_proc(&rootfs.join("proc"))?;
    mount_sysfs(&rootfs.join("sys"))?;
    let tmpfs_flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    mount_tmpfs(&rootfs.join("tmp"), tmpfs_flags, "mode=1777")?;
    mount_tmpfs(&rootfs.join("run"), tmpfs_flags, "mode=755")?;
    mount_dev(&rootfs.join("dev"))?;
    // An OCI bundle's tmpfs mounts, before the binds, which may go into
    // one (a tmpfs on /etc still gets the /etc files), as the bundle
    // lists them.
    for tmpfs in &run.config.tmpfs {
        let target = mount_point(rootfs, &tmpfs.container, true)?;
        mount_tmpfs(&target, tmpfs.flags, &with_its_mode(&target, &tmpfs.data)?)?;
    }
    for name in conf::FILES {
        let target = mount_point(rootfs, &Path::new("/etc").join(name), false)?;
        bind_mount(&run.container_dir.join(name), &target, true)?;
    }
    for volume in &run.config.volumes {
        let is_dir = fs::metadata(&volume.host).is_ok_and(|m| m.is_dir());
        let target = mount_point(rootfs, &volume.container, is_dir)?;
        bind_mount(&volume.host, &target, volume.read_only)?;
    }
    // Last, once every mount point in it exists: from here on nothing
    // can be created in the rootfs. The mounts on it keep their own flags.
    if run.config.read_only_root {
        remount_read_only(rootfs)?;
    }
    Ok(())
}
// ANCHOR_END: set_up_rootfs

// ANCHOR: mount_dev
/// The devices a program expects, bind-mounted from the host one by one.
/// Not the host's devtmpfs, which holds every device of the machine.
const DEVICES: [&str; 6] = ["null", "zero", "full", "random", "urandom", "tty"];

/// A small `/dev` of the container's own: a tmpfs with [`DEVICES`], a new
/// devpts instance for terminals, `/dev/shm` and `/dev/mqueue`.
fn mount_dev(dev: &Path) -> Result<()> {
    let no_devices = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mount_tmpfs(dev, no_devices, "mode=755,size=64k")?;
    for name in DEVICES {
        let node = dev.join(name);
        fs::File::create(&node).with_context(|| format!("create {}", node.display()))?;
        bind_mount(&Path::new("/dev").join(name), &node, false)?;
    }
    for dir in ["pts", "shm", "mqueue"] {
        fs::create_dir(dev.join(dir)).with_context(|| format!("create /dev/{dir}"))?;
    }
    // `newinstance`: terminals of the container's own, numbered from 0;
    // `ptmxmode`: anyone may open pts/ptmx to get a new one.
    mount(
        Some("devpts"),
        &dev.join("pts"),
        Some("devpts"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=0620"),
    )
    .context("mount devpts on /dev/pts")?;
    mount_tmpfs(&dev.join("shm"), no_devices, "mode=1777")?;
    mount(
        Some("mqueue"),
        &dev.join("mqueue"),
        Some("mqueue"),
        no_devices,
        None::<&str>,
    )
    .context("mount mqueue on /dev/mqueue")?;
    for (link, target) in [
        ("ptmx", "pts/ptmx"),
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        symlink(target, dev.join(link)).with_context(|| format!("link /dev/{link}"))?;
    }
    Ok(())
}
// ANCHOR_END: mount_dev

// ANCHOR: helpers
/// A safety net while `clone_flags` is unfinished: in the runtime's (the
/// host's) mount namespace, every mount below would land on the host, and
/// `pivot_root` would move the root of every process of the host. `/proc`
/// is still the host's here, so it knows the runtime by its host PID.
fn refuse_the_hosts_mount_namespace(runtime: Pid) -> Result<()> {
    let namespace = |pid: String| fs::read_link(format!("/proc/{pid}/ns/mnt")).ok();
    let runtime = namespace(runtime.to_string());
    if namespace("self".into()).is_some_and(|ours| runtime == Some(ours)) {
        return Err(Error::new(
            "the container is in the host's mount namespace; nothing was mounted",
        )
        .fix("return CloneFlags::CLONE_NEWNS from clone_flags"));
    }
    Ok(())
}

/// A read-only `sysfs`. In a user namespace that does not own the network
/// namespace (lesson 05, before lesson 06), the kernel refuses a new one;
/// then do what rootless runtimes do, and bind the host's, read-only.
fn mount_sysfs(target: &Path) -> Result<()> {
    let flags = MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    match mount(Some("sysfs"), target, Some("sysfs"), flags, None::<&str>) {
        Err(Errno::EPERM) => bind_mount(Path::new("/sys"), target, true),
        mounted => mounted.with_context(|| format!("mount sysfs on {}", target.display())),
    }
}

fn mount_tmpfs(target: &Path, flags: MsFlags, options: &str) -> Result<()> {
    mount(Some("tmpfs"), target, Some("tmpfs"), flags, Some(options))
        .with_context(|| format!("mount a tmpfs on {}", target.display()))
}

/// A tmpfs's options `data` with a `mode=`: the one given, or else the
/// mode of the directory it covers, as runc keeps it (a bare tmpfs would
/// be 1777, writable by everyone).
fn with_its_mode(target: &Path, data: &str) -> Result<String> {
    if data.split(',').any(|option| option.starts_with("mode=")) {
        return Ok(data.to_string());
    }
    let mode = fs::metadata(target)
        .with_context(|| format!("read the mode of {}", target.display()))?
        .permissions()
        .mode()
        & 0o7777;
    let mode = format!("mode={mode:o}");
    Ok(if data.is_empty() {
        mode
    } else {
        format!("{data},{mode}")
    })
}

/// Where the container path `path` is under `rootfs` (see
/// `resolve_in_root`: symlinks in the image cannot lead out), created as
/// an empty directory or file if it is missing, to mount on.
fn mount_point(rootfs: &Path, path: &Path, is_dir: bool) -> Result<PathBuf> {
    let target = resolve_in_root(rootfs, path).map_err(Error::new)?;
    let created = if target.exists() {
        Ok(())
    } else if is_dir {
        fs::create_dir_all(&target)
    } else {
        target
            .parent()
            .map_or(Ok(()), fs::create_dir_all)
            .and_then(|()| fs::File::create(&target).map(drop))
    };
    created.with_context(|| format!("create the mount point {}", target.display()))?;
    Ok(target)
}

/// `relatime` as `statvfs` reports it. The kernel reports it whatever the
/// C library, but the libc crate names it for glibc only, and the
/// benchmarks build against musl.
const ST_RELATIME: FsFlags = FsFlags::from_bits_retain(0x1000);

/// The flags of the mount at `target` that a remount must keep: in a
/// user namespace (lesson 05) the kernel refuses to drop `nosuid`,
/// `nodev`, `noexec` or an atime flag that the host set.
fn flags_to_keep(target: &Path) -> Result<MsFlags> {
    let flags = statvfs(target)
        .with_context(|| format!("read the mount flags of {}", target.display()))?
        .flags();
    let kept = [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (ST_RELATIME, MsFlags::MS_RELATIME),
    ];
    Ok(kept
        .into_iter()
        .filter(|(st, _)| flags.contains(*st))
        .fold(MsFlags::empty(), |all, (_, ms)| all | ms))
}
// ANCHOR_END: helpers
