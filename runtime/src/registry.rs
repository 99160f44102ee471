//! Lesson 07: the registry of named containers, so that `ps`, `ns` and
//! `exec` find a running container by its name.
//!
//! ```text
//! <state dir>/
//!   containers/4242/undo/name   the entry: who the container is (see Entry)
//!   names/web -> ../containers/4242
//! ```
//!
//! The name is a symbolic link to the container's directory, made with
//! `symlink(2)`, which fails if the name exists: two runtimes asked for the
//! same name cannot both get it. The entry is the name's undo record in
//! the container's directory, written before the name is claimed and
//! removed after the name is released ([`NameUndo`]), so `just clean` finds
//! it however the run went.
//!
//! A name is claimed while the container is still being set up (so that
//! two runtimes cannot both get it), but the container counts as running
//! only once its command has started: the core then writes `ready` in its
//! directory ([`mark_ready`]). Until then `exec` would enter a half-built
//! container (no root filesystem yet, no network), so it is refused as
//! "starting".
//!
//! An entry is never trusted. A runtime killed by SIGKILL leaves its name
//! behind, and its PIDs are reused sooner or later: an entry counts only
//! while its runtime lives and the process with its PID started at the
//! recorded time (field 22 of `/proc/PID/stat`). Anything else is stale,
//! and removed when seen.

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use nix::unistd::Pid;

use crate::error::{Context, Error, Result};
use crate::state::{self, Tidy, Undo};

/// The directory of names, under the state directory.
pub const NAMES: &str = "names";

/// The entry's kind of undo record, in the container's directory.
pub const ENTRY: &str = "name";

/// The file in a container's directory that says its command has
/// started: set up, and ready for `exec`.
pub const READY: &str = "ready";

/// The core, once the container's command has started: it may be entered.
pub fn mark_ready(container_dir: &Path) -> Result<()> {
    let path = container_dir.join(READY);
    fs::write(&path, "").with_context(|| format!("write {}", path.display()))
}

/// What the registry knows about a running container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    /// The container's first process (its PID 1), as the host numbers it.
    pub pid: Pid,
    /// When `pid` started, in clock ticks after boot: PID and start time
    /// name one process for good, even once the PID is reused.
    pub start_time: u64,
    /// The runtime that started it, and removes the entry when it ends.
    pub runtime: Pid,
    /// Seconds since the epoch when the container started.
    pub created: u64,
    pub hostname: String,
    pub rootfs: Option<PathBuf>,
    pub command: Vec<String>,
    /// Lesson 10's flags as the container was started with them, so that
    /// `exec` hardens what it starts the same way.
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub seccomp: Option<String>,
}

/// When process `pid` started, in clock ticks after boot: field 22 of
/// `/proc/PID/stat`. The command name (field 2) is in parentheses and may
/// hold spaces and parentheses itself, so fields are counted from the last
/// `)`.
pub fn start_time(pid: Pid) -> Result<u64> {
    let path = format!("/proc/{pid}/stat");
    let stat = fs::read_to_string(&path).with_context(|| format!("read {path}"))?;
    stat.rsplit_once(')')
        .and_then(|(_, after_name)| after_name.split_whitespace().nth(19))
        .and_then(|field| field.parse().ok())
        .ok_or_else(|| Error::new(format!("{path} has no start time (field 22)")))
}

/// Seconds since the epoch, now.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

impl Entry {
    /// Whether the container this entry describes still runs: its runtime
    /// lives, and its PID is still the process that was recorded.
    pub fn is_running(&self) -> bool {
        state::runtime_is_alive(self.runtime.as_raw())
            && start_time(self.pid).is_ok_and(|started| started == self.start_time)
    }

    fn to_text(&self) -> String {
        let mut text = format!(
            "name={}\npid={}\nstart_time={}\nruntime={}\ncreated={}\nhostname={}\n",
            self.name, self.pid, self.start_time, self.runtime, self.created, self.hostname
        );
        if let Some(rootfs) = &self.rootfs {
            text.push_str(&format!("rootfs={}\n", escape(&rootfs.to_string_lossy())));
        }
        for arg in &self.command {
            text.push_str(&format!("arg={}\n", escape(arg)));
        }
        for (key, names) in [("cap_add", &self.cap_add), ("cap_drop", &self.cap_drop)] {
            for name in names {
                text.push_str(&format!("{key}={}\n", escape(name)));
            }
        }
        if let Some(seccomp) = &self.seccomp {
            text.push_str(&format!("seccomp={}\n", escape(seccomp)));
        }
        text
    }

    fn from_text(text: &str) -> Option<Entry> {
        let mut entry = Entry {
            name: String::new(),
            pid: Pid::from_raw(0),
            start_time: 0,
            runtime: Pid::from_raw(0),
            created: 0,
            hostname: String::new(),
            rootfs: None,
            command: Vec::new(),
            cap_add: Vec::new(),
            cap_drop: Vec::new(),
            seccomp: None,
        };
        for line in text.lines() {
            let (key, value) = line.split_once('=')?;
            match key {
                "name" => entry.name = value.to_string(),
                "pid" => entry.pid = Pid::from_raw(value.parse().ok()?),
                "start_time" => entry.start_time = value.parse().ok()?,
                "runtime" => entry.runtime = Pid::from_raw(value.parse().ok()?),
                "created" => entry.created = value.parse().ok()?,
                "hostname" => entry.hostname = value.to_string(),
                "rootfs" => entry.rootfs = Some(PathBuf::from(unescape(value))),
                "arg" => entry.command.push(unescape(value)),
                "cap_add" => entry.cap_add.push(unescape(value)),
                "cap_drop" => entry.cap_drop.push(unescape(value)),
                "seccomp" => entry.seccomp = Some(unescape(value)),
                _ => {}
            }
        }
        (entry.pid.as_raw() > 0 && entry.runtime.as_raw() > 0).then_some(entry)
    }
}

/// One value per line: a newline or a backslash in a path or an argument
/// is written as `\n` or `\\`.
fn escape(value: &str) -> String {
    value.replace('\\', r"\\").replace('\n', r"\n")
}

fn unescape(value: &str) -> String {
    let mut out = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// The name's link, `<state_root>/names/NAME`.
pub fn name_path(state_root: &Path, name: &str) -> PathBuf {
    state_root.join(NAMES).join(name)
}

/// Why a name cannot be used to reach a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// No container was ever registered under it (or it ended cleanly).
    Unknown,
    /// Registered, and still being set up: its command has not started,
    /// so it must not be entered yet.
    Starting(Entry),
    /// An entry was there, left by a runtime that did not end cleanly;
    /// it has been removed. Says why it was stale.
    Stale(String),
}

/// The running container registered as `name` under `state_root`. A
/// stale entry is removed, and reported as such.
#[allow(
    clippy::result_large_err,
    reason = "a still-starting entry is as large as a running one, and read once per tool call"
)]
pub fn find(state_root: &Path, name: &str) -> std::result::Result<Entry, Missing> {
    let link = name_path(state_root, name);
    let Ok(target) = fs::read_link(&link) else {
        return Err(Missing::Unknown);
    };
    let why = match look_up(state_root, &link, &target) {
        Ok(entry) if is_ready(&link, &target) => return Ok(entry),
        Ok(entry) => return Err(Missing::Starting(entry)),
        Err(why) => why,
    };
    remove_link_if(&link, &target);
    Err(Missing::Stale(why))
}

/// The running container the name `link`, pointing at `target`, reaches;
/// or why it is stale.
fn look_up(state_root: &Path, link: &Path, target: &Path) -> std::result::Result<Entry, String> {
    let dir = link.parent().unwrap_or(state_root).join(target);
    let entry = state::read_record(&dir, ENTRY).and_then(|text| Entry::from_text(&text));
    match entry {
        None => Err(format!("its runtime's directory {} is gone", dir.display())),
        Some(entry) if !state::runtime_is_alive(entry.runtime.as_raw()) => {
            Err(format!("its runtime (pid {}) is gone", entry.runtime))
        }
        Some(entry) if !entry.is_running() => Err(format!(
            "pid {} is no longer the process that was registered",
            entry.pid
        )),
        Some(entry) => Ok(entry),
    }
}

/// Remove `link` if it still points at `target`: another runtime may have
/// taken the name since we read it. The last name out removes `names`
/// (it fails while others remain), so that no trace stays on the host.
/// Whether the container the name `link` points at has been marked ready.
fn is_ready(link: &Path, target: &Path) -> bool {
    let dir = link.parent().unwrap_or(link).join(target);
    dir.join(READY).exists()
}

fn remove_link_if(link: &Path, target: &Path) {
    if fs::read_link(link).is_ok_and(|now| now == target) {
        let _ = fs::remove_file(link);
        if let Some(names) = link.parent() {
            let _ = fs::remove_dir(names);
        }
    }
}

/// The error for a name that reaches no running container.
pub fn not_running(name: &str, missing: &Missing) -> Error {
    let what = match missing {
        Missing::Unknown => format!("container {name:?} is not running"),
        Missing::Starting(entry) => {
            return Error::new(format!(
                "container {name:?} is still starting (pid {}): its command has not started yet",
                entry.pid
            ))
            .fix("try again in a moment");
        }
        Missing::Stale(why) => {
            format!("container {name:?} is not running: its stale entry was removed ({why})")
        }
    };
    Error::new(what).fix("start one with --name, or see the running ones with `ps`")
}

/// Refuse `name` if a running container has it; a stale entry for it is
/// removed. For `validate`: nothing exists yet.
pub fn refuse_if_taken(state_root: &Path, name: &str) -> Result<()> {
    match find(state_root, name) {
        Ok(entry) | Err(Missing::Starting(entry)) => Err(taken(name, &entry)),
        Err(_) => Ok(()),
    }
}

fn taken(name: &str, entry: &Entry) -> Error {
    Error::new(format!(
        "--name {name}: a container of that name is already running (pid {})",
        entry.pid
    ))
    .fix("choose another --name, or stop that container first")
}

/// Register `entry` under `state_root`: write it into its runtime's
/// container directory `container_dir`, then claim the name. A stale entry
/// holding the name is replaced; a running container's is not.
pub fn register(state_root: &Path, container_dir: &Path, entry: &Entry) -> Result<()> {
    let what = || format!("register the container as {:?}", entry.name);
    state::write_record(container_dir, ENTRY, &entry.to_text())?;
    let names = state_root.join(NAMES);
    let link = name_path(state_root, &entry.name);
    let target = Path::new("..")
        .join(state::CONTAINERS)
        .join(entry.runtime.to_string());
    // A few times at most: again after a stale entry was removed, or
    // after the last other container removed `names` in between.
    for _ in 0..3 {
        fs::create_dir_all(&names).with_context(what)?;
        match symlink(&target, &link) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                if let Ok(running) | Err(Missing::Starting(running)) = find(state_root, &entry.name)
                {
                    return Err(taken(&entry.name, &running));
                }
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(Error::new(what()).because(e)),
        }
    }
    Err(Error::new(what()).because("the name was taken again while we replaced a stale entry"))
}

/// Remove the name of the container whose runtime is `runtime`, at the
/// end of its run, then its entry (the record of the name).
pub fn unregister(state_root: &Path, name: &str, runtime: Pid) -> Result<()> {
    let link = name_path(state_root, name);
    let ours = Path::new("..")
        .join(state::CONTAINERS)
        .join(runtime.to_string());
    remove_link_if(&link, &ours);
    state::remove_record(&state::container_dir_of(state_root, runtime), ENTRY)
}

/// The undo of a name, for `just clean`: release the name the entry
/// records; and, with no entry left, names whose container is not running.
pub struct NameUndo;

impl Undo for NameUndo {
    fn kind(&self) -> &'static str {
        ENTRY
    }

    fn released_by(&self) -> &'static str {
        "registry::unregister"
    }

    fn undo(&self, state_root: &Path, dir: &Path) -> Result<Vec<String>> {
        let entry = state::read_record(dir, ENTRY).and_then(|text| Entry::from_text(&text));
        let Some(entry) = entry else {
            state::remove_record(dir, ENTRY)?;
            return Ok(Vec::new());
        };
        let link = name_path(state_root, &entry.name);
        let held = fs::symlink_metadata(&link).is_ok();
        unregister(state_root, &entry.name, entry.runtime)?;
        let gone = fs::symlink_metadata(&link).is_err();
        Ok((held && gone)
            .then(|| format!("released the name {}", link.display()))
            .into_iter()
            .collect())
    }

    fn sweep(&self, state_root: &Path, tidy: Tidy) -> Result<Vec<String>> {
        Ok(match tidy {
            Tidy::Remove => clean(state_root),
            Tidy::Look => stale_names(state_root)
                .into_iter()
                .map(|(link, why)| format!("the stale name {} ({why})", link.display()))
                .collect(),
        })
    }
}

/// The names under `state_root` whose container is not running, and why.
fn stale_names(state_root: &Path) -> Vec<(PathBuf, String)> {
    let Ok(names) = fs::read_dir(state_root.join(NAMES)) else {
        return Vec::new();
    };
    names
        .flatten()
        .filter_map(|link| {
            let target = fs::read_link(link.path()).ok()?;
            let why = look_up(state_root, &link.path(), &target).err()?;
            Some((link.path(), why))
        })
        .collect()
}

/// Every running container under `state_root`, by name; stale entries are
/// removed on the way.
pub fn running(state_root: &Path) -> Vec<Entry> {
    let Ok(names) = fs::read_dir(state_root.join(NAMES)) else {
        return Vec::new();
    };
    let mut found: Vec<Entry> = names
        .flatten()
        .filter_map(|link| find(state_root, &link.file_name().to_string_lossy()).ok())
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

/// `just clean`'s part: remove every name whose container is not running,
/// and say which.
pub fn clean(state_root: &Path) -> Vec<String> {
    let Ok(names) = fs::read_dir(state_root.join(NAMES)) else {
        return Vec::new();
    };
    names
        .flatten()
        .filter_map(|link| {
            let name = link.file_name().to_string_lossy().into_owned();
            match find(state_root, &name) {
                Err(Missing::Stale(why)) => Some(format!(
                    "removed the stale name {} ({why})",
                    link.path().display()
                )),
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scratch::Scratch;

    fn entry_for(name: &str, runtime: Pid, pid: Pid) -> Entry {
        Entry {
            name: name.into(),
            pid,
            start_time: start_time(pid).unwrap(),
            runtime,
            created: now(),
            hostname: "box".into(),
            rootfs: Some(PathBuf::from("/srv/root\nfs")),
            command: vec!["sh".into(), "-c".into(), r"echo a\b".into()],
            cap_add: vec!["SYS_TIME".into()],
            cap_drop: vec!["ALL".into()],
            seccomp: Some("unconfined".into()),
        }
    }

    /// Registered, and its command started.
    fn registered(root: &Path, entry: &Entry) -> Result<()> {
        let dir = state::container_dir_of(root, entry.runtime);
        state::create_container_dir(&dir)?;
        register(root, &dir, entry)?;
        mark_ready(&dir)
    }

    #[test]
    fn a_container_still_starting_is_not_found_but_holds_its_name() {
        let root = Scratch::new("registry-starting");
        let root = &root.0;
        let entry = entry_for("web", Pid::this(), Pid::this());
        let dir = state::container_dir_of(root, entry.runtime);
        state::create_container_dir(&dir).unwrap();
        register(root, &dir, &entry).unwrap();
        assert_eq!(find(root, "web"), Err(Missing::Starting(entry.clone())));
        let refused = not_running("web", &find(root, "web").unwrap_err()).to_string();
        assert!(refused.contains("still starting"), "{refused}");
        assert!(refuse_if_taken(root, "web").is_err());
        assert!(running(root).is_empty());
        mark_ready(&dir).unwrap();
        assert_eq!(find(root, "web"), Ok(entry));
    }

    #[test]
    fn the_start_time_is_field_22_even_with_a_strange_command_name() {
        let mine = start_time(Pid::this()).unwrap();
        assert!(mine > 0);
        assert_eq!(start_time(Pid::this()).unwrap(), mine);
        assert!(start_time(Pid::from_raw(4_194_305)).is_err());
    }

    #[test]
    fn an_entry_reads_back_as_written() {
        let entry = entry_for("web", Pid::this(), Pid::this());
        assert_eq!(Entry::from_text(&entry.to_text()), Some(entry));
    }

    #[test]
    fn a_running_container_is_found_and_its_name_cannot_be_taken() {
        let root = Scratch::new("registry-live");
        let entry = entry_for("web", Pid::this(), Pid::this());
        registered(&root.0, &entry).unwrap();
        assert_eq!(find(&root.0, "web"), Ok(entry.clone()));
        assert_eq!(running(&root.0), std::slice::from_ref(&entry));
        let again = registered(&root.0, &entry_for("web", Pid::this(), Pid::this()));
        assert!(again.unwrap_err().to_string().contains("already running"));
        assert!(refuse_if_taken(&root.0, "web").is_err());
        assert_eq!(clean(&root.0), Vec::<String>::new());
        unregister(&root.0, "web", Pid::this()).unwrap();
        assert_eq!(find(&root.0, "web"), Err(Missing::Unknown));
    }

    #[test]
    fn a_dead_runtime_or_a_reused_pid_makes_an_entry_stale() {
        let root = Scratch::new("registry-stale");
        // A runtime PID above the kernel's limit is never alive.
        let dead = entry_for("dead", Pid::from_raw(4_194_305), Pid::this());
        registered(&root.0, &dead).unwrap();
        let mut reused = entry_for("reused", Pid::this(), Pid::this());
        reused.start_time += 1;
        registered(&root.0, &reused).unwrap();
        assert!(matches!(find(&root.0, "dead"), Err(Missing::Stale(why)) if why.contains("gone")));
        assert!(
            matches!(find(&root.0, "reused"), Err(Missing::Stale(why)) if why.contains("no longer"))
        );
        // Removed when seen: the second look finds nothing.
        assert_eq!(find(&root.0, "dead"), Err(Missing::Unknown));
        assert!(running(&root.0).is_empty());
        // A stale name is free for a new container.
        registered(&root.0, &entry_for("reused", Pid::this(), Pid::this())).unwrap();
        assert!(find(&root.0, "reused").is_ok());
    }

    #[test]
    fn clean_removes_names_whose_directory_is_gone() {
        let root = Scratch::new("registry-clean");
        let entry = entry_for("gone", Pid::from_raw(4_194_305), Pid::this());
        registered(&root.0, &entry).unwrap();
        state::remove_container_dir(&state::container_dir_of(&root.0, entry.runtime)).unwrap();
        let removed = clean(&root.0);
        assert_eq!(removed.len(), 1, "{removed:?}");
        assert!(!name_path(&root.0, "gone").exists());
    }
}
