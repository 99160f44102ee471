//! Lesson 03 (PID): the container numbers its processes on its own, and
//! has a real PID 1: the command itself by default, or with `--init` a
//! tiny init that reaps orphans and passes signals on.
//!
//! Until lesson 04 mounts a fresh `/proc`, tools inside that read `/proc`
//! (`ps`, `/proc/self/status`) still show the host's numbers, so these
//! checks ask the shell (`$$`, `$PPID`: getpid and getppid, which answer
//! in the caller's namespace) or look from the host.

use std::time::Duration;

use nix::sys::signal::Signal;
use serial_test::file_parallel;

use crate::support::procs::{self, KillOnDrop, Process, eventually};
use crate::support::run::trapping;
use crate::support::{Container, HostGuard, expect_a_namespace_of_its_own};

/// How long something the kernel or init does "at once" may take on a
/// busy machine before a check gives up on it.
const DEADLINE: Duration = Duration::from_secs(10);

/// A script prefix that stops a shell which is not PID 1, so no check ever
/// sends a signal meant for PID 1 of the container to the host's PID 1.
const ONLY_AS_PID_1: &str =
    r#"[ "$$" -eq 1 ] || { echo "this shell is pid $$, not 1"; exit 1; }; "#;

fn with_init() -> Container {
    Container::for_lesson(3).flag("--init")
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn the_pid_namespace_is_not_the_hosts() {
    let _host = HostGuard::begin();
    expect_a_namespace_of_its_own(&Container::for_lesson(3), "pid");
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn the_command_is_pid_1_and_its_parent_is_outside() {
    let _host = HostGuard::begin();
    // getppid() is 0 when the parent is in another PID namespace.
    Container::for_lesson(3)
        .run(&["sh", "-c", "echo $$ $PPID"])
        .expect_success()
        .expect_stdout("1 0\n");
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn pid_1_survives_sigkill_sent_from_inside() {
    let _host = HostGuard::begin();
    let script = format!("{ONLY_AS_PID_1}kill -KILL 1; echo alive");
    Container::for_lesson(3)
        .run(&["sh", "-c", &script])
        .expect_success()
        .expect_stdout("alive\n");
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn sigterm_to_the_runtime_reaches_a_pid_1_that_handles_it() {
    let _host = HostGuard::begin();
    let script = format!("{ONLY_AS_PID_1}{}", trapping("TERM", 42));
    Container::for_lesson(3)
        .signal_when_ready(&["sh", "-c", &script], Signal::SIGTERM, DEADLINE)
        .expect_status(42);
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn when_pid_1_exits_every_process_left_inside_dies() {
    let _host = HostGuard::begin();
    // PID 1 starts a long sleep, and exits when SIGUSR1 comes.
    let script =
        format!("{ONLY_AS_PID_1}trap 'exit 0' USR1; sleep 1000 & echo ready; wait; exit 3");
    let mut running = Container::for_lesson(3).start_until_ready(&["sh", "-c", &script]);
    let pid_1 = running.container_pid();
    // The shell may print "ready" before its forked child has become
    // `sleep` (exec takes a moment), so look until it has.
    let sleeping = eventually(DEADLINE, || {
        let sleeps: Vec<Process> = procs::descendants_of(pid_1)
            .into_iter()
            .filter(|process| process.name == "sleep")
            .collect();
        match sleeps.len() {
            1 => Ok(sleeps),
            _ => Err(procs::describe(&procs::descendants_of(pid_1))),
        }
    });
    let left_behind = sleeping.unwrap_or_else(|found| {
        running.fail(&format!(
            "should have started one `sleep` under PID 1 (pid {pid_1} on the host); found:\n{found}"
        ))
    });
    let _cleanup = KillOnDrop(left_behind.clone());

    running.signal_runtime(Signal::SIGUSR1);
    running.finish_within(DEADLINE).expect_success();
    let survivors = eventually(DEADLINE, || {
        let alive: Vec<Process> = left_behind.iter().filter(|p| p.exists()).cloned().collect();
        if alive.is_empty() {
            Ok(())
        } else {
            Err(procs::describe(&alive))
        }
    });
    if let Err(survivors) = survivors {
        panic!(
            "PID 1 of the container exited, so the kernel should have killed every other \
             process in its PID namespace; {}s later these still exist on the host:\n{survivors}",
            DEADLINE.as_secs()
        );
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn with_init_the_command_is_pid_2_under_init() {
    let _host = HostGuard::begin();
    with_init()
        .run(&["sh", "-c", "echo $$ $PPID"])
        .expect_success()
        .expect_stdout("2 1\n");
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn with_init_pid_1_keeps_only_stdin_stdout_and_stderr() {
    let _host = HostGuard::begin();
    let mut running = with_init().start_until_ready(&["sh", "-c", "echo ready; exec sleep 30"]);
    let init = running.container_pid();
    let mut open: Vec<(u32, String)> = std::fs::read_dir(format!("/proc/{init}/fd"))
        .expect("list init's descriptors")
        .flatten()
        .filter_map(|entry| {
            let number = entry.file_name().to_str()?.parse().ok()?;
            let target = std::fs::read_link(entry.path()).unwrap_or_default();
            Some((number, format!("{number} -> {}", target.display())))
        })
        .collect();
    open.sort();
    if open.iter().map(|(number, _)| *number).ne([0, 1, 2]) {
        let listing: Vec<String> = open.into_iter().map(|(_, line)| line).collect();
        running.fail(&format!(
            "init (pid {init} on the host) should keep only descriptors 0, 1 and 2, \
             not the runtime's pipes; it has:\n  {}",
            listing.join("\n  ")
        ));
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn with_init_sigterm_is_passed_on_to_the_command() {
    let _host = HostGuard::begin();
    // A command that handles SIGTERM gets it and decides its status...
    with_init()
        .signal_when_ready(
            &["sh", "-c", &trapping("TERM", 42)],
            Signal::SIGTERM,
            DEADLINE,
        )
        .expect_status(42);
    // ...and one that does not is killed by it, since with --init it is
    // not PID 1: 128 + 15.
    let no_handler = ["sh", "-c", "echo ready; exec sleep 30"];
    with_init()
        .signal_when_ready(&no_handler, Signal::SIGTERM, DEADLINE)
        .expect_status(128 + 15);
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn with_init_orphans_are_reaped() {
    let _host = HostGuard::begin();
    // The subshell starts a short sleep and exits at once: the sleep is an
    // orphan, adopted by PID 1. The command then never waits for anything.
    let mut running =
        with_init().start_until_ready(&["sh", "-c", "(sleep 0.1 &); echo ready; exec sleep 30"]);
    let init = running.container_pid();
    // Once the orphan has ended and been reaped, init has one child left,
    // the command, and no zombie.
    let reaped = eventually(DEADLINE, || {
        let inside = procs::descendants_of(init);
        let only_the_command = inside.len() == 1 && !inside[0].is_zombie();
        if only_the_command {
            Ok(())
        } else {
            Err(procs::describe(&inside))
        }
    });
    if let Err(processes) = reaped {
        running.fail(&format!(
            "should reap the orphaned `sleep 0.1` within {}s; under init (pid {init} on the \
             host) there are still:\n{processes}",
            DEADLINE.as_secs()
        ));
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn with_init_the_commands_status_passes_through() {
    let _host = HostGuard::begin();
    with_init()
        .run(&["sh", "-c", "exit 7"])
        .expect_status(7)
        .expect_stderr("");
    // Killed by a signal: 128 + 9. (The shell is PID 2 here, so it can.)
    with_init()
        .run(&["sh", "-c", "kill -KILL $$"])
        .expect_status(128 + 9);
    let missing = format!("no-such-command-{}", crate::support::random_hex(4));
    with_init()
        .run(&[&missing])
        .expect_one_error_line(127, &[&missing]);
}
