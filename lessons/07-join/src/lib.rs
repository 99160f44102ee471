//! Lesson 07: join.
//!
//! A namespace is not only something a process is born into: any process
//! may join an existing one with `setns(2)`, given a file descriptor that
//! names it, and `/proc/PID/ns/KIND` names each namespace of every
//! process. That is all `docker exec` and `nsenter` do. This lesson adds
//! no namespace: it registers a running container under its `--name`,
//! runs a command inside it (`exec`), and with `--keep-net` names its
//! network namespace for `ip netns exec`.

use std::fs::{self, File};
use std::path::Path;

use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, setns};
use nix::sys::stat::fstat;
use nix::unistd::{
    ForkResult, Gid, Pid, Uid, chroot, fchdir, fork, setgroups, setresgid, setresuid,
};
use nslab_runtime::join::{KINDS, exec_or_exit};
use nslab_runtime::{
    Config, Context, Ending, Entry, Errno, Error, Join, Namespace, Process, Result, Run, netns,
    registry,
};

pub struct JoinNamespaces;

// ANCHOR: lifecycle
impl Namespace for JoinNamespaces {
    /// A name already running, or a network namespace name already taken,
    /// is refused before anything exists.
    fn validate(&self, run: &Run) -> Result<()> {
        if let Some(name) = &run.config.name {
            registry::refuse_if_taken(&run.state_root, name)?;
        }
        if let Some(name) = &run.config.keep_net {
            netns::refuse_if_taken(name)?;
        }
        Ok(())
    }

    /// Joining needs no namespace of its own.
    fn clone_flags(&self) -> CloneFlags {
        CloneFlags::empty()
    }

    /// The child exists and waits: register it under its name, and keep
    /// its network namespace under /run/netns.
    fn in_parent(&self, run: &Run, child: Pid) -> Result<()> {
        if let Some(name) = &run.config.name {
            let entry = Entry {
                name: name.clone(),
                pid: child,
                start_time: registry::start_time(child)?,
                runtime: run.runtime_pid,
                created: registry::now(),
                hostname: run.config.hostname.clone(),
                rootfs: run.config.rootfs.clone(),
                command: run.config.command.clone(),
                cap_add: run.config.cap_add.clone(),
                cap_drop: run.config.cap_drop.clone(),
                seccomp: run.config.seccomp.clone(),
            };
            registry::register(&run.state_root, &run.container_dir, &entry)?;
        }
        if let Some(name) = &run.config.keep_net {
            netns::prepare_run_dir()?;
            let target = netns::claim(&run.container_dir, name)?;
            keep_namespace(child, "net", &target)?;
        }
        Ok(())
    }

    /// The container has ended: its name is free, and the network
    /// namespace name is released (the namespace itself goes with it).
    fn cleanup(&self, run: &Run, _child: Pid) -> Result<()> {
        if let Some(name) = &run.config.name {
            registry::unregister(&run.state_root, name, run.runtime_pid)?;
        }
        netns::release(&run.container_dir).map(drop)
    }
}
// ANCHOR_END: lifecycle

// ANCHOR: keep_namespace
/// Keep the namespace of kind `kind` of process `pid` alive, and give it a
/// name: bind-mount its `/proc/PID/ns/KIND` file on `target`, an empty
/// file. The mount holds the namespace as an open descriptor would, for as
/// long as it stays mounted, whatever becomes of the process.
fn keep_namespace(pid: Pid, kind: &str, target: &Path) -> Result<()> {
    // Book: chapter 07, "Exercise: keep_namespace". The namespace `kind` of
    // process `pid` must outlive that process, and be found at `target` (for
    // --keep-net): a namespace lives on while something still holds it.
    todo!("keep the namespace alive at target")
}
// ANCHOR_END: keep_namespace

// ANCHOR: exec
impl Join for JoinNamespaces {
    fn exec(&self, container: &Entry, command: &Config, process: &dyn Process) -> Result<u8> {
        // Everything under /proc/PID first: in the container's mount
        // namespace, /proc is the container's, where PID is another
        // process, or none.
        let namespaces = open_namespaces(container.pid)?;
        let place = Place::open(container.pid)?;
        let user = Credentials::of(container.pid)?;
        enter_namespaces(namespaces)?;
        enter_root(&place)?;
        user.assume()?;
        run_in_container(process, command)
    }
}
// ANCHOR_END: exec

// ANCHOR: namespace_file
/// One namespace of the container, open: the descriptor `setns` takes.
pub struct NamespaceFile {
    /// Its name in `/proc/PID/ns`, e.g. `uts`.
    pub kind: &'static str,
    /// The `CLONE_NEW*` flag that names its kind for `setns`.
    pub flag: CloneFlags,
    pub file: File,
}

/// Whether two open namespace files name the same namespace: the same
/// inode on the same (nsfs) device, which is what `readlink` shows as
/// `uts:[4026531838]`.
fn same_namespace(a: &File, b: &File) -> Result<bool> {
    let (a, b) = (
        fstat(a).context("fstat a namespace")?,
        fstat(b).context("fstat a namespace")?,
    );
    Ok(a.st_dev == b.st_dev && a.st_ino == b.st_ino)
}
// ANCHOR_END: namespace_file

// ANCHOR: open_namespaces
/// Open every namespace of process `pid` that is not already ours.
fn open_namespaces(pid: Pid) -> Result<Vec<NamespaceFile>> {
    // Book: chapter 07, "Exercise: open_namespaces". Every namespace of the
    // container that is not ours already must be opened now, before we enter
    // any: once we are inside one, the paths may lead elsewhere. One that is
    // the same as ours is left out, since joining your own user namespace is
    // refused.
    todo!("open the container's namespaces")
}
// ANCHOR_END: open_namespaces

// ANCHOR: enter_namespaces
/// `setns` into each namespace. The user namespace comes first if joining
/// it is what gives us privilege (we are not root: we own the container's
/// user namespace, and need its capabilities to join the others), last if
/// we are root (joining it first would trade root's capabilities for the
/// container's, which are enough only for what that user namespace owns).
fn enter_namespaces(namespaces: Vec<NamespaceFile>) -> Result<()> {
    // Book: chapter 07, "Exercise: enter_namespaces". We must end up in every
    // namespace we opened. The user namespace's place matters: without root,
    // entering it first gives us the capabilities to enter the others; as root,
    // entering it first would trade root's capabilities for the container's,
    // which reach only what that user namespace owns.
    todo!("enter each namespace, in the right order")
}
// ANCHOR_END: enter_namespaces

// ANCHOR: place
/// The container's root and working directory, open: opened before we
/// enter its mount namespace, they lead into it when we get there.
pub struct Place {
    root: File,
    cwd: File,
}

impl Place {
    fn open(pid: Pid) -> Result<Place> {
        let open = |what: &str| {
            let path = format!("/proc/{pid}/{what}");
            File::open(&path).with_context(|| format!("open {path}"))
        };
        Ok(Place {
            root: open("root")?,
            cwd: open("cwd")?,
        })
    }
}
// ANCHOR_END: place

// ANCHOR: enter_root
/// Make the container's root our root, and its working directory ours,
/// as `nsenter --root --wd` does.
fn enter_root(place: &Place) -> Result<()> {
    // Book: chapter 07, "Exercise: enter_root". Our root and working directory
    // must become the container's, through the directories opened before we
    // entered its mount namespace: paths now resolve somewhere else.
    todo!("enter the container's root and working directory")
}
// ANCHOR_END: enter_root

// ANCHOR: credentials
/// Whom the container's first process runs as, in its user namespace.
struct Credentials {
    uid: u32,
    gid: u32,
}

impl Credentials {
    /// The host reads the container's ids as host ids (`Uid:` in
    /// `/proc/PID/status`); the maps turn them into the container's.
    fn of(pid: Pid) -> Result<Credentials> {
        let read = |file: &str| {
            let path = format!("/proc/{pid}/{file}");
            fs::read_to_string(&path).with_context(|| format!("read {path}"))
        };
        let status = read("status")?;
        let host_id = |field: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(field))
                .and_then(|ids| ids.split_whitespace().nth(1))
                .and_then(|effective| effective.parse::<u32>().ok())
                .ok_or_else(|| Error::new(format!("/proc/{pid}/status has no {field} line")))
        };
        Ok(Credentials {
            uid: inside(&read("uid_map")?, host_id("Uid:")?),
            gid: inside(&read("gid_map")?, host_id("Gid:")?),
        })
    }

    /// Become them: no supplementary groups (refused where `setgroups` is
    /// denied, and then there are none to drop), the group, the user.
    fn assume(&self) -> Result<()> {
        match setgroups(&[]) {
            Ok(()) | Err(Errno::EPERM) => {}
            Err(e) => return Err(Error::new("drop supplementary groups").because(e)),
        }
        let gid = Gid::from_raw(self.gid);
        setresgid(gid, gid, gid).context("take the container's group id")?;
        let uid = Uid::from_raw(self.uid);
        setresuid(uid, uid, uid).context("take the container's user id")
    }
}

/// The id `host_id` of the host is inside the namespace of `map` (lines
/// `inside outside count`, read from the host); unmapped ids stay as
/// they are.
fn inside(map: &str, host_id: u32) -> u32 {
    map.lines()
        .filter_map(|line| {
            let fields: Vec<u64> = line
                .split_whitespace()
                .filter_map(|field| field.parse().ok())
                .collect();
            match fields[..] {
                [inside, outside, count] => Some((inside, outside, count)),
                _ => None,
            }
        })
        .find(|&(_, outside, count)| (outside..outside + count).contains(&u64::from(host_id)))
        .map_or(host_id, |(inside, outside, _)| {
            (inside + (u64::from(host_id) - outside)) as u32
        })
}
// ANCHOR_END: credentials

// ANCHOR: run_in_container
/// Run the command as a child, which `fork` puts in the container's PID
/// namespace (`setns` moved only our future children there), wait for it,
/// and return the status it earns.
fn run_in_container(process: &dyn Process, command: &Config) -> Result<u8> {
    // Book: chapter 07, "Exercise: run_in_container". The command must run in a
    // new child, because an entered PID namespace applies only to the children
    // made afterwards; we wait for it and return the status lesson 00's rules
    // give.
    todo!("run the command in a child, and report how it ended")
}
// ANCHOR_END: run_in_container

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_translated_by_the_map_that_covers_them() {
        let map = "0 100000 65536\n";
        assert_eq!(inside(map, 100000), 0);
        assert_eq!(inside(map, 101000), 1000);
        assert_eq!(inside("0 65534 1\n", 65534), 0);
        assert_eq!(inside("0 0 4294967295\n", 1000), 1000);
        assert_eq!(inside(map, 5), 5);
    }
}
