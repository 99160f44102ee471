//! Lesson 07: the tools that work on running containers, and the
//! contract for entering one.
//!
//! * `ps` lists the named containers that run ([`crate::registry`]), and
//!   from lesson 08 on their limits ([`crate::cgroup`]);
//! * `ns NAME` shows each of a container's namespaces beside the host's,
//!   like `ls -l /proc/PID/ns` or `lsns`;
//! * `exec NAME -- CMD` runs a command inside a running container: the
//!   core finds the container, the lesson's [`Join`] enters it, and the
//!   core forwards SIGTERM, SIGINT, SIGHUP (every signal the runtime
//!   forwards) to the command while the lesson waits for it.

use std::ffi::CString;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sched::{CloneCb, CloneFlags};
use nix::sys::wait::WaitStatus;
use nix::unistd::Pid;

use crate::cgroup;
use crate::cli::Tool;
use crate::command::become_the_command;
use crate::config::Config;
use crate::error::{Context, Error, Result};
use crate::namespace::Namespace;
use crate::panics::lesson_code;
use crate::process::{Ending, Process};
use crate::registry::{self, Entry, Missing};
use crate::signals::{self, Forwarding};
use crate::transcript;

// ANCHOR: kinds
/// Every kind of namespace, by its file name in `/proc/PID/ns`, with the
/// flag `setns(2)` takes for it, in alphabetical order (as `ls` shows
/// them).
pub const KINDS: [(&str, CloneFlags); 8] = [
    ("cgroup", CloneFlags::CLONE_NEWCGROUP),
    ("ipc", CloneFlags::CLONE_NEWIPC),
    ("mnt", CloneFlags::CLONE_NEWNS),
    ("net", CloneFlags::CLONE_NEWNET),
    ("pid", CloneFlags::CLONE_NEWPID),
    ("time", crate::sys::CLONE_NEWTIME),
    ("user", CloneFlags::CLONE_NEWUSER),
    ("uts", CloneFlags::CLONE_NEWUTS),
];
// ANCHOR_END: kinds

// ANCHOR: join
/// What lesson 07 implements: how to run a command inside a running
/// container.
pub trait Join: Sync {
    /// Run `command` (its `argv()` and clean `environment()`) inside the
    /// running `container`: in each of its namespaces, at its root and
    /// working directory, as its user. Returns the exit status the command
    /// earns, by lesson 00's rules (`process`).
    fn exec(&self, container: &Entry, command: &Config, process: &dyn Process) -> Result<u8>;
}
// ANCHOR_END: join

/// Run `tool` on the containers under `state_root` and return the exit
/// status it earns: `exec` with lesson 07's `join` (none before lesson
/// 07) and lesson 00's `process`, and every lesson's `in_joined` hook
/// (`namespaces`) run in the process it starts. With `cgroups` (lesson 08
/// on), `ps` shows each container's limits and `exec` joins its cgroup.
pub fn run_tool(
    tool: Tool,
    state_root: &Path,
    join: Option<&dyn Join>,
    process: &dyn Process,
    cgroups: bool,
    namespaces: &[&'static dyn Namespace],
) -> Result<u8> {
    match tool {
        Tool::Ps => {
            let limits = cgroups.then_some(|entry: &Entry| cgroup::limits_of(entry.runtime));
            print(&ps(&registry::running(state_root), registry::now(), limits));
            Ok(0)
        }
        Tool::Ns { name } => {
            let container = find(state_root, &name)?;
            print(&ns(container.pid)?);
            Ok(0)
        }
        Tool::Exec { name, command } => {
            let container = find(state_root, &name)?;
            let command = Config {
                quiet: true,
                hostname: container.hostname.clone(),
                command,
                cap_add: container.cap_add.clone(),
                cap_drop: container.cap_drop.clone(),
                seccomp: container.seccomp.clone(),
                ..Config::default()
            };
            let join = join.ok_or_else(|| {
                Error::new("this binary has no `exec`").fix("use lesson-07 or later")
            })?;
            exec_in(&container, &command, join, process, cgroups, namespaces)
        }
    }
}

/// Run `command` in the running `container` with lesson 07's `join` and
/// return the status it earns: in the container's cgroup first (lesson 08
/// on, with `cgroups`), locked like the container by every lesson's
/// `in_joined` (lesson 10), with signals to us forwarded to it. `exec
/// NAME` and lesson 11's OCI `exec` both come here.
pub fn exec_in(
    container: &Entry,
    command: &Config,
    join: &dyn Join,
    process: &dyn Process,
    cgroups: bool,
    namespaces: &[&'static dyn Namespace],
) -> Result<u8> {
    // Into the container's cgroup, before anything of the command exists.
    if cgroups && nix::unistd::geteuid().is_root() {
        cgroup::enter(container.runtime)?;
    }
    // `kill <exec>` or Ctrl-C reaches the command, as with the runtime
    // itself: the lesson's `exec` forks the command and waits for it with
    // `process`, which forwards while it waits; and the command is locked
    // like the container (`in_joined`).
    let forwarding = Forwarding::prepare()?;
    let forwarded = Forwarded {
        process,
        forwarding: &forwarding,
    };
    let process = Joined {
        process: &forwarded,
        namespaces,
        command,
    };
    let status = lesson_code(|| join.exec(container, command, &process));
    forwarding.stop();
    status
}

/// Lesson 00's `process`, for the command `exec` runs: the forwarded
/// signals, blocked since before the fork, are let in while the command is
/// waited for and sent on to it; the command itself execs with them as
/// they were.
struct Forwarded<'a> {
    process: &'a dyn Process,
    forwarding: &'a Forwarding,
}

impl Process for Forwarded<'_> {
    fn spawn(&self, flags: CloneFlags, child_main: CloneCb<'_>) -> nix::Result<Pid> {
        self.process.spawn(flags, child_main)
    }

    fn exec(&self, command: &[CString], env: &[CString]) -> Errno {
        signals::reset_in_child(&self.forwarding.mask_before());
        self.process.exec(command, env)
    }

    fn wait(&self, child: Pid) -> nix::Result<WaitStatus> {
        self.forwarding.start(Some(child));
        let waited = self.process.wait(child);
        self.forwarding.stop();
        waited
    }

    fn exit_status(&self, ending: Ending) -> u8 {
        self.process.exit_status(ending)
    }
}

/// How long `exec` and `ns` wait for a container that is still starting:
/// its command may print "ready" a moment before the runtime has seen it
/// start and marked it ready.
const STARTING_GRACE: Duration = Duration::from_secs(5);

fn find(state_root: &Path, name: &str) -> Result<Entry> {
    let deadline = Instant::now() + STARTING_GRACE;
    loop {
        match registry::find(state_root, name) {
            Ok(entry) => return Ok(entry),
            Err(Missing::Starting(_)) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(missing) => return Err(registry::not_running(name, &missing)),
        }
    }
}

fn print(text: &str) {
    // A closed pipe (`ps | head -1`) is not the runtime's failure.
    let _ = std::io::stdout().write_all(text.as_bytes());
}

/// The table `ps` prints: one running container a line; with `limits`,
/// what each may use (`memory 64m, pids 100, cpus 0.5`, or `-`).
pub fn ps(containers: &[Entry], now: u64, limits: Option<impl Fn(&Entry) -> String>) -> String {
    let limits_column = |text: &str| match &limits {
        Some(_) => format!("{text:<31} "),
        None => String::new(),
    };
    let mut table = format!(
        "{:<20} {:>8} {:>6}  {}COMMAND\n",
        "NAME",
        "PID",
        "AGE",
        limits_column("LIMITS")
    );
    for container in containers {
        let shown = limits.as_ref().map(|of| of(container)).unwrap_or_default();
        table.push_str(&format!(
            "{:<20} {:>8} {:>6}  {}{}\n",
            container.name,
            container.pid,
            age(now.saturating_sub(container.created)),
            limits_column(&shown),
            container.command.join(" ")
        ));
    }
    table
}

/// `59s`, `12m`, `5h`, `3d`: like `docker ps`, only the largest unit.
fn age(seconds: u64) -> String {
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m", seconds / 60),
        3600..86400 => format!("{}h", seconds / 3600),
        _ => format!("{}d", seconds / 86400),
    }
}

// ANCHOR: ns
/// The table `ns` prints: for each kind, the namespace of process `pid`
/// beside this process's (the host's), as `readlink /proc/PID/ns/KIND`
/// names them: `uts:[4026532301]`, the kind and the inode number.
pub fn ns(pid: Pid) -> Result<String> {
    let mut table = format!("{:<7} {:<20} {:<20} SAME\n", "KIND", "CONTAINER", "HOST");
    for (kind, _) in KINDS {
        let container = namespace_of(&pid.to_string(), kind)?;
        let host = namespace_of("self", kind)?;
        let shared = if container == host { "shared" } else { "own" };
        table.push_str(&format!("{kind:<7} {container:<20} {host:<20} {shared}\n"));
    }
    Ok(table)
}

/// `readlink /proc/PROCESS/ns/KIND`.
fn namespace_of(process: &str, kind: &str) -> Result<String> {
    let link = format!("/proc/{process}/ns/{kind}");
    std::fs::read_link(&link)
        .map(|target| target.to_string_lossy().into_owned())
        .with_context(|| format!("readlink {link}"))
}
// ANCHOR_END: ns

/// For the lesson's `exec`, in the forked child inside the container:
/// become the command, or print why not on stderr (one line, as the
/// runtime prints its errors) and exit with the status that earns (126,
/// 127: lesson 00's rules).
pub fn exec_or_exit(process: &dyn Process, command: &Config) -> ! {
    exit_with(become_the_command(process, command))
}

/// Lesson 00's `Process` as `exec` hands it to lesson 07, with one
/// addition: just before the command replaces the forked child, every
/// lesson's `in_joined` runs there (lesson 10 hardens it like the
/// container), so lesson 07's code needs to know nothing of it.
struct Joined<'a> {
    process: &'a dyn Process,
    namespaces: &'a [&'static dyn Namespace],
    command: &'a Config,
}

impl Process for Joined<'_> {
    fn spawn(&self, flags: CloneFlags, child_main: CloneCb<'_>) -> nix::Result<Pid> {
        self.process.spawn(flags, child_main)
    }

    fn exec(&self, command: &[CString], env: &[CString]) -> Errno {
        for namespace in self.namespaces {
            if let Err(error) = lesson_code(|| namespace.in_joined(self.command)) {
                exit_with(error);
            }
        }
        self.process.exec(command, env)
    }

    fn wait(&self, child: Pid) -> nix::Result<WaitStatus> {
        self.process.wait(child)
    }

    fn exit_status(&self, ending: Ending) -> u8 {
        self.process.exit_status(ending)
    }
}

/// In a forked child of `exec`: print why it cannot go on (one line, as
/// the runtime prints its errors) and exit with the status that earns.
fn exit_with(error: Error) -> ! {
    transcript::notice(format_args!("{error}"));
    // SAFETY: _exit(2) ends the process at once; this is a forked copy
    // of the runtime, whose exit handlers and buffers belong to the
    // original.
    unsafe { libc::_exit(error.status().into()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_use_the_largest_unit() {
        assert_eq!(age(0), "0s");
        assert_eq!(age(59), "59s");
        assert_eq!(age(60), "1m");
        assert_eq!(age(7200), "2h");
        assert_eq!(age(200_000), "2d");
    }

    #[test]
    fn ns_of_ourselves_shares_every_namespace() {
        let table = ns(Pid::this()).unwrap();
        let rows: Vec<&str> = table.lines().skip(1).collect();
        assert_eq!(rows.len(), KINDS.len());
        assert!(rows.iter().all(|row| row.ends_with("shared")), "{table}");
    }

    #[test]
    fn ps_lists_name_pid_age_and_command() {
        let entry = Entry {
            name: "web".into(),
            pid: Pid::from_raw(4242),
            start_time: 1,
            runtime: Pid::from_raw(4241),
            created: 100,
            hostname: "box".into(),
            rootfs: None,
            command: vec!["sleep".into(), "30".into()],
            cap_add: Vec::new(),
            cap_drop: Vec::new(),
            seccomp: None,
        };
        let no_limits: Option<fn(&Entry) -> String> = None;
        let table = ps(std::slice::from_ref(&entry), 190, no_limits);
        let words = |table: &str, line: usize| -> Vec<String> {
            let line = table.lines().nth(line).unwrap();
            line.split_whitespace().map(str::to_string).collect()
        };
        assert_eq!(words(&table, 1), ["web", "4242", "1m", "sleep", "30"]);
        let table = ps(
            &[entry],
            190,
            Some(|_: &Entry| "memory 64m, pids 100".to_string()),
        );
        assert_eq!(
            words(&table, 0),
            ["NAME", "PID", "AGE", "LIMITS", "COMMAND"]
        );
        assert_eq!(
            words(&table, 1),
            [
                "web", "4242", "1m", "memory", "64m,", "pids", "100", "sleep", "30"
            ]
        );
    }
}
