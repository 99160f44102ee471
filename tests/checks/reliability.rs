//! The reliability suite (issue 9): tries to break the runtime as a whole
//! rather than teach one namespace. Bad inputs, kills at every step of a
//! container's life, every exit status, signals, zombies and orphans,
//! inherited descriptors and environment variables.
//!
//! These checks grade the runtime, not a lesson: they always run the
//! reference binaries (`Container::solution`), whatever `NSLAB_BINARY`
//! says, and the self-test, which grades the `lessonNN` modules, never
//! runs them. Each protection they rely on, and the evidence that each
//! check fails without it, is in docs/decisions/0018-reliability-suite.md.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nslab_runtime::config::DEFAULT_SUBNET;
use serial_test::{file_parallel, file_serial};

use crate::support::faults::{
    Killed, expect_nothing_left_running, just_clean, kill_after, kill_at_step, kill_when_ready,
    steps,
};
use crate::support::mounts::shared_rootfs_flag;
use crate::support::net::{a_host_route, eth0_address, gateway, is_a_containers_address, stop};
use crate::support::procs::{Process, descendants_of, describe, eventually};
use crate::support::run::{Running, trapping};
use crate::support::{Container, HostGuard, Outcome, random_hex};

/// The most complete reference runtime the course builds: the last
/// lesson of the manifest, so that a new lesson's binary extends the
/// suite without an edit here.
fn latest() -> u8 {
    nslab_runtime::course::LAST_LESSON
}

/// The containers every check tries, as root: the bare runtime, with
/// lesson 03's init as PID 1, and in the busybox root filesystem.
fn variants() -> Vec<Container> {
    let latest = || Container::solution(latest());
    vec![
        latest(),
        latest().flag("--init"),
        latest().flag("--rootfs").flag(shared_rootfs_flag()),
    ]
}

/// The same run by `nobody` (lesson 05 on): a user namespace, with the
/// caller's id as root inside, and not a capability on the host. Not for
/// the kills: `just clean` tidies root's state directory, not nobody's.
fn with_nobody() -> Vec<Container> {
    let mut all = variants();
    if latest() >= 5 {
        let by_nobody = || Container::solution(latest()).by_nobody();
        all.push(by_nobody());
        all.push(by_nobody().flag("--rootfs").flag(shared_rootfs_flag()));
    }
    all
}

/// The root variants, from lesson 06 on the bare runtime on the bridge
/// network, with and without NAT, from lesson 08 on one with every
/// limit (a cgroup in each tree), and from lesson 09 on one with its own
/// clocks, with and without init: what the kills try.
fn variants_to_kill() -> Vec<Container> {
    let mut all = variants();
    if latest() >= 6 {
        let bridged = || Container::solution(latest()).flag("--net").flag("bridge");
        all.push(bridged());
        all.push(bridged().flag("--nat"));
    }
    if latest() >= 8 {
        all.push(
            Container::solution(latest())
                .flag("--memory=64m")
                .flag("--pids-limit=100")
                .flag("--cpus=0.5"),
        );
    }
    if latest() >= 9 {
        let clocks = || Container::solution(latest()).flag("--uptime=0");
        all.push(clocks());
        all.push(clocks().flag("--init"));
    }
    all
}

/// One bad invocation: the reference binary of `level`, its whole command
/// line, and the words the error line must contain to name the problem.
struct BadInput {
    level: u8,
    args: Vec<String>,
    names: Vec<String>,
    /// Run as `nobody` rather than root.
    unprivileged: bool,
}

/// `args` is the command line, split at spaces.
fn bad(level: u8, args: &str, names: &[&str]) -> BadInput {
    BadInput {
        level,
        args: args.split(' ').map(str::to_string).collect(),
        names: names.iter().map(|name| name.to_string()).collect(),
        unprivileged: false,
    }
}

/// Every refusal the course makes, across the lessons on main: command
/// line shape (the core), later lessons' flags, and each lesson's
/// `validate`. A table, one case a line, so rustfmt leaves it alone.
#[rustfmt::skip]
fn bad_inputs() -> Vec<BadInput> {
    let rootfs = shared_rootfs_flag();
    let missing = format!("/nonexistent-{}", random_hex(4));
    let (long, multibyte) = ("x".repeat(65), "é".repeat(33));
    // One more line than the kernel takes (a page: 340 of these).
    let too_many_lines: Vec<String> = (0..341).map(|id| format!("--uid-map={id}:{}:1", 1000 + id)).collect();
    let too_many_lines = too_many_lines.join(" ");
    let host_route = a_host_route();
    vec![
        // The command line's shape, refused by the core's parser.
        bad(4, "--no-such-flag -- true", &["--no-such-flag"]),
        bad(4, "hostname", &["-- hostname"]),
        bad(4, "--hostname", &["--hostname", "value"]),
        bad(4, "-q -q -- true", &["--quiet"]),
        bad(4, "--volume=/tmp -- true", &["--volume", "HOST:CONTAINER"]),
        bad(4, "--volume=/tmp:/b:rx -- true", &["--volume", "rx"]),
        bad(4, "--uid-map=0:0 -- true", &["--uid-map", "INSIDE:OUTSIDE:COUNT"]),
        bad(4, "--gid-map=0:x:1 -- true", &["--gid-map", "not a number"]),
        bad(4, "--net=host -- true", &["--net", "none or bridge"]),
        bad(4, "--subnet=10.0.0.1/24 -- true", &["--subnet", "host bits"]),
        bad(4, "--subnet=10.0.0.0/33 -- true", &["--subnet", "prefix length"]),
        bad(4, "--name=-x -- true", &["--name", "letter or digit"]),
        // A later lesson's flag or tool, named with its lesson.
        bad(0, "--hostname=box -- true", &["--hostname", "lesson 01"]),
        bad(2, "--init -- true", &["--init", "lesson 03"]),
        bad(3, "--rootfs=/ -- true", &["--rootfs", "lesson 04"]),
        bad(4, "--uid-map=0:0:1 -- true", &["--uid-map", "lesson 05"]),
        bad(4, "--net=bridge -- true", &["--net", "lesson 06"]),
        bad(4, "--nat -- true", &["--nat", "lesson 06"]),
        bad(4, "--name=web -- true", &["--name", "lesson 07"]),
        bad(4, "exec web -- true", &["exec", "lesson 07"]),
        bad(7, "--memory=64m -- true", &["--memory", "lesson 08"]),
        bad(7, "--pids-limit=10 -- true", &["--pids-limit", "lesson 08"]),
        bad(8, "--uptime=0 -- true", &["--uptime", "lesson 09"]),
        // Lesson 01's validate: the kernel's limit is 64 bytes.
        bad(4, "--hostname= -- true", &["--hostname", "0 bytes"]),
        bad(4, &format!("--hostname={long} -- true"), &["--hostname", "65 bytes"]),
        bad(4, &format!("--hostname={multibyte} -- true"), &["--hostname", "66 bytes"]),
        bad(4, &format!("--domainname={long} -- true"), &["--domainname", "65 bytes"]),
        // Lesson 04's validate: the rootfs and the volumes.
        bad(4, &format!("--rootfs={missing} -- true"), &["--rootfs", "No such file"]),
        bad(4, "--rootfs=/etc/hostname -- true", &["--rootfs", "not a directory"]),
        bad(4, "--volume=/tmp:/data -- true", &["--volume", "needs --rootfs"]),
        bad(4, &format!("--rootfs={rootfs} --volume={missing}:/d -- true"), &["--volume", "host path"]),
        bad(4, &format!("--rootfs={rootfs} --volume=/tmp:data -- true"), &["--volume", "relative"]),
        bad(4, &format!("--rootfs={rootfs} --volume=/tmp:/../etc -- true"), &["--volume", "climbs above"]),
        // Lesson 05's validate: what the kernel would refuse to map.
        bad(5, "--uid-map=0:100000:10 --uid-map=5:200000:10 -- true", &["--uid-map", "overlap inside"]),
        bad(5, "--gid-map=0:100000:10 --gid-map=20:100009:5 -- true", &["--gid-map", "overlap outside"]),
        bad(5, &format!("{too_many_lines} -- true"), &["341 --uid-map lines", "at most 340"]),
        // Lesson 06's validate: the subnet, and what needs the bridge.
        bad(6, "--net=bridge --subnet=300.1.2.0/24 -- true", &["--subnet", "not an IPv4 address"]),
        bad(6, &format!("--net=bridge --subnet={host_route} -- true"), &[&host_route, "overlaps the host's route"]),
        bad(6, "--net=bridge --subnet=10.77.0.0/31 -- true", &["--subnet", "too small"]),
        bad(6, "--nat -- true", &["--nat", "needs --net bridge"]),
        bad(6, "--subnet=10.77.0.0/24 -- true", &["--subnet", "needs --net bridge"]),
        // Lesson 08's limits: the core's parser refuses what no cgroup
        // could take (a missing controller is lesson 08's validate, and
        // a unit test: every controller is here).
        bad(8, "--memory=0 -- true", &["--memory", "below 6m"]),
        bad(8, "--memory=lots -- true", &["--memory", "not a size"]),
        bad(8, "--memory=1k -- true", &["--memory", "below 6m"]),
        bad(8, "--pids-limit=0 -- true", &["--pids-limit", "no process"]),
        bad(8, "--pids-limit=-3 -- true", &["--pids-limit", "no process"]),
        bad(8, "--cpus=0 -- true", &["--cpus", "never"]),
        bad(8, "--cpus=1e9 -- true", &["--cpus", "more than the host has"]),
        // Lesson 09: whole seconds from 0 (the parser), up to what the
        // kernel's clocks can show (lesson 09's validate).
        bad(9, "--uptime -1 -- true", &["--uptime", "whole number of seconds"]),
        bad(9, "--uptime=abc -- true", &["--uptime", "whole number of seconds"]),
        bad(9, "--uptime=1.5 -- true", &["--uptime", "whole number of seconds"]),
        bad(9, "--uptime=4611686019 -- true", &["--uptime", "4611686018"]),
        // Lesson 10's validate: capability names and seccomp profiles.
        bad(10, "--cap-add NOPE -- true", &["NOPE", "capabilities(7)"]),
        bad(10, "--cap-drop", &["--cap-drop", "value"]),
        bad(10, &format!("--seccomp {missing} -- true"), &["--seccomp", "no such file"]),
        bad(10, "--seccomp /etc/hostname -- true", &["--seccomp", "not supported"]),
        bad(4, "--cap-add SYS_TIME -- true", &["--cap-add", "(harden)"]),
        // No root, no namespaces; without root, only one's own id, and no
        // bridge on the host.
        BadInput {
            unprivileged: true,
            ..bad(4, "--quiet -- true", &["clone", "EPERM", "root"])
        },
        BadInput {
            unprivileged: true,
            ..bad(5, "--uid-map=0:0:1 -- true", &["--uid-map", "0:0:1", "newuidmap"])
        },
        BadInput {
            unprivileged: true,
            ..bad(5, "--gid-map=0:65534:2 -- true", &["--gid-map", "0:65534:2", "newgidmap"])
        },
        BadInput {
            unprivileged: true,
            ..bad(6, "--net=bridge -- true", &["--net bridge", "needs root"])
        },
        BadInput {
            unprivileged: true,
            ..bad(8, "--memory=64m -- true", &["memory 64m", "need root"])
        },
    ]
    .into_iter()
    .filter(|case| case.level <= latest())
    .collect()
}

/// At least 25 bad invocations across the lessons: each gives exactly one
/// line on stderr that names the problem and says what to do, exit status
/// 125, nothing on stdout, and leaves the host exactly as it was.
#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn bad_inputs_are_one_line_naming_the_fix_125_and_no_host_change() {
    let _host = HostGuard::begin();
    let cases = bad_inputs();
    assert!(
        cases.len() >= 25,
        "the table should hold at least 25 bad inputs"
    );
    for case in cases {
        let guard = HostGuard::begin();
        let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
        let solution = Container::solution(case.level);
        let runner = if case.unprivileged {
            solution.by_nobody()
        } else {
            solution
        };
        let outcome = runner.tool(&args);
        let names: Vec<&str> = case.names.iter().map(String::as_str).collect();
        outcome.expect_one_error_line(125, &names).expect_stdout("");
        if !outcome.stderr.contains("(fix: ") {
            outcome.fail("should say what to do about it, as `(fix: ...)`");
        }
        guard.end(format!("`{}`", outcome.invocation));
    }
}

/// SIGKILL the runtime at every step of its life (the core's fault hook),
/// in each variant, then at random moments, then while the container has
/// background processes: at least 100 kills. After each, `just clean`
/// must leave the host as it was (no mount, state entry or process), and
/// no process of the container may survive its runtime.
#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn killing_the_runtime_anywhere_leaves_nothing_after_just_clean() {
    let _host = HostGuard::begin();
    let mut kills = 0;
    let mut after_kill = |killed: Killed, guard: HostGuard| {
        just_clean();
        expect_nothing_left_running(&killed);
        guard.end(format!("{} and `just clean`", killed.what));
        kills += 1;
    };

    for container in variants_to_kill() {
        for step in steps(&container, &["true"]) {
            let guard = HostGuard::begin();
            after_kill(kill_at_step(&container, &["true"], &step), guard);
        }
        let background = "sleep 300 & sleep 300 & echo ready; exec sleep 300";
        let guard = HostGuard::begin();
        after_kill(
            kill_when_ready(&container, &["sh", "-c", background]),
            guard,
        );
    }

    // Random moments over a whole run, however long a run takes here.
    let started = Instant::now();
    Container::solution(latest())
        .run(&["true"])
        .expect_success();
    let lifetime = started.elapsed().as_micros().max(1000) as u64;
    let mut random_kills = 0;
    for attempt in 0..1000 {
        if random_kills >= 50 {
            break;
        }
        let all = variants_to_kill();
        let container = &all[attempt % all.len()];
        let delay = u64::from_str_radix(&random_hex(4), 16).unwrap() % lifetime;
        let guard = HostGuard::begin();
        match kill_after(container, &["true"], Duration::from_micros(delay)) {
            Some(killed) => {
                after_kill(killed, guard);
                random_kills += 1;
            }
            None => guard.end("a run that ended before the kill came"),
        }
    }
    assert!(
        kills >= 100,
        "the check should kill the runtime at least 100 times, but only {kills} kills landed"
    );
}

/// Every exit status 0..=255 passes through unchanged, with and without
/// lesson 03's init (which computes the status itself).
#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn every_exit_status_from_0_to_255_passes_through() {
    let _host = HostGuard::begin();
    for container in with_nobody().iter().filter(|c| !c.has_flag("--rootfs")) {
        for status in 0..=255 {
            container
                .run(&["sh", "-c", &format!("exit {status}")])
                .expect_status(status);
        }
    }
}

/// SIGINT, SIGTERM and SIGHUP sent to the runtime reach the command, which
/// handles each and exits with a status of its choosing.
#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn sigint_sigterm_and_sighup_to_the_runtime_reach_the_command() {
    let _host = HostGuard::begin();
    for container in with_nobody() {
        for (signal, status) in [
            (Signal::SIGINT, 71),
            (Signal::SIGTERM, 72),
            (Signal::SIGHUP, 73),
        ] {
            let script = trapping(&signal.as_str()[3..], status);
            container
                .signal_when_ready(&["sh", "-c", &script], signal, Duration::from_secs(30))
                .expect_status(status.into());
        }
    }
}

/// A command that leaves background processes behind, whether it exits by
/// itself or on a forwarded signal: once the runtime has exited, none of
/// the container's processes exists on the host, not even as a zombie.
#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn the_runtime_leaves_no_zombie_and_no_orphan_on_the_host() {
    let _host = HostGuard::begin();
    // Three ways to leave a process behind: a background job, an orphan
    // (its parent, a subshell, is gone), a session of its own.
    let background = "{ sleep 300 & (sleep 300 &); setsid sleep 300 & } >/dev/null 2>&1";
    for container in with_nobody() {
        for (script, status) in [
            (format!("{background}; echo ready; sleep 1; exit 5"), 5),
            (
                format!(
                    "trap 'exit 6' TERM; {background}; echo ready; while :; do sleep 0.05; done"
                ),
                6,
            ),
        ] {
            let mut running = container.start_until_ready(&["sh", "-c", &script]);
            let below = descendants_of(running.runtime_pid());
            if status == 6 {
                running.signal_runtime(Signal::SIGTERM);
            }
            let outcome = running.finish();
            outcome.expect_status(status);
            let left = eventually(Duration::from_secs(10), || {
                let left: Vec<Process> = below.iter().filter(|p| p.exists()).cloned().collect();
                if left.is_empty() {
                    Ok(())
                } else {
                    Err(describe(&left))
                }
            });
            if let Err(left) = left {
                drop(crate::support::procs::KillOnDrop(below.clone()));
                outcome.fail(&format!(
                    "should leave none of the container's processes on the host once it has \
                     exited, but these are still there:\n{left}"
                ));
            }
        }
    }
}

/// Inside, the command has stdin, stdout and stderr and nothing else, even
/// when the runtime was started with more (here descriptor 7, as a
/// shell's `exec 7<file` or a supervisor would hand it).
#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn only_stdin_stdout_and_stderr_reach_the_command() {
    let _host = HostGuard::begin();
    // `ls /proc/self/fd` would list ls's own descriptor for the directory
    // it reads; the shell's are the command's.
    let list_the_shells = ["sh", "-c", "ls /proc/$$/fd; true"];
    for container in with_nobody() {
        let runtime = container.shell_command(&list_the_shells);
        let started_with_fd_7 = format!("exec 7</dev/null; exec {runtime}");
        let outcome = Outcome::of_host_command("sh", &["-c", &started_with_fd_7]);
        outcome.expect_success();
        let mut open: Vec<&str> = outcome.stdout.split_whitespace().collect();
        open.sort();
        if open != ["0", "1", "2"] {
            outcome.fail(&format!(
                "should show only descriptors 0, 1 and 2 inside, not {open:?}: the container \
                 must not inherit the runtime's other descriptors (here 7)"
            ));
        }
    }
}

/// The container's environment is the runtime's policy, never the host's:
/// `PATH`, `HOME`, `HOSTNAME`, `container`, and `TERM` only if the host
/// has one (docs/decisions/0016-what-the-command-inherits.md).
#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn no_host_environment_variable_leaks_in() {
    let _host = HostGuard::begin();
    let secret = random_hex(8);
    for container in with_nobody() {
        for term in [Some("xterm-256color"), None] {
            let mut runtime = container.command(&["env"]);
            runtime
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("NSLAB_SECRET", &secret)
                .env("LANG", "C.UTF-8")
                .env("HOME", "/home/someone");
            if let Some(term) = term {
                runtime.env("TERM", term);
            }
            let output = runtime.output().expect("run the runtime");
            let outcome = Outcome::from_output(
                format!(
                    "NSLAB_SECRET={secret} HOME=/home/someone TERM={} {}",
                    term.unwrap_or(""),
                    container.invocation(&["env"])
                ),
                &output,
            );
            outcome.expect_success();
            let mut expected = vec![
                "HOME=/root".to_string(),
                "HOSTNAME=container".to_string(),
                format!("PATH={}", nslab_runtime::config::CONTAINER_PATH),
                "container=nslab".to_string(),
            ];
            expected.extend(term.map(|term| format!("TERM={term}")));
            expected.sort();
            let mut inside: Vec<&str> = outcome.stdout.lines().collect();
            inside.sort();
            if inside != expected {
                outcome.fail(&format!(
                    "should give the command exactly {expected:?} as its environment"
                ));
            }
        }
    }
}

/// Twenty containers on the bridge network at once: each leases an
/// address none of the others has, reaches the gateway (the bridge's
/// address on the host, the only address any of them sends to), and when
/// all have ended the host has no veth, lease, bridge or state entry left.
#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn twenty_bridged_containers_at_once_get_distinct_addresses_and_reach_the_gateway() {
    const CONTAINERS: usize = 20;
    let _host = HostGuard::begin();
    if latest() < 6 {
        return;
    }
    let gateway = gateway(&DEFAULT_SUBNET);
    let script = format!(
        "ip -o -4 address show dev eth0; ping -c1 -W5 {gateway} >/dev/null && echo reached; {}",
        trapping("TERM", 0)
    );
    // All start before any is waited for, so that they lease at once.
    let bridged = Container::solution(latest()).flag("--net").flag("bridge");
    let mut all: Vec<Running> = (0..CONTAINERS)
        .map(|_| bridged.start(&["sh", "-c", &script]))
        .collect();
    let mut addresses: Vec<Ipv4Addr> = Vec::new();
    for running in &mut all {
        let printed = running.lines_until("ready");
        match eth0_address(&printed.join("\n")) {
            Some(address) if is_a_containers_address(&DEFAULT_SUBNET, address) => {
                addresses.push(address)
            }
            _ => running.fail(&format!(
                "should have an address of {DEFAULT_SUBNET} on eth0"
            )),
        }
        if !printed.iter().any(|line| line == "reached") {
            running.fail(&format!(
                "should get an answer from the gateway {gateway} (`ping -c1 -W5 {gateway}`)"
            ));
        }
    }
    let mut distinct = addresses.clone();
    distinct.sort();
    distinct.dedup();
    assert!(
        distinct.len() == CONTAINERS,
        "{CONTAINERS} containers running at once should have {CONTAINERS} distinct addresses, \
         not {addresses:?}"
    );
    all.into_iter().for_each(|running| {
        stop(running);
    });
}
