//! Killing the runtime on purpose, for the reliability suite: at a named
//! step of its life (the core's fault-injection hook, `runtime/src/fault.rs`,
//! in debug builds) or at a random moment; then doing what `just clean`
//! does, and making sure nothing of the container is left.
//!
//! These kills leave the runtime's state directory behind until `clean`,
//! so the checks that use them are `#[file_serial(host)]`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use nslab_runtime::fault::STEP_VARIABLE;
use nslab_runtime::{leftovers, state};

use super::Container;
use super::procs::{Process, descendants_of, describe, eventually};
use super::run::TIMEOUT;

/// A runtime the check killed with SIGKILL, and what ran below it then.
pub struct Killed {
    /// How it was started and when it was killed, for failure messages.
    pub what: String,
    /// The container's processes at the moment of the kill.
    pub below: Vec<Process>,
}

/// The steps a run of `command` in `container` goes through, in order
/// (`NSLAB_FAULT_STEP=list`).
pub fn steps(container: &Container, command: &[&str]) -> Vec<String> {
    let output = container
        .command(command)
        .env(STEP_VARIABLE, "list")
        .stdin(Stdio::null())
        .output()
        .expect("run the runtime to list its steps");
    let steps: Vec<String> = String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter_map(|line| line.strip_prefix("nslab-fault: step "))
        .map(str::to_string)
        .collect();
    assert!(
        !steps.is_empty(),
        "`{STEP_VARIABLE}=list {}` should name the steps of the container's life on stderr \
         (a debug build does); it printed {:?}",
        container.invocation(command),
        String::from_utf8_lossy(&output.stderr)
    );
    steps
}

/// Start `command` in `container`, wait until the runtime (or the
/// container process) says it stopped at `step`, and SIGKILL the runtime.
pub fn kill_at_step(container: &Container, command: &[&str], step: &str) -> Killed {
    let runtime = stop_at_step(container, command, step);
    let what = format!(
        "`{STEP_VARIABLE}={step} {}` killed at {step}",
        container.invocation(command)
    );
    kill(runtime, what)
}

/// Start `command` in `container` and return once the runtime (or the
/// container process) says it stopped at `step`, where it waits to be
/// killed ([`kill_stopped`]).
pub fn stop_at_step(container: &Container, command: &[&str], step: &str) -> Child {
    let what = format!("`{STEP_VARIABLE}={step} {}`", container.invocation(command));
    let mut runtime = container
        .command(command)
        .env(STEP_VARIABLE, step)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the runtime");
    let lines = stderr_lines(&mut runtime);
    let stopped = format!("nslab-fault: stopped at {step}");
    let mut said = Vec::new();
    loop {
        match lines.recv_timeout(TIMEOUT) {
            Ok(line) if line == stopped => break,
            Ok(line) => said.push(line),
            Err(_) => {
                let _ = runtime.kill();
                let _ = runtime.wait();
                panic!(
                    "{what}: the runtime should stop at {step}, but it did not; stderr: {said:?}"
                );
            }
        }
    }
    runtime
}

/// SIGKILL a runtime [`stop_at_step`] stopped, and reap it.
pub fn kill_stopped(runtime: Child, what: String) -> Killed {
    kill(runtime, what)
}

/// Start `command` in `container` and SIGKILL the runtime after `delay`,
/// unless it has ended by then (`None`).
pub fn kill_after(container: &Container, command: &[&str], delay: Duration) -> Option<Killed> {
    let runtime = container
        .command(command)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the runtime");
    kill_later(
        runtime,
        delay,
        format!("`{}`", container.invocation(command)),
    )
}

/// Start `command`, which prints a line `ready` once it is set up, in
/// `container`, and SIGKILL the runtime then: the container has all its
/// processes.
pub fn kill_when_ready(container: &Container, command: &[&str]) -> Killed {
    let mut runtime = container
        .command(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the runtime");
    let stdout = runtime.stdout.take().expect("piped stdout");
    let what = format!(
        "`{}` killed once it printed ready",
        container.invocation(command)
    );
    let ready = BufReader::new(stdout).lines().next();
    if !matches!(ready, Some(Ok(ref line)) if line == "ready") {
        let _ = runtime.kill();
        let _ = runtime.wait();
        panic!("{what}: the container should print ready first, but printed {ready:?}");
    }
    kill(runtime, what)
}

fn kill_later(mut runtime: Child, delay: Duration, invocation: String) -> Option<Killed> {
    thread::sleep(delay);
    if runtime.try_wait().ok().flatten().is_some() {
        return None;
    }
    let what = format!("{invocation} killed after {} µs", delay.as_micros());
    Some(kill(runtime, what))
}

/// SIGKILL the runtime, note what ran below it, and reap it: what a
/// `kill -9` from a person or an OOM killer does.
fn kill(mut runtime: Child, what: String) -> Killed {
    let below = descendants_of(runtime.id() as i32);
    let _ = runtime.kill();
    let _ = runtime.wait();
    Killed { what, below }
}

fn stderr_lines(runtime: &mut Child) -> mpsc::Receiver<String> {
    let stderr = runtime.stderr.take().expect("piped stderr");
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

/// What `just clean` does (`nslab-check clean` calls the same function):
/// remove what killed runtimes left on the host.
pub fn just_clean() {
    if let Err(error) = leftovers::clean(Path::new(state::ROOT_STATE_DIR)) {
        panic!("`just clean` should tidy up after killed runtimes, but failed: {error}");
    }
}

/// Every process that ran in the container when its runtime was killed
/// must be gone soon: the container dies with its runtime.
pub fn expect_nothing_left_running(killed: &Killed) {
    let left = eventually(Duration::from_secs(10), || {
        let left: Vec<Process> = killed
            .below
            .iter()
            .filter(|p| p.exists())
            .cloned()
            .collect();
        if left.is_empty() {
            Ok(())
        } else {
            Err(describe(&left))
        }
    });
    if let Err(left) = left {
        // Do not leave them for the next check.
        drop(super::procs::KillOnDrop(killed.below.clone()));
        panic!(
            "{}: every process of the container should die with its runtime, but these are \
             still on the host (orphans, or zombies nobody reaps):\n{left}",
            killed.what
        );
    }
}
