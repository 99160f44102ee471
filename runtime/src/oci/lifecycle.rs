//! Lesson 11: the OCI commands, each one process of its own, meeting in
//! the container's directory under `--root` ([`crate::oci::state`]).
//!
//! ```text
//!   create ──► created ── start ──► running ── (the process ends) ──► stopped
//!     │  the process exists,          the FIFO is read,                 │
//!     │  paused at its exec FIFO      the process execs          delete ┘
//!     └─ kill / delete --force at any point: the process is killed
//! ```

use std::fs;
use std::io::{ErrorKind, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use nix::mount::MsFlags;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, Pid, fork};
use oci_spec::runtime::ContainerState;

use crate::config::Config;
use crate::container::{self, Parts};
use crate::course::{LESSONS, Part};
use crate::error::{Context, Error, Result};
use crate::join;
use crate::namespace::Namespace;
use crate::oci::bundle;
use crate::oci::cli::Command;
use crate::oci::contract::{Oci, Operation, Plan, Seen};
use crate::oci::inside::EXEC_FIFO;
use crate::oci::seccomp;
use crate::oci::state::{self, Record};
use crate::panics::lesson_code;
use crate::registry::{self, Entry};
use crate::run::Run;
use crate::state as host_state;
use crate::state::Undo;

/// Run one OCI command with the containers under `root`; the status the
/// command earns (the container's own status is the engine's business).
pub fn run(parts: &Parts, root: &Path, command: Command, undo: &[&dyn Undo]) -> Result<u8> {
    let oci = parts
        .oci
        .ok_or_else(|| Error::new("this binary has no OCI commands").fix("use lesson 11"))?;
    match command {
        Command::Create {
            id,
            bundle,
            pid_file,
        } => create(parts, oci, root, &id, &bundle, pid_file.as_deref(), undo),
        Command::Start { id } => start(oci, root, &id),
        Command::State { id } => {
            let (dir, record) = state::find(root, &id)?;
            let status = oci.status(&state::seen(&dir, &record));
            println!("{}", state::to_json(&record, status));
            Ok(0)
        }
        Command::Kill { id, signal } => signal_container(oci, root, &id, &signal),
        Command::Delete { id, force } => delete(oci, root, &id, force, undo),
        Command::Exec {
            id,
            process,
            detach,
            pid_file,
        } => exec(parts, oci, root, &id, &process, detach, pid_file.as_deref()),
        Command::Features => {
            println!("{}", features());
            Ok(0)
        }
        Command::Plan { bundle } => {
            let spec = bundle::load(&bundle)?;
            let plan = lesson_code(|| oci.plan(&spec, &bundle))?;
            print!("{}", describe_plan(&plan));
            Ok(0)
        }
        Command::LifeCycle => {
            print!("{}", describe_life_cycle(oci)?);
            Ok(0)
        }
    }
}

/// Container `id` under `root`, with the status the lesson reads off the
/// host, if the lesson allows `operation` in that status.
fn find_for(
    oci: &dyn Oci,
    root: &Path,
    id: &str,
    operation: Operation,
) -> Result<(PathBuf, Record, ContainerState)> {
    let (dir, record) = state::find(root, id)?;
    let status = lesson_code(|| Ok(oci.status(&state::seen(&dir, &record))))?;
    lesson_code(|| oci.allow(operation, status)).map_err(|e| e.about(format!("container {id}")))?;
    Ok((dir, record, status))
}

fn create(
    parts: &Parts,
    oci: &dyn Oci,
    root: &Path,
    id: &str,
    bundle: &Path,
    pid_file: Option<&Path>,
    undo: &[&dyn Undo],
) -> Result<u8> {
    state::check_id(id)?;
    let bundle = fs::canonicalize(bundle)
        .with_context(|| format!("find the bundle {}", bundle.display()))?;
    let spec = bundle::load(&bundle)?;
    let mut plan = lesson_code(|| oci.plan(&spec, &bundle))?;
    // The transcript would reach the engine's log.
    plan.config.quiet = true;
    let made: Vec<&str> = LESSONS
        .iter()
        .take(usize::from(parts.binary.level) + 1)
        .filter_map(|lesson| lesson.namespace)
        .collect();
    bundle::refuse_namespaces_not_made(&plan.create, &made)?;
    if let Some(process) = &plan.config.oci {
        let mut namespaces: Vec<&str> = plan.create.iter().map(String::as_str).collect();
        namespaces.extend(process.join.iter().map(|(kind, _)| kind.as_str()));
        bundle::refuse_host_sysctls(&process.sysctl, &namespaces)?;
    }
    // Compiled here, so that a profile we cannot honour fails `create`
    // before anything exists; installed by the container just before exec.
    if let (Some(profile), Some(process)) = (&plan.seccomp, plan.config.oci.as_mut()) {
        process.seccomp = seccomp::compile(profile)?;
    }
    // The directory is the claim on the ID: mkdir fails if it is taken.
    fs::create_dir_all(root)
        .with_context(|| format!("create the state root {}", root.display()))?;
    let dir = state::dir(root, id);
    fs::create_dir(&dir).map_err(|error| match error.kind() {
        ErrorKind::AlreadyExists => Error::new(format!("container {id} already exists"))
            .fix("pick another ID, or `delete` the old one first"),
        _ => Error::new(format!("create {}", dir.display())).because(error),
    })?;
    let selected = Parts {
        binary: parts.binary,
        process: parts.process,
        namespaces: namespaces_for(parts, &plan),
        join: parts.join,
        oci: parts.oci,
    };
    let run = Run::at(plan.config, root.to_path_buf(), Pid::this(), dir.clone());
    let mut record = Record {
        id: id.to_string(),
        pid: 0,
        runtime: Pid::this().as_raw(),
        start_time: 0,
        bundle: bundle.clone(),
        created: false,
        created_at: registry::now(),
        hostname: run.config.hostname.clone(),
        annotations: spec.annotations().clone().unwrap_or_default(),
    };
    let remember = |pid: Pid| -> Result<()> {
        let mut record = record.clone();
        record.pid = pid.as_raw();
        record.start_time = registry::start_time(pid)?;
        record.write(&dir)
    };
    let child = match container::create(&selected, &run, undo, &remember) {
        Ok(child) => child,
        Err(error) => {
            let _ = fs::remove_dir_all(&dir);
            let _ = fs::remove_dir(root);
            return Err(error);
        }
    };
    record.pid = child.as_raw();
    record.start_time = registry::start_time(child)?;
    record.created = true;
    record.write(&dir)?;
    if let Some(pid_file) = pid_file {
        fs::write(pid_file, child.to_string())
            .with_context(|| format!("write the pid file {}", pid_file.display()))?;
    }
    Ok(0)
}

/// The lessons whose namespace the bundle asks to create (lesson 05's
/// user namespace only with `user`, lesson 06's network only with a new
/// `network`), and every lesson that adds no namespace of its own. Lesson
/// 08 also comes when the bundle sets limits without asking for a cgroup
/// namespace (podman on cgroup v1): the limits are its, and its namespace
/// comes with them (a difference from runc the chapter shows).
fn namespaces_for(parts: &Parts, plan: &Plan) -> Vec<&'static dyn Namespace> {
    let mut create = plan.create.clone();
    if !plan.config.limits.is_empty() {
        create.push("cgroup".to_string());
    }
    let lessons = LESSONS
        .iter()
        .filter(|lesson| lesson.adds.contains(&Part::Namespace));
    lessons
        .zip(&parts.namespaces)
        .filter(|(lesson, _)| {
            lesson
                .namespace
                .is_none_or(|kind| create.iter().any(|c| c == kind))
        })
        .map(|(_, &namespace)| namespace)
        .collect()
}

// ANCHOR: start
/// Let a created container `exec`: open its FIFO to read, which lets its
/// blocked open-to-write return; its byte says it got there.
fn start(oci: &dyn Oci, root: &Path, id: &str) -> Result<u8> {
    let (dir, record, _) = find_for(oci, root, id, Operation::Start)?;
    // Non-blocking, so that a container that died before it opened its
    // end cannot leave us waiting forever: poll while it lives.
    let mut fifo = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(dir.join(EXEC_FIFO))
        .context("open the exec FIFO")?;
    let mut byte = [0u8; 1];
    loop {
        match fifo.read(&mut byte) {
            Ok(1) => break,
            Ok(_) | Err(_) if record.is_alive() => std::thread::sleep(Duration::from_millis(2)),
            _ => {
                return Err(
                    Error::new(format!("container {id} ended before it started"))
                        .fix("`delete` it and look at its output"),
                );
            }
        }
    }
    fs::remove_file(dir.join(EXEC_FIFO)).context("remove the exec FIFO")?;
    Ok(0)
}
// ANCHOR_END: start

fn signal_container(oci: &dyn Oci, root: &Path, id: &str, signal: &str) -> Result<u8> {
    let signal = parse_signal(signal)?;
    let (_, record, _) = find_for(oci, root, id, Operation::Kill)?;
    kill(Pid::from_raw(record.pid), signal)
        .with_context(|| format!("send {signal} to container {id}"))?;
    Ok(0)
}

/// `15`, `TERM` or `SIGTERM`.
fn parse_signal(text: &str) -> Result<Signal> {
    let parsed = match text.parse::<i32>() {
        Ok(number) => Signal::try_from(number).ok(),
        Err(_) => {
            let name = text.to_ascii_uppercase();
            let name = if name.starts_with("SIG") {
                name
            } else {
                format!("SIG{name}")
            };
            Signal::from_str(&name).ok()
        }
    };
    parsed.ok_or_else(|| {
        Error::new(format!("{text:?} is not a signal")).fix("give a number (9) or a name (KILL)")
    })
}

fn delete(oci: &dyn Oci, root: &Path, id: &str, force: bool, undo: &[&dyn Undo]) -> Result<u8> {
    let (dir, record) = match state::find(root, id) {
        Ok(found) => found,
        // As runc: a forced delete of a container that does not exist
        // (podman's, after a failed `create`) succeeds; a half-made
        // directory without a record goes.
        Err(_) if force && state::check_id(id).is_ok() => {
            let dir = state::dir(root, id);
            if dir.exists() {
                remove(root, &dir, undo)?;
            }
            return Ok(0);
        }
        Err(error) => return Err(error),
    };
    let (_, _, status) = find_for(oci, root, id, Operation::Delete { force })?;
    if status != ContainerState::Stopped {
        let _ = kill(Pid::from_raw(record.pid), Signal::SIGKILL);
        let deadline = Instant::now() + Duration::from_secs(10);
        while record.is_alive() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    remove(root, &dir, undo)?;
    Ok(0)
}

/// Undo what the container left on the host, by its records, then its
/// directory; the last container out removes the state root.
fn remove(root: &Path, dir: &Path, undo: &[&dyn Undo]) -> Result<()> {
    let (_, left) = host_state::replay(root, dir, undo);
    if !left.is_empty() {
        return Err(Error::new(format!(
            "could not undo {} for {}",
            left.join(", "),
            dir.display()
        ))
        .fix("run `just clean`"));
    }
    fs::remove_dir_all(dir).with_context(|| format!("remove {}", dir.display()))?;
    let _ = fs::remove_dir(root);
    Ok(())
}

/// `just clean` for OCI containers: the directories whose process is gone
/// (or never got recorded), with their undo records.
pub fn clean(root: &Path, undo: &[&dyn Undo]) -> Vec<String> {
    let mut done = Vec::new();
    for entry in fs::read_dir(root).into_iter().flatten().flatten() {
        let dir = entry.path();
        let alive = Record::read(&dir).is_some_and(|record| record.is_alive());
        if alive {
            continue;
        }
        match remove(root, &dir, undo) {
            Ok(()) => done.push(format!("removed the OCI container {}", dir.display())),
            Err(error) => done.push(error.to_string()),
        }
    }
    done
}

/// conmon's `exec`: run the process described in `process_file` in the
/// running container, through lesson 07's [`crate::Join`]. With
/// `--detach`, a process of ours waits for it and ends with its status;
/// its PID goes to the pid file and we return at once.
fn exec(
    parts: &Parts,
    oci: &dyn Oci,
    root: &Path,
    id: &str,
    process_file: &Path,
    detach: bool,
    pid_file: Option<&Path>,
) -> Result<u8> {
    let (_, record, _) = find_for(oci, root, id, Operation::Exec)?;
    let join = parts.join.ok_or_else(|| {
        Error::new("this binary has no way into a container").fix("use lesson 07 or later")
    })?;
    let text = fs::read_to_string(process_file)
        .with_context(|| format!("read the process {}", process_file.display()))?;
    let process: oci_spec::runtime::Process = serde_json::from_str(&text).map_err(|error| {
        Error::new(format!("{}: {error}", process_file.display()))
            .fix("give the process as the runtime spec's JSON")
    })?;
    let command = Config {
        quiet: true,
        hostname: record.hostname.clone(),
        ..lesson_code(|| oci.exec_process(&process))?
    };
    let entry = Entry {
        name: id.to_string(),
        pid: Pid::from_raw(record.pid),
        start_time: record.start_time,
        runtime: Pid::from_raw(record.runtime),
        created: record.created_at,
        hostname: record.hostname.clone(),
        rootfs: None,
        command: command.command.clone(),
        cap_add: command.cap_add.clone(),
        cap_drop: command.cap_drop.clone(),
        seccomp: command.seccomp.clone(),
    };
    // SAFETY: the runtime is one thread, so the child's copy of the
    // process is consistent; it only calls the lesson's exec and exits.
    match unsafe { fork() }.context("fork the process that joins the container")? {
        ForkResult::Child => {
            let cgroups = parts.binary.has_flag("memory");
            let status = join::exec_in(
                &entry,
                &command,
                join,
                parts.process,
                cgroups,
                &parts.namespaces,
            )
            .unwrap_or_else(|error| {
                eprintln!("{error}");
                error.status()
            });
            std::process::exit(status.into());
        }
        ForkResult::Parent { child } => {
            if let Some(pid_file) = pid_file {
                fs::write(pid_file, child.to_string())
                    .with_context(|| format!("write the pid file {}", pid_file.display()))?;
            }
            if detach {
                return Ok(0);
            }
            let ending = waitpid(child, None).context("wait for the exec'd process")?;
            Ok(match ending {
                nix::sys::wait::WaitStatus::Exited(_, code) => u8::try_from(code).unwrap_or(1),
                nix::sys::wait::WaitStatus::Signaled(_, signal, _) => 128 + signal as u8,
                _ => 1,
            })
        }
    }
}

/// `plan`: what the lesson made of a bundle, one `what: value` line each,
/// for a learner to read and for the checks to compare.
fn describe_plan(plan: &Plan) -> String {
    let config = &plan.config;
    let words = |list: &[String]| list.join(" ");
    let mut lines = vec![
        format!("create: {}", words(&plan.create)),
        format!("hostname: {}", config.hostname),
        format!(
            "rootfs: {}{}",
            config.rootfs.as_deref().unwrap_or(Path::new("-")).display(),
            if config.read_only_root {
                " (read-only)"
            } else {
                ""
            }
        ),
    ];
    for volume in &config.volumes {
        let mode = if volume.read_only { " (ro)" } else { "" };
        lines.push(format!(
            "volume: {} -> {}{mode}",
            volume.host.display(),
            volume.container.display()
        ));
    }
    for tmpfs in &config.tmpfs {
        let mode = if tmpfs.flags.contains(MsFlags::MS_RDONLY) {
            " (ro)"
        } else {
            ""
        };
        lines.push(format!("tmpfs: {}{mode}", tmpfs.container.display()));
    }
    lines.push(format!("command: {}", words(&config.command)));
    lines.push(format!("cap_drop: {}", words(&config.cap_drop)));
    lines.push(format!("cap_add: {}", words(&config.cap_add)));
    let limit = |limit: Option<String>| limit.unwrap_or_else(|| "-".into());
    lines.push(format!(
        "memory: {}",
        limit(config.limits.memory.map(|m| m.to_string()))
    ));
    lines.push(format!(
        "pids: {}",
        limit(config.limits.pids.map(|p| p.0.to_string()))
    ));
    lines.push(format!(
        "cpus: {}",
        limit(config.limits.cpus.map(|c| c.to_string()))
    ));
    let paths = |paths: &Option<Vec<String>>| paths.as_deref().map_or("-".into(), words);
    lines.push(format!("masked: {}", paths(&config.masked_paths)));
    lines.push(format!("read_only: {}", paths(&config.read_only_paths)));
    lines.push(format!(
        "seccomp profile: {}",
        if plan.seccomp.is_some() { "yes" } else { "no" }
    ));
    if let Some(oci) = &config.oci {
        for (kind, path) in &oci.join {
            lines.push(format!("join: {kind} {}", path.display()));
        }
        lines.push(format!("env: {}", words(&oci.env)));
        lines.push(format!("cwd: {}", oci.cwd.display()));
        let groups: Vec<String> = oci.additional_gids.iter().map(u32::to_string).collect();
        lines.push(format!(
            "user: {}:{} groups {}",
            oci.uid,
            oci.gid,
            words(&groups)
        ));
        for limit in &oci.rlimits {
            lines.push(format!(
                "rlimit: {} {}:{}",
                limit.resource, limit.soft, limit.hard
            ));
        }
    }
    lines
        .iter()
        .map(|line| format!("{}\n", line.trim_end()))
        .collect()
}

/// `life-cycle`: the lesson's status for each of the eight combinations
/// of what can be seen, then its verdict on each command in each state.
fn describe_life_cycle(oci: &dyn Oci) -> Result<String> {
    let mut lines = Vec::new();
    for bits in 0..8u8 {
        let seen = Seen {
            set_up: bits & 1 != 0,
            exec_fifo: bits & 2 != 0,
            alive: bits & 4 != 0,
        };
        let status = lesson_code(|| Ok(oci.status(&seen)))?;
        lines.push(format!(
            "status set_up={} exec_fifo={} alive={}: {status}",
            seen.set_up, seen.exec_fifo, seen.alive
        ));
    }
    let operations = [
        Operation::Start,
        Operation::Kill,
        Operation::Exec,
        Operation::Delete { force: false },
        Operation::Delete { force: true },
    ];
    let statuses = [
        ContainerState::Creating,
        ContainerState::Created,
        ContainerState::Running,
        ContainerState::Stopped,
    ];
    for operation in operations {
        for status in statuses {
            let verdict = match lesson_code(|| oci.allow(operation, status).map(|()| 0)) {
                Ok(_) => "yes".to_string(),
                Err(error) if error.status() == crate::error::LESSON_PANICKED => {
                    return Err(error);
                }
                Err(error) => format!("no: {error}"),
            };
            lines.push(format!("allow {operation} when {status}: {verdict}"));
        }
    }
    Ok(lines.iter().map(|line| format!("{line}\n")).collect())
}

/// The spec's `features` document: what this runtime can do.
fn features() -> String {
    let features = serde_json::json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": "1.2.1",
        "hooks": [],
        "mountOptions": ["bind", "rbind", "ro", "rw", "private", "rprivate", "nosuid", "nodev", "noexec"],
        "linux": {
            "namespaces": ["pid", "network", "ipc", "uts", "mount", "user", "cgroup", "time"],
            "capabilities": [],
            "cgroup": { "v1": true, "v2": true, "systemd": false, "systemdUser": false },
            "seccomp": { "enabled": true, "actions": ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP", "SCMP_ACT_LOG"] },
            "apparmor": { "enabled": false },
            "selinux": { "enabled": false }
        },
        "annotations": { "org.nslab.lesson": "11" }
    });
    serde_json::to_string_pretty(&features).expect("features always serialize")
}

/// Where OCI containers are kept: `--root`, or the course's default.
pub fn root_or_default(root: Option<PathBuf>) -> PathBuf {
    root.unwrap_or_else(state::default_root)
}
