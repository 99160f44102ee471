//! Lesson 05: user.
//!
//! A user namespace has user and group ids of its own, and capabilities of
//! its own. Its ids are a window onto the host's: two maps, `uid_map` and
//! `gid_map`, written once by the parent, say which host id each id
//! inside is. A normal user may create one, map their own id to 0 in it,
//! and be root there, with every capability, over what the namespace owns:
//! the container's hostname, mounts and processes, created together with
//! it. Over everything of the host's, they are still themselves.

use std::fs;

use nix::unistd::{Gid, Pid, Uid, chown, getegid, geteuid, getgid, getuid};
use nix::unistd::{setgroups, setresgid, setresuid};
use nslab_runtime::transcript;
use nslab_runtime::{CloneFlags, Config, Context, Error, IdMap, Namespace, Result, Run};

/// The most lines a map may have: 340 since Linux 4.15, 5 before.
pub const MAX_MAP_LINES: usize = 340;

pub struct UserNamespace;

impl Namespace for UserNamespace {
    // ANCHOR: validate
    /// Refuse maps the kernel would refuse, before anything exists. The
    /// default maps (your own ids, as 0 inside) are always allowed.
    fn validate(&self, run: &Run) -> Result<()> {
        for ids in Ids::BOTH {
            let given = ids.given(&run.config);
            if !given.is_empty() {
                check_maps(ids, given, Writer::this_process(ids))?;
            }
        }
        Ok(())
    }
    // ANCHOR_END: validate

    // ANCHOR: clone_flags
    /// Given, so that even the untouched exercise runs the articles' first
    /// experiment: a user namespace that nobody has written maps for.
    fn clone_flags(&self) -> CloneFlags {
        CloneFlags::CLONE_NEWUSER
    }
    // ANCHOR_END: clone_flags

    // ANCHOR: in_parent
    /// On the host, while the child waits for "go": its maps, then its
    /// state directory for its root.
    fn in_parent(&self, run: &Run, child: Pid) -> Result<()> {
        write_maps(&run.config, child)?;
        transcript::parent(format_args!(
            "wrote uid_map {} and gid_map {}",
            describe(&maps(Ids::User, &run.config)),
            describe(&maps(Ids::Group, &run.config))
        ));
        hand_over_the_state_directory(run)
    }
    // ANCHOR_END: in_parent

    // ANCHOR: first_in_child
    /// In the child, before every other lesson's `in_child`: become the
    /// namespace's root, if the maps gave it one.
    fn first_in_child(&self, _run: &Run) -> Result<()> {
        if maps_a_root()? {
            become_root()?;
            transcript::container(format_args!("root of the user namespace"));
        } else {
            transcript::container(format_args!(
                "no root in the user namespace: uid {}, gid {} (65534 is the overflow id)",
                getuid(),
                getgid()
            ));
        }
        Ok(())
    }
    // ANCHOR_END: first_in_child
}

// ANCHOR: ids
/// User ids or group ids: the two maps follow the same rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ids {
    User,
    Group,
}

impl Ids {
    pub const BOTH: [Ids; 2] = [Ids::User, Ids::Group];

    /// The flag that gives these maps, for messages.
    pub fn flag(self) -> &'static str {
        match self {
            Ids::User => "--uid-map",
            Ids::Group => "--gid-map",
        }
    }

    /// "uid" or "gid", for messages.
    pub fn name(self) -> &'static str {
        match self {
            Ids::User => "uid",
            Ids::Group => "gid",
        }
    }

    /// The map's file in `/proc/PID/`.
    pub fn map_file(self) -> &'static str {
        match self {
            Ids::User => "uid_map",
            Ids::Group => "gid_map",
        }
    }

    /// The maps given on the command line (none: the default).
    pub fn given(self, config: &Config) -> &[IdMap] {
        match self {
            Ids::User => &config.uid_maps,
            Ids::Group => &config.gid_maps,
        }
    }

    /// Our own effective id of this kind, in our user namespace: the one
    /// that will be the new namespace's parent.
    pub fn own(self) -> u32 {
        match self {
            Ids::User => geteuid().as_raw(),
            Ids::Group => getegid().as_raw(),
        }
    }

    /// The capability that lets a process map any ids of this kind.
    fn capability(self) -> Capability {
        match self {
            Ids::User => Capability::SETUID,
            Ids::Group => Capability::SETGID,
        }
    }
}

/// What the kernel looks at when a process writes a map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Writer {
    /// The writer's own effective uid (or gid).
    pub own_id: u32,
    /// Whether it has `CAP_SETUID` (`CAP_SETGID`) in its user namespace,
    /// the new namespace's parent: then it may map any ids.
    pub may_map_any: bool,
}

impl Writer {
    /// This process, the runtime, which writes the maps.
    pub fn this_process(ids: Ids) -> Writer {
        Writer {
            own_id: ids.own(),
            may_map_any: ids.capability().is_effective(),
        }
    }
}
// ANCHOR_END: ids

// ANCHOR: check_maps
/// Refuse `maps` if the kernel would refuse them from `writer`: more
/// lines than it takes, two lines that overlap inside or outside, or,
/// unless the writer may map any ids, anything but its own id, once.
pub fn check_maps(ids: Ids, maps: &[IdMap], writer: Writer) -> Result<()> {
    let flag = ids.flag();
    if maps.len() > MAX_MAP_LINES {
        return Err(Error::new(format!(
            "{} {flag} lines: the kernel takes at most {MAX_MAP_LINES}",
            maps.len()
        ))
        .fix("join neighbouring ranges into one line"));
    }
    for (at, first) in maps.iter().enumerate() {
        for second in &maps[at + 1..] {
            let side = if overlap((first.inside, first.count), (second.inside, second.count)) {
                "inside"
            } else if overlap((first.outside, first.count), (second.outside, second.count)) {
                "outside"
            } else {
                continue;
            };
            return Err(Error::new(format!(
                "{flag} {} and {flag} {} overlap {side}",
                as_flag(first),
                as_flag(second)
            ))
            .fix("give every id one mapping: ranges may touch, not overlap"));
        }
    }
    let own_id_once = matches!(maps, [only] if only.outside == writer.own_id && only.count == 1);
    if !writer.may_map_any && !own_id_once {
        let (name, own) = (ids.name(), writer.own_id);
        let capability = match ids {
            Ids::User => "CAP_SETUID",
            Ids::Group => "CAP_SETGID",
        };
        // What decides is the capability, not the id: root without it is
        // refused too, and "run as root" would be no help to root.
        let or_else = if own == 0 {
            format!(
                "or run as a root that has {capability} (see CapEff in /proc/self/status; \
                 was it dropped from the bounding set?)"
            )
        } else {
            format!(
                "or run as root; for ranges without root, rootless runtimes use new{name}map \
                 from the uidmap package and /etc/sub{name}"
            )
        };
        return Err(Error::new(format!(
            "{flag} {}: without {capability}, as {name} {own}, you may map only your own \
             {name}, {own}, and one id (the kernel refuses anything else with EPERM)",
            maps.iter().map(as_flag).collect::<Vec<_>>().join(" ")
        ))
        .fix(format!("map 0:{own}:1 (the default), {or_else}")));
    }
    Ok(())
}
// ANCHOR_END: check_maps

// ANCHOR: maps
/// The maps for `ids`: those given on the command line, or by default one
/// line that makes our own id 0 inside.
pub fn maps(ids: Ids, config: &Config) -> Vec<IdMap> {
    match ids.given(config) {
        [] => vec![IdMap {
            inside: 0,
            outside: ids.own(),
            count: 1,
        }],
        given => given.to_vec(),
    }
}
// ANCHOR_END: maps

// ANCHOR: write_maps
/// Write the child's two maps. A writer that may not map any group must
/// first deny `setgroups` in the namespace, or the kernel refuses its
/// `gid_map` (since Linux 3.19).
fn write_maps(config: &Config, child: Pid) -> Result<()> {
    if !Writer::this_process(Ids::Group).may_map_any {
        let setgroups = format!("/proc/{child}/setgroups");
        fs::write(&setgroups, "deny").with_context(|| format!("write deny to {setgroups}"))?;
    }
    for ids in Ids::BOTH {
        write_map(child, ids, &maps(ids, config))?;
    }
    Ok(())
}
// ANCHOR_END: write_maps

// ANCHOR: write_map
/// Write `maps` into the child's map file for `ids`, one
/// `inside outside count` line each, all in a single `write`: the kernel
/// takes one write per map file, ever.
fn write_map(child: Pid, ids: Ids, maps: &[IdMap]) -> Result<()> {
    let path = format!("/proc/{child}/{}", ids.map_file());
    let lines: String = maps.iter().map(|map| format!("{map}\n")).collect();
    fs::write(&path, lines)
        .with_context(|| format!("write {path}"))
        .map_err(|e| e.fix("see chapter 05, \"Who may write a map\""))
}
// ANCHOR_END: write_map

// ANCHOR: become_root
/// Become uid 0 and gid 0 of the user namespace, with no supplementary
/// groups of the host's where the kernel lets us drop them. Groups first:
/// a process that has given up uid 0 may no longer change them.
fn become_root() -> Result<()> {
    let (uid, gid) = (Uid::from_raw(0), Gid::from_raw(0));
    setresgid(gid, gid, gid).context("become gid 0 in the user namespace (setresgid)")?;
    let setgroups_allowed = fs::read_to_string("/proc/self/setgroups")
        .context("read /proc/self/setgroups")?
        .trim()
        == "allow";
    if setgroups_allowed {
        setgroups(&[]).context("drop the host's supplementary groups (setgroups)")?;
    }
    setresuid(uid, uid, uid).context("become uid 0 in the user namespace (setresuid)")
}
// ANCHOR_END: become_root

// ANCHOR: helpers
/// Whether the maps give this namespace a root, uid 0 and gid 0. Without
/// maps (the untouched exercise) every id here is the overflow id, 65534,
/// and there is no root to become.
fn maps_a_root() -> Result<bool> {
    let maps_zero = |file: &str| -> Result<bool> {
        let map = fs::read_to_string(format!("/proc/self/{file}"))
            .with_context(|| format!("read /proc/self/{file}"))?;
        Ok(map
            .lines()
            .any(|line| line.split_whitespace().next() == Some("0")))
    };
    Ok(maps_zero("uid_map")? && maps_zero("gid_map")?)
}

/// Lesson 04's `/etc` files are in the container's state directory, which
/// belongs to us. If the container's root is someone else on the host
/// (root with `--uid-map 0:100000:65536`), it could not reach them once it
/// has become that root: the directory becomes its.
fn hand_over_the_state_directory(run: &Run) -> Result<()> {
    let root_outside = |ids: Ids| {
        maps(ids, &run.config)
            .iter()
            .find(|map| map.inside == 0)
            .map(|map| map.outside)
    };
    let (Some(uid), Some(gid)) = (root_outside(Ids::User), root_outside(Ids::Group)) else {
        return Ok(());
    };
    if (uid, gid) == (Ids::User.own(), Ids::Group.own()) {
        return Ok(());
    }
    let dir = &run.container_dir;
    chown(dir, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)))
        .with_context(|| format!("give {} to the container's root", dir.display()))
}

/// Whether two ranges of ids, each `(start, count)`, have an id in common.
fn overlap(first: (u32, u32), second: (u32, u32)) -> bool {
    let end = |(start, count): (u32, u32)| u64::from(start) + u64::from(count);
    u64::from(first.0) < end(second) && u64::from(second.0) < end(first)
}

/// A map as it is written on the command line, `IN:OUT:LEN`.
fn as_flag(map: &IdMap) -> String {
    format!("{}:{}:{}", map.inside, map.outside, map.count)
}

/// A map for the transcript: its lines, or how many there are.
fn describe(maps: &[IdMap]) -> String {
    match maps {
        [_, _, _, _, ..] => format!("({} lines)", maps.len()),
        _ => maps
            .iter()
            .map(IdMap::to_string)
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// A capability, by its number in `<linux/capability.h>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Capability(u32);

impl Capability {
    const SETGID: Capability = Capability(6);
    const SETUID: Capability = Capability(7);

    /// Whether this process has it in its effective set, in its own user
    /// namespace (`CapEff` in `/proc/self/status`).
    fn is_effective(self) -> bool {
        fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|status| {
                let hex = status
                    .lines()
                    .find_map(|line| line.strip_prefix("CapEff:"))?;
                u64::from_str_radix(hex.trim(), 16).ok()
            })
            .is_some_and(|effective| effective & (1 << self.0) != 0)
    }
}
// ANCHOR_END: helpers
