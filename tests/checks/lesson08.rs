//! Lesson 08 (cgroup): limits the container cannot escape, and a cgroup
//! namespace of its own. The limits are real: the kernel kills, refuses a
//! fork, or holds back the CPU, and the checks read what it did from the
//! cgroup's own files (v2's or v1's, whichever this host has). The host
//! guard fails any check that leaves a cgroup under `nslab`.
//!
//! The bad values of `--memory`, `--pids-limit` and `--cpus` are the
//! core's (see `runtime_core` and the reliability suite's table): they are
//! refused on the untouched exercise too.

use std::time::Duration;

use serial_test::file_parallel;

use crate::support::cgroup::ALLOCATE_64M;
use crate::support::cgroup::{self, cpu_seconds, existing_dirs_of, limit, skip_unless_v2};
use crate::support::join::Named;
use crate::support::mounts::shared_rootfs_flag;
use crate::support::run::Running;
use crate::support::{Container, HostGuard, expect_a_namespace_of_its_own};

fn lesson_08() -> Container {
    Container::for_lesson(8)
}

fn in_rootfs() -> Container {
    lesson_08().flag("--rootfs").flag(shared_rootfs_flag())
}

/// The runtime's lines on stderr that are neither the transcript nor the
/// command's: its own notices and errors, `lesson-08: ...` (found inside
/// a line too: a dying process may have left half a line before it).
fn runtime_lines(stderr: &str, binary: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|line| line.contains(&format!("{binary}: ")))
        .map(str::to_string)
        .collect()
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn over_its_memory_limit_the_command_is_killed_with_137_and_one_line() {
    let _host = HostGuard::begin();
    let container = lesson_08().flag("--memory=32m");
    let outcome = container.run(&["sh", "-c", ALLOCATE_64M]);
    if outcome.stdout.contains("survived") {
        outcome.fail(
            "should not survive holding 64 MiB under --memory 32m: the limit goes to memory.max \
             in bytes (v1: memory.limit_in_bytes), and the child must be in the cgroup (cgroup.procs) before \
             it runs",
        );
    }
    outcome.expect_status(137);
    let binary = container.target().name();
    let lines = runtime_lines(&outcome.stderr, &binary);
    let named = |line: &String| line.contains("--memory 32m") && line.contains("OOM");
    if lines.len() != 1 || !lines.iter().all(named) {
        outcome.fail(&format!(
            "should print exactly one line `{binary}: ...` naming the OOM killer and the limit \
             `--memory 32m`, read from the oom_kill line of memory.events before the cgroup is \
             removed"
        ));
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn work_within_the_memory_limit_passes() {
    let _host = HostGuard::begin();
    let outcome = lesson_08().flag("--memory=32m").run(&[
        "sh",
        "-c",
        "head -c 16m /dev/zero | tail -c 1 | wc -c",
    ]);
    outcome.expect_success();
    if outcome.stdout.trim() != "1" || outcome.stderr.contains("OOM") {
        outcome.fail(
            "should stream 16 MiB through a pipe under --memory 32m and print 1, with no word \
             of the OOM killer: memory.max is in bytes (33554432), not kilobytes or pages",
        );
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn pids_limit_10_stops_a_shell_at_about_10_processes_and_it_still_ends() {
    let _host = HostGuard::begin();
    let script = "i=0; while [ $i -lt 20 ]; do sleep 5 & i=$((i+1)); echo started $i; done";
    let outcome = in_rootfs()
        .flag("--pids-limit=10")
        .run(&["sh", "-c", script]);
    let started = outcome
        .stdout
        .lines()
        .filter(|line| line.starts_with("started"))
        .count();
    if started == 20 {
        outcome.fail(
            "should not start 20 background sleeps under --pids-limit 10: the limit goes to \
             pids.max, and the container must be in the cgroup (cgroup.procs) before it runs",
        );
    }
    if !(5..=10).contains(&started) || !outcome.stderr.contains("Resource temporarily unavailable")
    {
        outcome.fail(&format!(
            "should start about 9 sleeps (the shell is the 10th process) and then fail to fork \
             with \"Resource temporarily unavailable\"; it started {started}"
        ));
    }
    if matches!(outcome.status, None | Some(101 | 125)) {
        outcome.fail("should end with the shell's own status, the runtime having cleaned up");
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn cpus_0_2_holds_a_busy_loop_to_about_a_fifth_of_a_cpu() {
    let _host = HostGuard::begin();
    let busy = "timeout 1 sh -c 'while :; do :; done'; echo ready; exec sleep 30";
    let mut running = lesson_08().flag("--cpus=0.2").start(&["sh", "-c", busy]);
    running.lines_until("ready");
    let runtime = running.runtime_pid();
    let Some(used) = cpu_seconds(runtime) else {
        running.fail(&format!(
            "should have a cgroup nslab/{runtime} with CPU accounting (cpu.stat; v1 cpuacct.usage) \
             while it runs: create it and write the child's PID to its cgroup.procs"
        ));
    };
    if used > 0.3 {
        running.fail(&format!(
            "should use at most about 0.3 CPU-seconds in a 1-second busy loop under --cpus 0.2, \
             by its cgroup's own accounting; it used {used:.2}: cpu.max is \"QUOTA PERIOD\" in \
             microseconds, \"20000 100000\""
        ));
    }
    if used < 0.05 {
        running.fail(&format!(
            "should have its busy loop counted in its own cgroup; it used only {used:.3} \
             CPU-seconds there: the child's PID, not the runtime's, goes to cgroup.procs"
        ));
    }
    drop(running);
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn proc_self_cgroup_inside_shows_the_containers_cgroup_as_the_root() {
    let _host = HostGuard::begin();
    let outcome = lesson_08()
        .flag("--memory=64m")
        .run(&["cat", "/proc/self/cgroup"]);
    outcome.expect_success();
    let paths: Vec<&str> = outcome
        .stdout
        .lines()
        .filter_map(|line| line.splitn(3, ':').nth(2))
        .collect();
    if paths.is_empty() {
        outcome.fail("should print the process's cgroups, one line per tree");
    }
    if paths.iter().any(|path| path.starts_with("/..")) {
        outcome.fail(
            "should show `/`, not a path that climbs out (`/..`): the cgroup namespace was made \
             while the child was still in the runtime's cgroup (CLONE_NEWCGROUP in clone_flags); \
             unshare it in the child, after the parent moved it (enter_cgroup_namespace)",
        );
    }
    if paths.iter().any(|path| *path != "/") {
        outcome.fail(
            "should show `/` for every tree: in its own cgroup namespace the container's cgroup \
             is the root (unshare(CLONE_NEWCGROUP) in enter_cgroup_namespace)",
        );
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn the_cgroup_namespace_is_not_the_hosts() {
    let _host = HostGuard::begin();
    expect_a_namespace_of_its_own(&lesson_08(), "cgroup");
}

/// The look from outside: `/proc/PID/cgroup` of its first process names
/// `nslab/<runtime PID>`, whose files hold the limits, and `ps` shows them.
#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn while_it_runs_the_host_sees_it_in_nslab_with_its_limits() {
    let _host = HostGuard::begin();
    let container = lesson_08()
        .flag("--memory=64m")
        .flag("--pids-limit=100")
        .flag("--cpus=0.5");
    let mut named = Named::start(container, "true");
    let (pid, runtime) = (named.pid(), named.runtime_pid());
    let own = format!("/nslab/{runtime}");
    let seen = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    for controller in ["memory", "pids", "cpu"] {
        let tree = cgroup::tree_of(controller).expect("the host has the controller");
        let line = seen.lines().find(|line| {
            let fields: Vec<&str> = line.splitn(3, ':').collect();
            if tree.v2 {
                fields.first() == Some(&"0")
            } else {
                fields
                    .get(1)
                    .is_some_and(|list| list.split(',').any(|c| c == controller))
            }
        });
        if !line.is_some_and(|line| line.ends_with(&own)) {
            named.fail(&format!(
                "should show its first process (pid {pid}) in {own} for {controller} in \
                 /proc/{pid}/cgroup, read on the host; it shows:\n{seen}"
            ));
        }
    }
    for (file, expected) in [
        ("memory.max", "67108864"),
        ("pids.max", "100"),
        ("cpu.max", "50000 100000"),
    ] {
        let found = limit(runtime, file);
        if found != expected {
            named.fail(&format!(
                "should have {expected:?} in {file} (or its v1 file) of {own}; it has {found:?}"
            ));
        }
    }
    let ps = named.tool(&["ps"]);
    if !ps.stdout.contains("memory 64m, pids 100, cpus 0.5") {
        ps.fail("should list the container with its limits, `memory 64m, pids 100, cpus 0.5`");
    }
    // `exec` joins the container's cgroup as well as its namespaces.
    let inside = named.exec(&["cat", "/proc/self/cgroup"]);
    inside.expect_success();
    if inside.stdout.lines().any(|line| !line.ends_with(":/")) {
        inside.fail("should show `/` for every tree: `exec` runs in the container's cgroup");
    }
    named.stop();
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn with_rootfs_sys_fs_cgroup_shows_only_its_own_cgroup_read_only() {
    let _host = HostGuard::begin();
    let limit_file = if cgroup::is_v2("memory") {
        "/sys/fs/cgroup/memory.max"
    } else {
        "/sys/fs/cgroup/memory/memory.limit_in_bytes"
    };
    let script = format!(
        "cat {limit_file}; ls -R /sys/fs/cgroup | grep -c nslab; \
         mkdir {}/escape 2>&1 || true",
        limit_file.rsplit_once('/').map_or("", |(dir, _)| dir)
    );
    let outcome = in_rootfs().flag("--memory=64m").run(&["sh", "-c", &script]);
    let lines: Vec<&str> = outcome.stdout.lines().collect();
    if lines.first() != Some(&"67108864") {
        outcome.fail(&format!(
            "should read its own limit, 67108864, in {limit_file}: the cgroup file system is \
             mounted from inside the cgroup namespace, whose root is the container's cgroup"
        ));
    }
    if lines.get(1) != Some(&"0") {
        outcome.fail(
            "should see no `nslab` under /sys/fs/cgroup: mounted in the container's own cgroup \
             namespace, the tree starts at its cgroup; without one it starts above it",
        );
    }
    if !outcome.stdout.contains("Read-only file system") {
        outcome.fail("should not be able to make a cgroup in /sys/fs/cgroup: it is read-only");
    }
}

/// After the command ends, normally or killed by the OOM killer, its
/// cgroup is gone from every tree.
#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn no_cgroup_is_left_after_exit_or_an_oom_kill() {
    let _host = HostGuard::begin();
    for (limits, command, status) in [
        ("--pids-limit=50", "true", 0),
        ("--memory=32m", ALLOCATE_64M, 137),
    ] {
        let running: Running = lesson_08()
            .flag(limits)
            .flag("--cpus=0.5")
            .start(&["sh", "-c", command]);
        let runtime = running.runtime_pid();
        let outcome = running.finish_within(Duration::from_secs(30));
        outcome.expect_status(status);
        let left = existing_dirs_of(runtime);
        if !left.is_empty() {
            outcome.fail(&format!(
                "should remove its cgroup once the command has ended (remove_cgroup, in \
                 cleanup); still there: {left:?}"
            ));
        }
    }
}

/// The v2 rule that v1 does not have: a controller works in a cgroup only
/// if its parent enables it in `cgroup.subtree_control`, and a cgroup
/// that enables controllers holds no process. Skipped, with a line that
/// says so, on a host whose controllers are v1.
#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn on_cgroup_v2_nslab_enables_the_controllers_and_holds_no_process() {
    let _host = HostGuard::begin();
    if skip_unless_v2("nslab's cgroup.subtree_control") {
        return;
    }
    let mut named = Named::start(
        lesson_08().flag("--memory=64m").flag("--pids-limit=100"),
        "true",
    );
    let tree = cgroup::tree_of("memory").expect("a v2 memory controller");
    let read = |file: &str| {
        std::fs::read_to_string(tree.mount_point.join("nslab").join(file)).unwrap_or_default()
    };
    let enabled = read("cgroup.subtree_control");
    for controller in ["memory", "pids"] {
        if !enabled.split_whitespace().any(|c| c == controller) {
            named.fail(&format!(
                "should enable {controller} in /sys/fs/cgroup/nslab/cgroup.subtree_control (it \
                 has {enabled:?}): write \"+{controller}\" there before the container's cgroup \
                 needs it"
            ));
        }
    }
    if !read("cgroup.procs").trim().is_empty() {
        named.fail("should keep nslab itself empty of processes: put the child in nslab/<id>");
    }
    named.stop();
}
