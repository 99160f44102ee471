//! The runtime core's own behaviour, whatever the lesson: the command
//! line, the transcript, refusals. The unprivileged ones run in plain
//! `cargo test`, as any user.

use serial_test::file_parallel;

use crate::support::run::{run_binary, run_binary_as_nobody, trapping};
use crate::support::target::binary_names;
use crate::support::{Container, HostGuard};

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
    run_binary_as_nobody("solution-01", &["--quiet", "--", "true"])
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
