//! Lesson 00 (clone): the container is a child process, and its exit
//! status follows Docker's rules.

use nix::sys::signal::Signal;
use serial_test::file_parallel;

use crate::support::{Container, HostGuard, Outcome, TempDir, random_hex};

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn output_of_the_command_arrives_untouched() {
    let _host = HostGuard::begin();
    let (out, err) = (random_hex(6), random_hex(6));
    let script = format!("echo {out}; echo {err} >&2");
    Container::for_lesson(0)
        .run(&["sh", "-c", &script])
        .expect_success()
        .expect_stdout(&format!("{out}\n"))
        .expect_stderr(&format!("{err}\n"));
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn exit_codes_pass_through() {
    let _host = HostGuard::begin();
    let random: Vec<u8> = (0..4)
        .map(|_| u8::from_str_radix(&random_hex(1), 16).unwrap())
        .collect();
    let container = Container::for_lesson(0);
    for code in [0, 1, 255].into_iter().chain(random) {
        container
            .run(&["sh", "-c", &format!("exit {code}")])
            .expect_status(i32::from(code));
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn killed_from_the_host_by_sigkill_gives_137() {
    let _host = HostGuard::begin();
    let mut running = Container::for_lesson(0).start(&["sh", "-c", "echo ready; exec sleep 30"]);
    running.expect_line("ready");
    running.signal_container(Signal::SIGKILL);
    running.finish().expect_status(128 + 9);
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn killed_by_its_own_sigterm_gives_143() {
    let _host = HostGuard::begin();
    let container = Container::for_lesson(0);
    let outcome = container.run(&["sh", "-c", "kill -TERM $$; echo survived"]);
    if container.target().level < 3 {
        outcome.expect_status(128 + 15).expect_stdout("");
    } else {
        // From lesson 03 on the command is PID 1 of its namespace, and the
        // kernel drops signals that PID 1 has no handler for, even its own
        // (chapter 03 explains why). The shell survives.
        outcome.expect_success().expect_stdout("survived\n");
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn a_missing_command_gives_127() {
    let _host = HostGuard::begin();
    let missing = format!("no-such-command-{}", random_hex(4));
    Container::for_lesson(0)
        .run(&[&missing])
        .expect_one_error_line(127, &[&missing])
        .expect_stdout("");
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn a_file_that_is_not_executable_gives_126() {
    let _host = HostGuard::begin();
    let dir = TempDir::new();
    let file = dir.path.join("not-a-program");
    std::fs::write(&file, "just text\n").expect("write a plain file");
    let file = file.to_string_lossy().into_owned();
    Container::for_lesson(0)
        .run(&[&file])
        .expect_one_error_line(126, &["not-a-program"])
        .expect_stdout("");
}

/// `exec` is given the container's environment; a call that takes none
/// (`execvp`) hands the command the runtime's own, whatever secret the
/// caller's shell holds.
#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn the_command_gets_the_containers_environment_not_the_hosts() {
    let _host = HostGuard::begin();
    let secret = random_hex(8);
    let container = Container::for_lesson(0);
    let script = "echo \"container=$container secret=$NSLAB_SECRET\"";
    let output = container
        .command(&["sh", "-c", script])
        .env("NSLAB_SECRET", &secret)
        .output()
        .expect("run the runtime");
    let outcome = Outcome::from_output(
        format!(
            "NSLAB_SECRET={secret} {}",
            container.invocation(&["sh", "-c", script])
        ),
        &output,
    );
    outcome.expect_success();
    if outcome.stdout != "container=nslab secret=\n" {
        outcome.fail(
            "should give the command exactly the environment `exec` gets as `env` \
             (container=nslab, and nothing of the runtime's own, like NSLAB_SECRET)",
        );
    }
}
