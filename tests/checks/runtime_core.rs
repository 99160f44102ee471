//! The runtime core's own behaviour, whatever the lesson: the command
//! line, the transcript, refusals. The unprivileged ones run in plain
//! `cargo test`, as any user.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::sys::signal::Signal;
use nix::unistd::Pid;
use nslab_runtime::config::DEFAULT_SUBNET;
use nslab_runtime::{leftovers, registry, state};
use serial_test::{file_parallel, file_serial};

use crate::support::host::state_root;
use crate::support::join::{Named, fresh_name, namespaces_of};
use crate::support::net::{bridge, forwarding, lease_file, nat_table, random_octet};
use crate::support::run::{run_binary, run_binary_with, trapping};
use crate::support::target::{Binary, Flavour};
use crate::support::{Container, HostGuard, NOBODY, Outcome};

/// `--help` lists the flags of this binary's lessons and no later ones;
/// an exercise binary's help is its solution's. (`mine-NN` are built by
/// their own package, only when asked, so they are not here.)
#[test]
fn help_lists_only_the_flags_of_lessons_so_far() {
    for solution in Binary::all().filter(|b| b.flavour == Flavour::Solution) {
        let name = solution.name();
        let help = run_binary(&name, &["--help"]);
        help.expect_success().expect_stderr("");
        insta::assert_snapshot!(format!("help-{name}"), help.stdout);
        let exercise = solution.with_flavour(Flavour::Exercise).name();
        let exercise_help = run_binary(&exercise, &["--help"]).stdout;
        assert_eq!(exercise_help.replace(&exercise, &name), help.stdout);
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

/// An argument that is not UTF-8 (a file name in another encoding) gets
/// one line naming the fix, never a panic: as a flag's value, in the
/// command, and where lesson 11 looks for an OCI command.
#[test]
fn an_argument_that_is_not_utf8_is_one_line_and_125() {
    let latin1 = OsStr::from_bytes(b"caf\xe9");
    let cases: [(&str, &[&OsStr]); 3] = [
        ("solution-01", &["--".as_ref(), "echo".as_ref(), latin1]),
        (
            "solution-11",
            &[
                "--hostname".as_ref(),
                latin1,
                "--".as_ref(),
                "true".as_ref(),
            ],
        ),
        ("solution-11", &[latin1, "create".as_ref()]),
    ];
    for (binary, args) in cases {
        run_binary_with(binary, args)
            .expect_one_error_line(125, &["--help"])
            .expect_stdout("");
    }
    run_binary_with("solution-01", &["--".as_ref(), "echo".as_ref(), latin1])
        .expect_one_error_line(125, &["UTF-8"]);
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
    let solution_01 = Binary::new(Flavour::Solution, 1);
    Container::of(solution_01)
        .by_nobody()
        .run(&["true"])
        .expect_one_error_line(125, &["clone", "EPERM", "root"]);
}

/// A failure after `clone` ends the run at once, with one line: the child,
/// waiting for "go", sees its pipe closed and gives up. (It once held its
/// own copy of the pipe's write end, and waited forever.) Here `nobody`'s
/// state directory cannot be made: its `TMPDIR` is `/proc` (and the run
/// asks for one: see [`with_a_state_directory`]).
#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn a_setup_failure_after_clone_ends_the_run_with_one_line() {
    let _host = HostGuard::begin();
    let container = with_a_state_directory(Container::of(Binary::new(Flavour::Solution, 5)));
    let command = format!(
        "exec env -u XDG_RUNTIME_DIR TMPDIR=/proc {}",
        container.shell_command(&["true"])
    );
    Outcome::of_host_command("sh", &["-c", &command])
        .expect_one_error_line(125, &["state directory", "/proc/nslab-65534"]);
}

/// Id maps that are not `IN:OUT:LEN`, or map no id at all, are refused by
/// the parser, before any lesson code runs.
#[test]
fn malformed_id_maps_are_one_line_and_125() {
    for (flag, map) in [
        ("--uid-map", "0:1000"),
        ("--gid-map", "a:1000:1"),
        ("--uid-map", "0:1000:0"),
        ("--gid-map", "0:4294967295:1"),
    ] {
        run_binary("solution-05", &[flag, map, "--", "true"])
            .expect_one_error_line(125, &[flag, "--help"])
            .expect_stdout("");
    }
}

/// `kill <runtime>` reaches the command, as with `docker run`.
#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn signals_sent_to_the_runtime_reach_the_command() {
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

/// `--subnet` must be an IPv4 network with its host bits zero, `--net`
/// one of two words: the parser refuses anything else, before any lesson
/// code runs.
#[test]
fn malformed_network_flags_are_one_line_and_125() {
    for args in [
        &["--subnet", "10.77.0.1/24"][..],
        &["--subnet", "10.77.0.0/33"][..],
        &["--subnet", "10.77.0/24"][..],
        &["--net", "host"][..],
    ] {
        let mut args = args.to_vec();
        args.extend(["--", "true"]);
        run_binary("solution-06", &args).expect_one_error_line(125, &[args[0], "--help"]);
    }
}

/// The bridge serves one subnet at a time: while a container runs on
/// the default one, another subnet is refused, naming the one in use.
#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn a_second_subnet_is_refused_while_the_bridge_serves_another() {
    let _host = HostGuard::begin();
    let bridged = || Container::for_lesson(6).flag("--net").flag("bridge");
    let mut first = bridged().start_until_ready(&["sh", "-c", &trapping("TERM", 0)]);
    let other = format!("198.18.{}.0/24", random_octet());
    let second = bridged()
        .narrated()
        .flag("--subnet")
        .flag(&other)
        .run(&["true"]);
    first.signal_runtime(Signal::SIGTERM);
    first.finish().expect_success();
    second.expect_one_error_line(125, &[&other, &DEFAULT_SUBNET.to_string(), "serves"]);
}

/// What of a killed runtime's state directory is lost before `just clean`.
#[derive(Debug, Clone, Copy)]
enum Lost {
    Nothing,
    /// Everything but the undo records (`undo/`).
    AllButTheRecords,
    /// The whole directory, records too: what an older runtime left, which
    /// removed the directory whether its cleanup had released or not.
    TheWholeDirectory,
}

/// A runtime killed by SIGKILL leaves its lease, the bridge and the NAT
/// rule behind (its veth pair dies with the container's network
/// namespace); `just clean` removes them and puts forwarding back: from
/// the lease (its undo record) when only the records are left, and by what
/// they are (the bridge `nslab0`, the table `ip nslab`, the host-wide
/// record of forwarding) when nothing of the directory is. With a record
/// left, the check does `just clean`'s work for this one runtime only: the
/// whole would also tidy what other checks' killed runtimes left, under
/// the eyes of their host guards.
#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn just_clean_removes_what_a_killed_bridged_runtime_left_even_with_no_record() {
    for lost in [
        Lost::Nothing,
        Lost::AllButTheRecords,
        Lost::TheWholeDirectory,
    ] {
        let _host = HostGuard::begin();
        let forwarding_before = forwarding();
        let mut running = Container::for_lesson(6)
            .flag("--net")
            .flag("bridge")
            .flag("--nat")
            .start_until_ready(&["sh", "-c", &trapping("TERM", 0)]);
        let runtime = running.runtime_pid();
        running.signal_runtime(Signal::SIGKILL);
        let killed = running.finish();
        if killed.signal != Some(Signal::SIGKILL as i32) {
            killed.fail("should be killed by SIGKILL");
        }
        let left = || {
            [
                bridge().is_some(),
                nat_table().is_some(),
                lease_file(runtime).exists(),
            ]
        };
        assert_eq!(
            left(),
            [true; 3],
            "a killed runtime should leave the bridge, the NAT table and its lease (to clean)"
        );
        let root = Path::new(state::ROOT_STATE_DIR);
        let dir = state::container_dir_of(root, Pid::from_raw(runtime));
        lose(&dir, lost);
        let done = match lost {
            Lost::TheWholeDirectory => leftovers::clean(root),
            _ => leftovers::clean_up_after(root, Pid::from_raw(runtime)),
        }
        .expect("just clean");
        assert!(
            left() == [false; 3] && forwarding() == forwarding_before && !dir.exists(),
            "with {lost:?} of its directory lost, `just clean` should remove the bridge, the \
             NAT table, the lease and {}, and put forwarding back to {forwarding_before}; it \
             said {done:?}, and left {:?} (bridge, NAT table, lease), forwarding {}",
            dir.display(),
            left(),
            forwarding()
        );
    }
}

/// Lesson 05's `container` as nobody, with its default id maps written
/// out: a plain run keeps no state directory at all (`Run::keeps_files`,
/// issue 20), a run with id maps does.
fn with_a_state_directory(container: Container) -> Container {
    container
        .by_nobody()
        .flag(format!("--uid-map=0:{}:1", NOBODY.uid))
        .flag(format!("--gid-map=0:{}:1", NOBODY.gid))
}

fn lose(dir: &Path, lost: Lost) {
    match lost {
        Lost::Nothing => {}
        Lost::AllButTheRecords => {
            for entry in std::fs::read_dir(dir)
                .expect("read the container directory")
                .flatten()
            {
                if entry.file_name() != state::UNDO {
                    let _ = std::fs::remove_file(entry.path());
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        Lost::TheWholeDirectory => std::fs::remove_dir_all(dir).expect("remove the directory"),
    }
}

/// Root's `just clean` tidies every user's state directory it finds, and
/// says whose: here what a runtime started by `nobody` and killed left in
/// `/tmp/nslab-65534`.
#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn roots_just_clean_tidies_what_a_killed_runtime_of_nobody_left() {
    let _host = HostGuard::begin();
    let mut running = with_a_state_directory(Container::for_lesson(5)).start_until_ready(&[
        "sh",
        "-c",
        &trapping("TERM", 0),
    ]);
    let runtime = running.runtime_pid();
    running.signal_runtime(Signal::SIGKILL);
    running.finish();
    let uid = nix::unistd::User::from_name("nobody")
        .ok()
        .flatten()
        .expect("the user nobody")
        .uid;
    let dir = state::container_dir_of(&state_root(uid.as_raw()), Pid::from_raw(runtime));
    assert!(
        dir.exists(),
        "a killed runtime of nobody should leave {} (to clean)",
        dir.display()
    );
    let (looked, done) = leftovers::clean_everyones().expect("just clean");
    assert!(
        !dir.exists() && done.iter().any(|line| line.starts_with("nobody")),
        "root's `just clean` should remove {} and say it was nobody's; it looked at \
         {looked:?} and said {done:?}",
        dir.display()
    );
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
        // COMMAND comes after AGE (lesson 08 adds LIMITS between them):
        // the command line as it was given, `sh -c ...`.
        fields.len() >= 4
            && fields[0] == named.name
            && fields[1] == pid
            && fields[3..].windows(2).any(|pair| pair == ["sh", "-c"])
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
    let cleaned = leftovers::clean(Path::new(state::ROOT_STATE_DIR)).expect("just clean");
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

/// Only root may name a network namespace in /run/netns: `nobody` is
/// refused before anything starts.
#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn keep_net_as_a_normal_user_is_refused() {
    let _host = HostGuard::begin();
    Container::for_lesson(7)
        .by_nobody()
        .narrated()
        .flag("--keep-net=mine")
        .run(&["true"])
        .expect_one_error_line(125, &["--keep-net", "root"]);
}
