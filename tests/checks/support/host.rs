//! The host guard: every privileged check snapshots the host before it
//! starts and compares when it ends. Any difference fails the check, even
//! if everything else passed: a container that leaks a mount, a queue, a
//! link, a hostname change or a cgroup onto the host is a broken
//! container.
//!
//! Checks that change the host on purpose (creating a host IPC queue, a
//! bridge) are `#[file_serial(host)]`; every other privileged check is
//! `#[file_parallel(host)]`, so no guard ever sees another check's work,
//! even across test processes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use nslab_runtime::{leftovers, netns, network, registry, state};

use super::cgroup;
use super::run::NOBODY;

/// Where the runtime keeps its state when user `uid` runs it: for root
/// `/run/nslab`; for anyone else as the checks run them (without
/// `XDG_RUNTIME_DIR`, with `TMPDIR=/tmp`), `/tmp/nslab-UID`.
pub fn state_root(uid: u32) -> PathBuf {
    if uid == 0 {
        PathBuf::from(state::ROOT_STATE_DIR)
    } else {
        PathBuf::from(format!("/tmp/nslab-{uid}"))
    }
}

/// The guard's name for the runtime's state directory.
const STATE_DIRECTORY: &str = "the runtime's state directory";
/// The same for the runtime run by `nobody` (lesson 05's checks); its name
/// starts with the other's, so that the same rule applies to it.
const NOBODYS_STATE_DIRECTORY: &str = "the runtime's state directory for nobody";
/// Lesson 08: the containers' cgroups, `nslab/<runtime PID>` in any tree.
const CGROUPS: &str = "cgroups under nslab (in any cgroup tree)";

pub struct HostGuard {
    before: BTreeMap<&'static str, String>,
    /// What the check did, when it compares before it ends (`end`).
    after: Option<String>,
}

impl HostGuard {
    /// Require root and a host with no leftovers of earlier runs (which
    /// correct code might remove, and be blamed for), and take the
    /// "before" snapshot.
    pub fn begin() -> HostGuard {
        super::require_root();
        if let Err(refusal) = leftovers::refuse_if_any() {
            panic!("{refusal}");
        }
        HostGuard {
            before: snapshot(),
            after: None,
        }
    }

    /// Compare now, naming what was done since `begin` in the failure:
    /// for checks that try many things, one guard each.
    pub fn end(mut self, after: impl Into<String>) {
        self.after = Some(after.into());
    }
}

impl Drop for HostGuard {
    fn drop(&mut self) {
        let after = snapshot();
        let changes: Vec<String> = self
            .before
            .iter()
            .filter(|(what, before)| changed(what, before, &after[*what]))
            .map(|(what, before)| describe_change(what, before, &after[what]))
            .collect();
        if changes.is_empty() {
            return;
        }
        restore_names(&self.before);
        let when = self
            .after
            .as_ref()
            .map(|what| format!(" after {what}"))
            .unwrap_or_default();
        let message = format!(
            "the host was changed{when} and not restored; a container must leave the host as it \
             found it (the guard has put back the hostname and domain name, nothing else):\n{}{}",
            changes.join("\n"),
            what_releases(&changes.join("\n"))
        );
        if std::thread::panicking() {
            // The check already failed; say this too, without aborting.
            eprintln!("{message}");
        } else {
            panic!("{message}");
        }
    }
}

/// For leftovers that a hook's `cleanup` releases, which: a forgotten
/// release is the classic mistake, and the list of changes alone does not
/// say whose job it was.
fn what_releases(changes: &str) -> String {
    let mut said = String::new();
    for (sign, release) in [
        (
            "/names/",
            "a container's name is still registered: `cleanup` must unregister it (`registry::unregister`)",
        ),
        (
            "/run/netns",
            "a kept network namespace is still there: `cleanup` must release it (`netns::release`)",
        ),
        (
            network::BRIDGE,
            "the bridge network is still there: `cleanup` must release it (`network::release`)",
        ),
    ] {
        if changes.contains(sign) {
            said.push('\n');
            said.push_str(release);
        }
    }
    said
}

/// Whether `what` differs in a way that counts. In the state directory
/// and among the cgroups only what appeared counts: a leftover of a runtime killed long ago (in
/// an earlier boot even, as `/run` need not be a tmpfs) may vanish while a
/// check runs, when a new runtime is given the dead one's PID and so its
/// directory. Tidying up is never a leak.
fn changed(what: &str, before: &str, after: &str) -> bool {
    if what.starts_with(STATE_DIRECTORY) || what == CGROUPS {
        let before: Vec<&str> = before.lines().collect();
        after.lines().any(|line| !before.contains(&line))
    } else {
        before != after
    }
}

/// A learner's bug can rename the host (sethostname outside a new UTS
/// namespace). That is cheap to undo, and a VM with the wrong name is
/// confusing, so the guard puts the names back after reporting it.
fn restore_names(before: &BTreeMap<&'static str, String>) {
    for (what, file) in [
        ("hostname", "/proc/sys/kernel/hostname"),
        ("domainname", "/proc/sys/kernel/domainname"),
    ] {
        if read(file) != before[what] {
            let _ = std::fs::write(file, before[what].trim_end());
        }
    }
}

fn describe_change(what: &str, before: &str, after: &str) -> String {
    let before_lines: Vec<&str> = before.lines().collect();
    let after_lines: Vec<&str> = after.lines().collect();
    let mut out = format!("  {what}:");
    for line in before_lines.iter().filter(|l| !after_lines.contains(l)) {
        out.push_str(&format!("\n    - {line}"));
    }
    for line in after_lines.iter().filter(|l| !before_lines.contains(l)) {
        out.push_str(&format!("\n    + {line}"));
    }
    out
}

/// Everything the guard compares, by name.
fn snapshot() -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("hostname", read("/proc/sys/kernel/hostname")),
        ("domainname", read("/proc/sys/kernel/domainname")),
        ("mounts", mounts()),
        ("System V IPC objects", ipc_objects()),
        ("network links", links()),
        ("network addresses", addresses()),
        (
            "routes",
            tool("ip", &["-4", "route", "show", "table", "all"]),
        ),
        (
            "named network namespaces (/run/netns)",
            list_dir(Path::new("/run/netns")),
        ),
        ("firewall rules", firewall()),
        ("IPv4 forwarding", read("/proc/sys/net/ipv4/ip_forward")),
        (STATE_DIRECTORY, state_dir(0)),
        (NOBODYS_STATE_DIRECTORY, state_dir(NOBODY.uid)),
        (CGROUPS, cgroup::nslab_cgroups()),
    ])
}

/// The host's mount table, but for two mounts of a directory on itself
/// that their tools make once and keep: `/run/netns` (like `ip netns add`,
/// the first `--keep-net` of lesson 07 makes it a shared mount point; the
/// names mounted below it still count), and podman's overlay store (its
/// storage driver binds it on first use and lets go of it at its own
/// pace; lesson 11's checks run podman). Any other mount counts.
fn mounts() -> String {
    const PODMAN_STORE: &str = "/var/lib/containers/storage/overlay";
    read("/proc/self/mountinfo")
        .lines()
        .filter(|line| {
            let target = line.split(' ').nth(4);
            target != Some(netns::RUN_DIR) && target != Some(PODMAN_STORE)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| format!("<cannot read {path}: {e}>"))
}

/// The key and id of every queue, segment and semaphore set. Other
/// columns (attach counts, times) change on their own.
fn ipc_objects() -> String {
    ["msg", "shm", "sem"]
        .iter()
        .flat_map(|kind| {
            read(&format!("/proc/sysvipc/{kind}"))
                .lines()
                .skip(1)
                .map(|line| {
                    let fields: Vec<&str> = line.split_whitespace().take(2).collect();
                    format!(
                        "{kind} key={} id={}",
                        fields[0],
                        fields.get(1).unwrap_or(&"?")
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Each link's name and the bridge it is attached to, if any.
fn links() -> String {
    tool("ip", &["-o", "link", "show"])
        .lines()
        .map(|line| {
            let name = line.split(": ").nth(1).unwrap_or(line);
            let master = line
                .split_whitespace()
                .skip_while(|word| *word != "master")
                .nth(1);
            match master {
                Some(bridge) => format!("{name} master {bridge}"),
                None => name.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Each address and the link it is on, without lifetimes that tick.
fn addresses() -> String {
    tool("ip", &["-o", "addr", "show"])
        .lines()
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            words.get(1..4).map(|w| w.join(" ")).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The whole ruleset, without packet counters.
fn firewall() -> String {
    let rules = if Path::new("/usr/sbin/nft").exists() {
        tool("nft", &["list", "ruleset"])
    } else {
        tool("iptables-save", &[])
    };
    rules
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| match line.find("counter packets") {
            Some(at) => &line[..at],
            None => line,
        })
        .map(|line| line.split(" [").next().unwrap_or(line).trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}

/// What is in the state directory of user `uid`'s runtimes, but for the
/// directories and names (lesson 07) of runtimes still running (other
/// checks' containers, which remove theirs when they end) and the empty
/// `containers` directory the first run makes. What a runtime leaves
/// behind when it ends shows.
fn state_dir(uid: u32) -> String {
    let root = state_root(uid);
    let containers = root.join(state::CONTAINERS);
    let names = root.join(registry::NAMES);
    list_dir(&root)
        .lines()
        .filter(|entry| {
            if Path::new(entry) == names {
                return false;
            }
            if let Ok(name) = Path::new(entry).strip_prefix(&names) {
                let runtime = std::fs::read_link(names.join(name))
                    .ok()
                    .and_then(|target| state::owner(&target));
                return !runtime.is_some_and(state::runtime_is_alive);
            }
            let Ok(below) = Path::new(entry).strip_prefix(&containers) else {
                return true;
            };
            let owner = below.components().next().map(|c| Path::new(c.as_os_str()));
            // Listed a moment ago; a runtime may have removed it and
            // ended since. Once its runtime is gone, nobody removes it.
            owner.is_some_and(|dir| !state::owner(dir).is_some_and(state::runtime_is_alive))
                && Path::new(entry).exists()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn list_dir(path: &Path) -> String {
    let mut entries = Vec::new();
    let mut pending = vec![path.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in read.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                pending.push(path.clone());
            }
            entries.push(path.display().to_string());
        }
    }
    entries.sort();
    entries.join("\n")
}

fn tool(program: &str, args: &[&str]) -> String {
    match Command::new(program).args(args).output() {
        Ok(output) => String::from_utf8_lossy(&output.stdout).into_owned(),
        Err(e) => format!("<cannot run {program}: {e}>"),
    }
}
