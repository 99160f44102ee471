//! The runtime core's own behaviour, whatever the lesson: the command
//! line, the transcript, refusals. The unprivileged ones run in plain
//! `cargo test`, as any user.

use std::path::Path;

use nslab_runtime::{registry, state};
use serial_test::{file_parallel, file_serial};

use crate::support::join::{Named, fresh_name, namespaces_of};
use crate::support::run::trapping;
use crate::support::target::{binary_names, binary_path};
use crate::support::{Container, HostGuard, Outcome, TempDir};

fn run_binary(name: &str, args: &[&str]) -> Outcome {
    let output = assert_cmd::Command::new(binary_path(name))
        .args(args)
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .expect("run the binary");
    Outcome::from_output(format!("{name} {}", args.join(" ")), &output)
}

/// `--help` lists the flags of this binary's lessons and no later ones;
/// an exercise binary's help is its solution's.
#[test]
fn help_lists_only_the_flags_of_lessons_so_far() {
    for name in binary_names().filter(|name| name.starts_with("solution")) {
        let help = run_binary(name, &["--help"]);
        help.expect_success().expect_stderr("");
        insta::assert_snapshot!(format!("help-{name}"), help.stdout);
        let exercise = name.replace("solution", "lesson");
        let exercise_help = run_binary(&exercise, &["--help"]).stdout;
        assert_eq!(exercise_help.replace(&exercise, name), help.stdout);
    }
}

#[test]
fn a_later_lessons_flag_is_refused_naming_that_lesson() {
    run_binary("solution-00", &["--hostname", "box", "--", "true"])
        .expect_one_error_line(125, &["--hostname", "lesson 01"])
        .expect_stdout("");
}

/// `--init` is lesson 03's: the binaries before it refuse it by name,
/// the learner's as well as the reference.
#[test]
fn init_before_lesson_03_is_refused_naming_lesson_03() {
    for name in ["solution-02", "lesson-02"] {
        run_binary(name, &["--init", "--", "true"])
            .expect_one_error_line(125, &["--init", "lesson 03"])
            .expect_stdout("");
    }
}

#[test]
fn a_command_without_the_double_dash_is_refused_with_the_fix() {
    run_binary("solution-01", &["hostname"]).expect_one_error_line(125, &["-- hostname"]);
}

#[test]
fn malformed_flags_are_one_line_and_125() {
    for args in [
        &["--no-such-flag"][..],
        &["--hostname"][..],
        &["-q", "-q"][..],
    ] {
        let mut args = args.to_vec();
        args.extend(["--", "true"]);
        run_binary("solution-01", &args).expect_one_error_line(125, &["--help"]);
    }
}

/// The transcript tells who does what, on stderr, in the articles' spirit.
#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn the_transcript_narrates_a_containers_life() {
    let _host = HostGuard::begin();
    let outcome = run_binary(
        "solution-01",
        &["--hostname", "box", "--", "sh", "-c", "exit 3"],
    );
    outcome.expect_status(3).expect_stdout("");
    insta::with_settings!({filters => vec![(r"(parent|container) \d+", "$1 [PID]"), (r"pid \d+", "pid [PID]")]}, {
        insta::assert_snapshot!(outcome.stderr);
    });
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn quiet_silences_the_transcript() {
    let _host = HostGuard::begin();
    run_binary("solution-01", &["--quiet", "--", "true"])
        .expect_success()
        .expect_stderr("");
}

/// Creating a UTS namespace needs CAP_SYS_ADMIN: as a normal user the
/// runtime must say so in one line, and say what to do.
#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn without_root_clone_fails_with_one_line_that_says_what_to_do() {
    let _host = HostGuard::begin();
    // `nobody` may not be able to reach target/, so run a copy.
    let dir = TempDir::new();
    let copy = dir.path.join("solution-01");
    std::fs::copy(binary_path("solution-01"), &copy).expect("copy the binary");
    let output = assert_cmd::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&copy)
        .args(["--quiet", "--", "true"])
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .expect("run setpriv");
    Outcome::from_output(
        "setpriv --reuid=65534 solution-01 --quiet -- true".into(),
        &output,
    )
    .expect_one_error_line(125, &["clone", "EPERM", "root"]);
}

/// `kill <runtime>` reaches the command, as with `docker run`.
#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn signals_sent_to_the_runtime_reach_the_command() {
    use nix::sys::signal::Signal;
    let _host = HostGuard::begin();
    for (signal, status) in [
        (Signal::SIGTERM, 42),
        (Signal::SIGINT, 43),
        (Signal::SIGHUP, 44),
    ] {
        let script = trapping(&signal.as_str()[3..], status);
        Container::for_lesson(1)
            .signal_when_ready(
                &["sh", "-c", &script],
                signal,
                std::time::Duration::from_secs(30),
            )
            .expect_status(status.into());
    }
}

/// Lesson 07's flags and tools are refused by name before it.
#[test]
fn name_keep_net_and_the_tools_before_lesson_07_are_refused_naming_lesson_07() {
    for name in ["solution-04", "lesson-04"] {
        for args in [
            &["--name", "web", "--", "true"][..],
            &["--keep-net", "web", "--", "true"],
            &["ps"],
            &["exec", "web", "--", "true"],
        ] {
            run_binary(name, args)
                .expect_one_error_line(125, &[args[0], "lesson 07"])
                .expect_stdout("");
        }
    }
}

/// `ps` lists a named container while it runs, and no longer once it
/// has ended; its registry entry goes with it.
#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn ps_lists_a_named_container_while_it_runs() {
    let _host = HostGuard::begin();
    let mut named = Named::start(Container::for_lesson(7), "true");
    let pid = named.pid().to_string();
    let ps = named.tool(&["ps"]);
    ps.expect_success();
    let listed = ps.stdout.lines().any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        fields.len() >= 4 && fields[0] == named.name && fields[1] == pid && fields[3] == "sh"
    });
    if !listed || !ps.stdout.starts_with("NAME") {
        ps.fail(&format!(
            "should list {} with its PID {pid} and its command under a NAME PID AGE COMMAND header",
            named.name
        ));
    }
    let name = named.name.clone();
    let tool = Container::for_lesson(7);
    named.stop();
    let after = tool.tool(&["ps"]);
    after.expect_success();
    if after.stdout.contains(&name) {
        after.fail(&format!(
            "should no longer list {name}: the container has ended"
        ));
    }
}

/// `ns NAME` shows, for every kind, what `readlink /proc/PID/ns/KIND`
/// says for the container and for the host.
#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn ns_shows_every_namespace_beside_the_hosts() {
    let _host = HostGuard::begin();
    let mut named = Named::start(Container::for_lesson(7), "true");
    let container = namespaces_of(named.pid());
    let host = namespaces_of(std::process::id() as i32);
    let outcome = named.tool(&["ns", &named.name]);
    outcome.expect_success();
    let rows: Vec<Vec<&str>> = outcome
        .stdout
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().collect())
        .collect();
    let shown_container: String = rows.iter().map(|row| format!("{}\n", row[1])).collect();
    let shown_host: String = rows.iter().map(|row| format!("{}\n", row[2])).collect();
    if shown_container != container || shown_host != host {
        outcome.fail(&format!(
            "should show the container's namespaces\n{container}beside the host's\n{host}"
        ));
    }
    insta::with_settings!({filters => vec![(r"\[\d+\]", "[ID]")]}, {
        insta::assert_snapshot!("ns-table", outcome.stdout);
    });
    named.stop();
}

/// A name is one running container's: a second one is refused before it
/// starts, with one line.
#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn a_name_already_running_is_refused() {
    let _host = HostGuard::begin();
    let named = Named::start(Container::for_lesson(7), "true");
    Container::for_lesson(7)
        .narrated()
        .flag(format!("--name={}", named.name))
        .run(&["true"])
        .expect_one_error_line(125, &["--name", &named.name, "already running"]);
    named.stop();
}

/// The same for a network namespace name: `/run/netns/NAME` exists.
#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn a_kept_network_namespace_name_that_exists_is_refused() {
    let _host = HostGuard::begin();
    let named = Named::start_keeping_net(Container::for_lesson(7), "true");
    Container::for_lesson(7)
        .narrated()
        .flag(format!("--keep-net={}", named.name))
        .run(&["true"])
        .expect_one_error_line(125, &["--keep-net", "/run/netns", "already exists"]);
    named.stop();
}

#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn exec_into_a_name_that_is_not_running_is_refused() {
    let _host = HostGuard::begin();
    let name = fresh_name();
    Container::for_lesson(7)
        .tool(&["exec", &name, "--", "true"])
        .expect_one_error_line(125, &[&name, "not running"])
        .expect_stdout("");
    Container::for_lesson(7)
        .tool(&["ns", &name])
        .expect_one_error_line(125, &[&name, "not running"]);
}

/// A runtime killed by SIGKILL cannot remove its entry: the entry is then
/// stale, refused (one line, 125) and removed when seen, never trusted.
/// `just clean` removes the rest.
#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn a_stale_entry_of_a_killed_runtime_is_refused_and_removed() {
    let _host = HostGuard::begin();
    let named = Named::start(Container::for_lesson(7), "true");
    let (name, runtime) = (named.name.clone(), named.runtime_pid());
    let tool = Container::for_lesson(7);
    named.kill_runtime();
    let link = registry::name_path(Path::new(state::ROOT_STATE_DIR), &name);
    let left_behind = std::fs::symlink_metadata(&link).is_ok();
    let exec = tool.tool(&["exec", &name, "--", "true"]);
    let removed = std::fs::symlink_metadata(&link).is_err();
    let ps = tool.tool(&["ps"]);
    // `just clean`, before any expectation can fail: the host guard
    // would report the dead runtime's directory as well.
    let cleaned = state::clean(Path::new(state::ROOT_STATE_DIR)).expect("just clean");
    assert!(
        left_behind,
        "a runtime killed by SIGKILL should have left {} behind",
        link.display()
    );
    exec.expect_one_error_line(125, &[&name, "not running", "stale"]);
    assert!(
        removed,
        "`exec` should have removed the stale entry {}",
        link.display()
    );
    ps.expect_success();
    if ps.stdout.contains(&name) {
        ps.fail(&format!(
            "should not list {name}: its runtime (pid {runtime}) was killed"
        ));
    }
    assert!(
        cleaned
            .iter()
            .any(|line| line.contains(&runtime.to_string())),
        "`just clean` should remove what the runtime {runtime} left: {cleaned:?}"
    );
}
