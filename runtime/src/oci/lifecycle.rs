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

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, Pid, fork};
use oci_spec::runtime::ContainerState;

use crate::config::{Config, OciProcess};
use crate::container::{self, Parts};
use crate::course::{LESSONS, Part};
use crate::error::{Context, Error, Result};
use crate::namespace::Namespace;
use crate::oci::bundle;
use crate::oci::cli::Command;
use crate::oci::inside::EXEC_FIFO;
use crate::oci::state::{self, Record};
use crate::registry::{self, Entry};
use crate::run::Run;
use crate::state as host_state;
use crate::state::Undo;

/// Run one OCI command with the containers under `root`; the status the
/// command earns (the container's own status is the engine's business).
pub fn run(parts: &Parts, root: &Path, command: Command, undo: &[&dyn Undo]) -> Result<u8> {
    match command {
        Command::Create {
            id,
            bundle,
            pid_file,
        } => create(parts, root, &id, &bundle, pid_file.as_deref(), undo),
        Command::Start { id } => start(root, &id),
        Command::State { id } => {
            let (dir, record) = state::find(root, &id)?;
            println!("{}", state::to_json(&dir, &record));
            Ok(0)
        }
        Command::Kill { id, signal } => signal_container(root, &id, &signal),
        Command::Delete { id, force } => delete(root, &id, force, undo),
        Command::Exec {
            id,
            process,
            detach,
            pid_file,
        } => exec(parts, root, &id, &process, detach, pid_file.as_deref()),
        Command::Features => {
            println!("{}", features());
            Ok(0)
        }
    }
}

fn create(
    parts: &Parts,
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
    let plan = bundle::map_spec(&spec, &bundle)?;
    let made: Vec<&str> = LESSONS
        .iter()
        .take(usize::from(parts.binary.level) + 1)
        .filter_map(|lesson| lesson.namespace)
        .collect();
    bundle::refuse_namespaces_not_made(&plan, &made)?;
    for warning in &plan.warnings {
        eprintln!("warning: {warning}");
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
        namespaces: namespaces_for(parts, &plan.create),
        join: parts.join,
    };
    let run = Run::at(plan.config, root.to_path_buf(), Pid::this(), dir.clone());
    let mut record = Record {
        id: id.to_string(),
        pid: 0,
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
/// `network`), and every lesson that adds no namespace of its own.
fn namespaces_for(parts: &Parts, create: &[String]) -> Vec<&'static dyn Namespace> {
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
fn start(root: &Path, id: &str) -> Result<u8> {
    let (dir, record) = state::find(root, id)?;
    let status = state::status(&dir, &record);
    if status != ContainerState::Created {
        return Err(
            Error::new(format!("container {id} is {status}, not created"))
                .fix("`start` runs a container once, after `create`"),
        );
    }
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

fn signal_container(root: &Path, id: &str, signal: &str) -> Result<u8> {
    let (dir, record) = state::find(root, id)?;
    let signal = parse_signal(signal)?;
    match state::status(&dir, &record) {
        ContainerState::Created | ContainerState::Running => {
            kill(Pid::from_raw(record.pid), signal)
                .with_context(|| format!("send {signal} to container {id}"))?;
            Ok(0)
        }
        status => Err(
            Error::new(format!("container {id} is {status}: no process to signal"))
                .fix("`kill` works on created and running containers"),
        ),
    }
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

fn delete(root: &Path, id: &str, force: bool, undo: &[&dyn Undo]) -> Result<u8> {
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
    let status = state::status(&dir, &record);
    if status != ContainerState::Stopped {
        if !force {
            return Err(
                Error::new(format!("container {id} is {status}, not stopped"))
                    .fix("stop it first (`kill`), or `delete --force` it"),
            );
        }
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
    root: &Path,
    id: &str,
    process_file: &Path,
    detach: bool,
    pid_file: Option<&Path>,
) -> Result<u8> {
    let (dir, record) = state::find(root, id)?;
    let status = state::status(&dir, &record);
    if status != ContainerState::Running {
        return Err(
            Error::new(format!("container {id} is {status}, not running"))
                .fix("`exec` enters running containers only"),
        );
    }
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
        command: process.args().clone().unwrap_or_default(),
        oci: Some(Box::new(OciProcess {
            env: process.env().clone().unwrap_or_default(),
            cwd: process.cwd().clone(),
            ..OciProcess::default()
        })),
        ..Config::default()
    };
    if command.command.is_empty() {
        return Err(Error::new("the process has no args").fix("give args in the process file"));
    }
    let entry = Entry {
        name: id.to_string(),
        pid: Pid::from_raw(record.pid),
        start_time: record.start_time,
        runtime: Pid::from_raw(record.pid),
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
            let status = join
                .exec(&entry, &command, parts.process)
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

/// The spec's `features` document: what this runtime can do.
fn features() -> String {
    let features = serde_json::json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": "1.2.1",
        "hooks": [],
        "mountOptions": ["bind", "rbind", "ro", "rw", "private", "rprivate"],
        "linux": {
            "namespaces": ["pid", "network", "ipc", "uts", "mount", "user"],
            "capabilities": [],
            "cgroup": { "v1": false, "v2": false, "systemd": false, "systemdUser": false },
            "seccomp": { "enabled": false },
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
