//! Lesson 09 (time): `--uptime SECONDS` gives the container a time
//! namespace whose monotonic and boot-time clocks read SECONDS when it
//! starts; the wall clock stays the host's. The container's processes
//! (lesson 03's init too) are in it, so lesson 07's `exec` joins it.
//!
//! The checks read the clocks with real tools inside (`cat /proc/uptime`,
//! `date`) and with `clocks.c`, a static helper that calls
//! clock_gettime(2) as any program would. None of them sets a clock.

use serial_test::{file_parallel, file_serial};

use crate::support::clocks::{Clocks, clocks_helper, host_clocks, offsets_of, uptime_of};
use crate::support::join::Named;
use crate::support::mounts::shared_rootfs_flag;
use crate::support::{Container, HostGuard, Outcome, TempDir, host_namespace};

/// How long a container may take to start and read its clock, in seconds:
/// generous, for a loaded machine.
const SLACK: f64 = 5.0;

/// The kernel's largest clock value for a time namespace, KTIME_SEC_MAX / 2.
const MAX_UPTIME: u64 = 4_611_686_018;

fn lesson_09() -> Container {
    Container::for_lesson(9)
}

fn with_uptime(seconds: u64) -> Container {
    lesson_09().flag(format!("--uptime={seconds}"))
}

/// The boot-time clock a container printed with `cat /proc/uptime`.
fn uptime_inside(outcome: &Outcome) -> f64 {
    outcome.expect_success();
    uptime_of(&outcome.stdout)
        .unwrap_or_else(|| outcome.fail("should print /proc/uptime: two numbers, uptime first"))
}

/// `value` must be in `[expected, expected + SLACK)`.
fn expect_near(outcome: &Outcome, what: &str, value: f64, expected: f64, why: &str) {
    if !(expected..expected + SLACK).contains(&value) {
        outcome.fail(&format!(
            "should show {what} between {expected} and {} seconds, not {value}: {why}",
            expected + SLACK
        ));
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn uptime_0_makes_a_fresh_machine() {
    let _host = HostGuard::begin();
    let host = host_clocks().boottime;
    assert!(
        host > 2.0 * SLACK,
        "the host must have been up for more than {} seconds",
        2.0 * SLACK
    );
    let outcome = with_uptime(0).run(&["cat", "/proc/uptime"]);
    let inside = uptime_inside(&outcome);
    expect_near(
        &outcome,
        "an uptime",
        inside,
        0.0,
        &format!(
            "the host has been up {host:.0} s; the boot-time clock's offset must be written \
             before anyone is in the namespace, then the container must enter it"
        ),
    );
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn timens_offsets_show_how_far_each_clock_was_moved() {
    let _host = HostGuard::begin();
    let before = host_clocks();
    let outcome = with_uptime(0).run(&["cat", "/proc/self/timens_offsets"]);
    outcome.expect_success();
    let offsets = offsets_of(&outcome.stdout);
    let names: Vec<&str> = offsets.iter().map(|(clock, _, _)| clock.as_str()).collect();
    if names != ["monotonic", "boottime"] {
        outcome
            .fail("should print two lines, monotonic then boottime, as the kernel shows offsets");
    }
    for ((clock, seconds, nanoseconds), host) in
        offsets.iter().zip([before.monotonic, before.boottime])
    {
        let offset = *seconds as f64 + *nanoseconds as f64 / 1e9;
        // --uptime 0 moves each clock back by what it read: about -host.
        if !(-host - SLACK..=-host + 0.5).contains(&offset)
            || !(0..1_000_000_000).contains(nanoseconds)
        {
            outcome.fail(&format!(
                "should show the {clock} clock moved back by what it read on the host (about \
                 -{host:.0} s, nanoseconds from 0 to 999999999): each clock gets its own offset, \
                 --uptime minus what that clock reads now"
            ));
        }
    }
    insta::assert_snapshot!("timens-offsets-shape", shape_of_offsets(&outcome.stdout));
}

/// The offsets with their numbers replaced by what they must be.
fn shape_of_offsets(text: &str) -> String {
    offsets_of(text)
        .iter()
        .map(|(clock, seconds, _)| {
            let sign = if *seconds < 0 { "-SECONDS" } else { "SECONDS" };
            format!("{clock} {sign} NANOSECONDS\n")
        })
        .collect()
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn uptime_86400_is_a_day_and_the_monotonic_clock_agrees() {
    let _host = HostGuard::begin();
    let tools = TempDir::new();
    let clocks = clocks_helper(&tools.path);
    let command = format!("cat /proc/uptime; {clocks}");
    let outcome = with_uptime(86_400).run(&["sh", "-c", &command]);
    let uptime = uptime_inside(&outcome);
    let read = Clocks::of(&outcome);
    let why = "--uptime sets both clocks a time namespace moves, monotonic and boottime";
    expect_near(&outcome, "/proc/uptime", uptime, 86_400.0, why);
    expect_near(&outcome, "CLOCK_BOOTTIME", read.boottime, 86_400.0, why);
    expect_near(&outcome, "CLOCK_MONOTONIC", read.monotonic, 86_400.0, why);
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn the_wall_clock_is_the_hosts() {
    let _host = HostGuard::begin();
    let before = host_clocks().realtime as u64;
    let outcome = with_uptime(86_400).run(&["date", "+%s"]);
    let after = host_clocks().realtime as u64;
    outcome.expect_success();
    let inside: u64 = outcome
        .stdout
        .trim()
        .parse()
        .unwrap_or_else(|_| outcome.fail("should print the date in seconds since 1970"));
    if inside + 1 < before || inside > after + 1 {
        outcome.fail(&format!(
            "should print the host's date ({before} to {after}, give or take a second): \
             CLOCK_REALTIME is not namespaced, only monotonic and boottime are"
        ));
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn the_time_namespace_is_its_own_and_its_children_stay_in_it() {
    let _host = HostGuard::begin();
    let outcome = with_uptime(0).run(&[
        "readlink",
        "/proc/self/ns/time",
        "/proc/self/ns/time_for_children",
    ]);
    outcome.expect_success();
    let host = host_namespace("time");
    let lines: Vec<&str> = outcome.stdout.lines().collect();
    if lines.len() != 2 || !lines[0].starts_with("time:[") || lines[0] == host {
        outcome.fail(&format!(
            "should print a time namespace other than the host's {host}: the container's \
             processes must enter the namespace made for them, not only their children"
        ));
    }
    if lines[1] != lines[0] {
        outcome.fail(
            "should print the same namespace twice: once the container is in its time \
             namespace, the processes it starts must be in it too (time_for_children)",
        );
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn with_init_pid_1_is_in_the_time_namespace_too() {
    let _host = HostGuard::begin();
    let script = "readlink /proc/1/ns/time; readlink /proc/self/ns/time; cat /proc/uptime";
    // From lesson 10 on, a hardened command may not look into PID 1's
    // namespaces, since init keeps more capabilities than it has.
    let outcome = with_uptime(0)
        .unhardened()
        .flag("--init")
        .flag("--rootfs")
        .flag(shared_rootfs_flag())
        .run(&["sh", "-c", script]);
    outcome.expect_success();
    let lines: Vec<&str> = outcome.stdout.lines().collect();
    let host = host_namespace("time");
    if lines.len() != 3 || lines[0] != lines[1] || lines[0] == host {
        outcome.fail(&format!(
            "should print the same time namespace for PID 1 (lesson 03's init) and the \
             command, not the host's {host}: init forks the command in its `in_child` and \
             never execs, so the namespace must be made and entered before, in \
             `first_in_child`"
        ));
    }
    let uptime = uptime_of(lines[2]).unwrap_or(f64::NAN);
    expect_near(
        &outcome,
        "an uptime",
        uptime,
        0.0,
        "--init must not change the clocks",
    );
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn without_uptime_the_container_keeps_the_hosts_clocks() {
    let _host = HostGuard::begin();
    let tools = TempDir::new();
    let clocks = clocks_helper(&tools.path);
    let before = host_clocks().boottime;
    let script = format!("readlink /proc/self/ns/time; {clocks}");
    let outcome = lesson_09().run(&["sh", "-c", &script]);
    outcome.expect_success();
    let host = host_namespace("time");
    if outcome.stdout.lines().next() != Some(host.as_str()) {
        outcome.fail(&format!(
            "should print the host's time namespace {host}: without --uptime there is \
             nothing to move, and no time namespace"
        ));
    }
    let read = Clocks::of(&outcome);
    expect_near(
        &outcome,
        "CLOCK_BOOTTIME",
        read.boottime,
        before,
        "the host's clock, unmoved",
    );
}

#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn exec_joins_the_time_namespace_and_sees_the_same_uptime() {
    let _host = HostGuard::begin();
    for init in [false, true] {
        let mut container = with_uptime(86_400);
        if init {
            container = container.flag("--init");
        }
        let mut named = Named::start(container, "true");
        let pid = named.pid().to_string();
        let table = named.tool(&["ns", &named.name]);
        table.expect_success();
        let row = table.stdout.lines().find(|line| line.starts_with("time "));
        if !row.is_some_and(|row| row.ends_with(" own")) {
            table.fail("should show the container's own time namespace on its `time` row");
        }
        let outcome = named.exec(&["sh", "-c", "readlink /proc/self/ns/time; cat /proc/uptime"]);
        outcome.expect_success();
        let lines: Vec<&str> = outcome.stdout.lines().collect();
        let container_ns = crate::support::namespace_of(&pid, "time");
        if lines.first() != Some(&container_ns.as_str()) {
            outcome.fail(&format!(
                "should run in the container's time namespace {container_ns} (its first \
                 process's, `--init` {init}): every process of the container, init too, is in it"
            ));
        }
        let uptime = lines
            .get(1)
            .and_then(|line| uptime_of(line))
            .unwrap_or(f64::NAN);
        if !(86_400.0..86_400.0 + 60.0).contains(&uptime) {
            outcome.fail(&format!(
                "should see the container's uptime, a little over 86400 s, not {uptime} \
                 (`--init` {init})"
            ));
        }
        named.stop();
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn a_normal_user_gets_the_uptime_too() {
    let _host = HostGuard::begin();
    let outcome = with_uptime(0).by_nobody().run(&["cat", "/proc/uptime"]);
    let inside = uptime_inside(&outcome);
    expect_near(
        &outcome,
        "an uptime",
        inside,
        0.0,
        "as nobody, the time namespace is made inside the container's user namespace, whose \
         root may set its clocks: make it after lesson 05's `first_in_child`",
    );
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn an_uptime_beyond_the_kernels_clocks_is_refused_before_anything_starts() {
    let _host = HostGuard::begin();
    let too_far = MAX_UPTIME + 1;
    let outcome = with_uptime(too_far).run(&["true"]);
    outcome.expect_one_error_line(
        125,
        &["--uptime", &too_far.to_string(), &MAX_UPTIME.to_string()],
    );
    let outcome = with_uptime(MAX_UPTIME).run(&["cat", "/proc/uptime"]);
    let inside = uptime_inside(&outcome);
    expect_near(
        &outcome,
        "an uptime",
        inside,
        MAX_UPTIME as f64,
        "the largest uptime the kernel takes must work",
    );
}
