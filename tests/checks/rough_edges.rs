//! What a learner ran into on the way through the course (issue 13), each
//! shown gone: a `--volume X:/data` run on the course rootfs, a lesson 06
//! whose `cleanup` forgot the network, a killed runtime whose records are
//! gone, `exec` into a container that is still being set up, and signals
//! sent to `exec`.
//!
//! Like the reliability suite, these grade the runtime, not a lesson:
//! they run the reference binaries. Two of them then run a lesson's whole
//! set of checks in a child process, as `just lesson N` does, to show that
//! they pass on a host (or rootfs) left that way. The checks it runs take
//! the host lock themselves: lesson 04's only share it, so that check
//! shares it too; lesson 06's some take it alone, so that check holds it
//! only while it changes the host.

use std::fs;
use std::path::Path;
use std::process::Command;

use nix::sys::signal::Signal;
use nslab_runtime::fault::SKIP_VARIABLE;
use nslab_runtime::leftovers;
use nslab_runtime::network::{BRIDGE, NAT_TABLE};
use nslab_runtime::state::{self, ROOT_STATE_DIR};
use serial_test::{file_parallel, file_serial};

use crate::support::faults::{just_clean, kill_stopped, steps, stop_at_step};
use crate::support::join::Named;
use crate::support::mounts::{COURSE_ROOTFS_VARIABLE, PrivateRootfs};
use crate::support::net::{forwarding, nat_table};
use crate::support::run::trapping;
use crate::support::{Container, HostGuard, Outcome, TempDir};

/// Run every check of `module` (`lesson04::`) in a child process of the
/// checks binary, with `env`, and fail with their report unless all pass.
fn expect_checks_pass(module: &str, env: &[(&str, &str)], after: &str) {
    let checks = std::env::current_exe().expect("find the checks binary");
    let output = Command::new(&checks)
        .args([module, "--include-ignored", "--test-threads", "2"])
        .envs(env.iter().copied())
        .env("INSTA_UPDATE", "no")
        .output()
        .expect("run the checks binary");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success()
            && stdout.contains("test result: ok.")
            && !stdout.contains("ok. 0 passed"),
        "the {module} checks should pass {after}, but:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// After `docker run -v X:/data`-style experiments on the course rootfs
/// (the runtime makes the mount point /data in it, as runc does), lesson
/// 04's checks still pass: none depends on the rootfs being untouched.
/// The rootfs is a copy standing in for the course's, so that checks
/// running meanwhile never see it change.
#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn lesson_04_checks_pass_on_a_course_rootfs_a_volume_run_changed() {
    let rootfs = PrivateRootfs::new();
    let _ = fs::remove_dir(rootfs.path.join("data"));
    let volume = TempDir::new();
    {
        let _host = HostGuard::begin();
        Container::solution(4)
            .flag("--rootfs")
            .flag(rootfs.flag())
            .flag("--volume")
            .flag(format!("{}:/data", volume.path.display()))
            .run(&["true"])
            .expect_success();
    }
    assert!(
        rootfs.path.join("data").is_dir(),
        "the --volume run should have made /data in the rootfs, as a learner's does"
    );
    expect_checks_pass(
        "lesson04::",
        &[(COURSE_ROOTFS_VARIABLE, &rootfs.flag())],
        "on a course rootfs where a `--volume X:/data` run made /data",
    );
}

/// Lesson 06 with a `cleanup` that forgets `network::release`: the core
/// undoes the lease (the bridge, the table, forwarding) and fails the run
/// naming lesson 06, so nothing is left for the next run to trip over.
/// Then `just clean`, and the correct code's checks pass.
#[test]
#[ignore = "needs root"]
fn a_lesson_06_cleanup_that_forgets_the_network_leaves_the_next_run_correct() {
    serial_test::fs_serial_core(vec!["host"], None, run_lesson_06_forgetting_its_cleanup);
    expect_checks_pass(
        "lesson06::",
        &[],
        "after a run whose cleanup forgot the network, and `just clean`",
    );
}

fn run_lesson_06_forgetting_its_cleanup() {
    let _host = HostGuard::begin();
    let forwarding_before = forwarding();
    let container = Container::solution(6)
        .flag("--net")
        .flag("bridge")
        .flag("--nat");
    let output = container
        .command(&["true"])
        .env(SKIP_VARIABLE, "cleanup-6")
        .output()
        .expect("run the runtime");
    let outcome = Outcome::from_output(
        format!(
            "{SKIP_VARIABLE}=cleanup-6 {}",
            container.invocation(&["true"])
        ),
        &output,
    );
    if outcome.status == Some(0) || !outcome.stderr.contains("lesson 06's cleanup") {
        outcome.fail(
            "should fail, naming lesson 06's cleanup, when that cleanup leaves its network \
             lease behind",
        );
    }
    if link_exists(BRIDGE) || nat_table().is_some() || forwarding() != forwarding_before {
        outcome.fail(&format!(
            "should leave no bridge {BRIDGE}, no table ip {NAT_TABLE} and IPv4 forwarding at \
             {forwarding_before} (it is {}): the core undoes what a cleanup forgot",
            forwarding()
        ));
    }
    just_clean();
}

/// A runtime killed while its container ran with `--nat`, whose state
/// directory was then lost (the case `just clean` once missed): the
/// bridge, the table and forwarding have no lease left. The checks refuse
/// to start ("leftovers of an earlier run"), `just clean` finds them by
/// what they are and puts forwarding back from the host-wide record, and
/// then nothing is left.
#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn leftovers_without_a_record_are_found_refused_and_cleaned() {
    let forwarding_before = forwarding();
    {
        let _host = HostGuard::begin();
    }
    let container = Container::solution(6)
        .flag("--net")
        .flag("bridge")
        .flag("--nat");
    let command = ["sleep", "30"];
    let runtime = stop_at_step(&container, &command, "running");
    let runtime_pid = runtime.id();
    let killed = kill_stopped(runtime, "killed at running".into());
    drop(killed);
    fs::remove_dir_all(state::container_dir_of(
        Path::new(ROOT_STATE_DIR),
        nix::unistd::Pid::from_raw(runtime_pid as i32),
    ))
    .expect("lose the killed runtime's state directory");
    let refusal = leftovers::refuse_if_any();
    just_clean();
    let refusal = refusal.expect_err(
        "with the bridge and the NAT table of a killed runtime on the host, the checks should \
         refuse to start",
    );
    assert!(
        refusal.contains("leftovers of an earlier run: run `just clean`"),
        "{refusal}"
    );
    assert!(
        !link_exists(BRIDGE) && nat_table().is_none() && forwarding() == forwarding_before,
        "`just clean` should remove the bridge {BRIDGE} and the table ip {NAT_TABLE}, and put \
         IPv4 forwarding back to {forwarding_before} (it is {}), with no lease left to say so",
        forwarding()
    );
    assert_eq!(leftovers::look(), Vec::<String>::new());
}

fn link_exists(name: &str) -> bool {
    Path::new("/sys/class/net").join(name).exists()
}

/// `exec` into a container registered under its name but not yet set up
/// (the runtime stopped between lesson 07's registration and the
/// command's start) is refused as "still starting", after waiting a few
/// seconds for it, not let into a half-built container.
#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn exec_refuses_a_container_still_being_set_up() {
    let _host = HostGuard::begin();
    let name = format!("nslab-{}", crate::support::random_hex(3));
    let container = Container::solution(7).flag(format!("--name={name}"));
    let command = ["sleep", "30"];
    let all = steps(&container, &command);
    let registered = all
        .iter()
        .rposition(|step| step.starts_with("in_parent-"))
        .expect("the runtime names its in_parent steps");
    let ready = all
        .iter()
        .position(|step| step == "running")
        .expect("the runtime names its running step");
    // Right after the name is registered, and after the child was let go
    // (the runtime's own steps; the child's interleave with them).
    let between = [all[registered].as_str(), "released"];
    assert!(
        all[registered..ready].iter().any(|step| step == "released"),
        "the runtime should pass `released` between registering and running: {all:?}"
    );
    for step in between {
        let runtime = stop_at_step(&container, &command, step);
        let refused = container.tool(&["exec", &name, "--", "true"]);
        kill_stopped(runtime, format!("stopped at {step}"));
        just_clean();
        if refused.status == Some(0) || !refused.stderr.contains("still starting") {
            refused.fail(&format!(
                "should refuse, saying the container is still starting, while its runtime is \
                 stopped at {step}, between registering the name and the command's start"
            ));
        }
    }
}

/// `kill -TERM <exec>`, Ctrl-C (SIGINT) and a closed terminal (SIGHUP)
/// reach the command `exec` runs, as they reach a container's command
/// through the runtime.
#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn exec_forwards_sigterm_sigint_and_sighup_to_its_command() {
    let _host = HostGuard::begin();
    let named = Named::start(Container::solution(7), "true");
    for (signal, name, status) in [
        (Signal::SIGTERM, "TERM", 3),
        (Signal::SIGINT, "INT", 4),
        (Signal::SIGHUP, "HUP", 5),
    ] {
        let mut exec = named.start_exec(&["sh", "-c", &trapping(name, status)]);
        exec.lines_until("ready");
        exec.signal_runtime(signal);
        let outcome = exec.finish();
        if outcome.status != Some(i32::from(status)) {
            outcome.fail(&format!(
                "should pass {signal} on to the command, whose trap exits with {status}"
            ));
        }
    }
    named.stop();
}
