//! Lesson 11 (oci, provisional): podman runs the course's runtime in place
//! of runc. The checks drive it through podman (and conmon) as a user
//! would, compare with runc where runc is the reference, and call the OCI
//! commands directly for the spec's errors. Podman changes the host while
//! a container runs (a network namespace, a `/dev/shm` mount): serial.

use std::path::Path;
use std::time::Duration;

use serial_test::{file_parallel, file_serial};

use crate::support::faults::just_clean;
use crate::support::oci::{
    Bundle, Detached, NAMESPACES, RUNC, config_json, ours, podman, podman_run,
};
use crate::support::procs::eventually;
use crate::support::{HostGuard, Outcome};

/// What the issue compares: the hostname (the container ID's first 12
/// characters, so different each run), the user, the processes, the map.
const COMPARED: &str = "hostname; id -u; ps -o pid,comm; cat /proc/self/uid_map";

/// `out` with the hostname line (the container's ID) made `<id>` and the
/// PID of `ps` itself made `<ps>`: runc leaves a gap of PIDs that ours
/// does not, and neither number says anything about the runtime.
fn comparable(out: &str) -> Vec<String> {
    out.lines()
        .enumerate()
        .map(|(n, line)| {
            let words: Vec<&str> = line.split_whitespace().collect();
            match (n, words.as_slice()) {
                (0, _) => "<id>".to_string(),
                (_, [_, "ps"]) => "<ps> ps".to_string(),
                _ => words.join(" "),
            }
        })
        .collect()
}

#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn podman_runs_it_and_the_container_looks_as_under_runc() {
    let _host = HostGuard::begin();
    let ours_run = podman_run(&ours(), &["--rm"], &["sh", "-c", COMPARED]);
    ours_run.expect_success();
    let runc_run = podman_run(Path::new(RUNC), &["--rm"], &["sh", "-c", COMPARED]);
    runc_run.expect_success();
    let (ours_lines, runc_lines) = (comparable(&ours_run.stdout), comparable(&runc_run.stdout));
    if ours_lines != runc_lines {
        let table: Vec<String> = (0..ours_lines.len().max(runc_lines.len()))
            .map(|n| {
                let (o, r) = (ours_lines.get(n), runc_lines.get(n));
                let mark = if o == r { " " } else { "≠" };
                format!(
                    "{mark} {:<30} | {}",
                    o.map_or("", |s| s),
                    r.map_or("", |s| s)
                )
            })
            .collect();
        ours_run.fail(&format!(
            "should print what the same podman run prints with runc (ours | runc):\n{}",
            table.join("\n")
        ));
    }
}

#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn exit_statuses_pass_through_podman() {
    let _host = HostGuard::begin();
    podman_run(&ours(), &["--rm"], &["true"]).expect_status(0);
    podman_run(&ours(), &["--rm"], &["sh", "-c", "exit 42"]).expect_status(42);
    let (detached, started) = Detached::start(&ours(), &["sleep", "1000"]);
    started.expect_success();
    let id = detached.name.as_str();
    podman(&ours(), &["kill", "-s", "KILL", id]).expect_success();
    podman(&ours(), &["wait", id]).expect_stdout("137\n");
    podman(&ours(), &["rm", id]).expect_success();
}

#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn a_detached_container_takes_exec_shows_in_ps_stops_and_goes() {
    let _host = HostGuard::begin();
    let (detached, started) = Detached::start(&ours(), &["sleep", "1000"]);
    started.expect_success();
    let id = started.stdout.trim().to_string();
    let exec = podman(&ours(), &["exec", &id, "ps", "-o", "pid,comm"]);
    exec.expect_success();
    if !exec
        .stdout
        .lines()
        .any(|l| l.split_whitespace().eq(["1", "sleep"]))
    {
        exec.fail("should list the container's `sleep` as PID 1: exec enters its PID namespace");
    }
    let listed = podman(&ours(), &["ps", "--format", "{{.ID}} {{.Status}}"]);
    if !listed
        .stdout
        .lines()
        .any(|l| id.starts_with(l.split(' ').next().unwrap_or("-")) && l.contains("Up"))
    {
        listed.fail(&format!("should show {id} up"));
    }
    // sleep, PID 1 without a handler, ignores SIGTERM: podman sends KILL
    // after the timeout, through our `kill`.
    podman(&ours(), &["stop", "-t", "1", &id]).expect_success();
    podman(&ours(), &["rm", &id]).expect_success();
    drop(detached);
    let left = Outcome::of_host_command(&ours().to_string_lossy(), &["state", &id]);
    if left.status == Some(0) {
        left.fail("should not know the container once podman removed it");
    }
}

#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn ten_podman_runs_at_once_all_succeed() {
    let _host = HostGuard::begin();
    let runs: Vec<_> = (0..10)
        .map(|n| {
            std::thread::spawn(move || {
                podman_run(&ours(), &["--rm"], &["sh", "-c", &format!("echo {n}")])
            })
        })
        .collect();
    for (n, run) in runs.into_iter().enumerate() {
        let outcome = run.join().expect("a podman run");
        outcome.expect_success().expect_stdout(&format!("{n}\n"));
    }
}

/// Each bad bundle: one line naming the problem, status 1, no state.
#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn bad_bundles_are_refused_with_one_line_and_leave_nothing() {
    let _host = HostGuard::begin();
    let cases = [
        (
            config_json(r#""true""#, "2.0.0", NAMESPACES, ""),
            vec!["ociVersion", "2.0.0"],
        ),
        (
            config_json(r#""true""#, "1.0.2", NAMESPACES, "")
                .replace(r#""process": {"#, r#""notprocess": {"#),
            vec!["process"],
        ),
        (
            config_json(
                r#""true""#,
                "1.0.2",
                r#"{"type": "mount"}, {"type": "cpu"}"#,
                "",
            ),
            vec!["config.json", "cpu"],
        ),
        (
            config_json(
                r#""true""#,
                "1.0.2",
                NAMESPACES,
                r#", "hooks": {"prestart": [{"path": "/bin/true"}]}"#,
            ),
            vec!["hooks"],
        ),
    ];
    let cases = cases.into_iter().chain([(
        config_json(
            r#""true""#,
            "1.0.2",
            &format!(r#"{NAMESPACES}, {{"type": "cgroup"}}"#),
            "",
        ),
        vec!["linux.namespaces", "cgroup"],
    )]);
    for (config, words) in cases {
        let bundle = Bundle::new(&config);
        bundle
            .oci(&["create", "--bundle", "{bundle}", "{id}"])
            .expect_one_error_line(1, &words);
        if !bundle.leftovers().is_empty() {
            panic!(
                "a refused create left {:?} under its --root",
                bundle.leftovers()
            );
        }
    }
}

#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn the_life_cycle_reports_each_state_and_the_specs_errors() {
    let _host = HostGuard::begin();
    let bundle = Bundle::new(&config_json(r#""sleep", "1000""#, "1.0.2", NAMESPACES, ""));
    bundle
        .oci(&["state", "no-such-container"])
        .expect_one_error_line(1, &["does not exist"]);
    bundle
        .oci(&["create", "--bundle", "{bundle}", "{id}"])
        .expect_success();
    let status = |bundle: &Bundle| {
        let state = bundle.oci(&["state", "{id}"]);
        state.expect_success();
        state
            .stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix("\"status\": "))
            .map(|s| s.trim_matches([',', '"']).to_string())
            .unwrap_or_default()
    };
    assert_eq!(status(&bundle), "created", "after create");
    bundle.oci(&["start", "{id}"]).expect_success();
    assert_eq!(status(&bundle), "running", "after start");
    bundle
        .oci(&["start", "{id}"])
        .expect_one_error_line(1, &["running", "not created"]);
    bundle
        .oci(&["delete", "{id}"])
        .expect_one_error_line(1, &["not stopped", "--force"]);
    bundle.oci(&["kill", "{id}", "KILL"]).expect_success();
    let stopped = eventually(Duration::from_secs(5), || match status(&bundle).as_str() {
        "stopped" => Ok(()),
        other => Err(other.to_string()),
    });
    assert!(
        stopped.is_ok(),
        "after kill KILL the status should become stopped: {stopped:?}"
    );
    bundle.oci(&["delete", "{id}"]).expect_success();
    assert!(
        bundle.leftovers().is_empty(),
        "delete left {:?}",
        bundle.leftovers()
    );
}

#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn a_created_container_whose_runtime_was_killed_goes_with_delete_force_and_clean() {
    let _host = HostGuard::begin();
    let bundle = Bundle::new(&config_json(r#""sleep", "1000""#, "1.0.2", NAMESPACES, ""));
    // Killed after the child reported ready, before the record says
    // "created": the worst moment, the container no longer dies with it.
    let output = std::fs::File::create(bundle.dir.path.join("output")).expect("an output file");
    let mut create = std::process::Command::new(ours())
        .args([
            "--root",
            bundle.root().to_str().unwrap(),
            "create",
            "--bundle",
        ])
        .arg(&bundle.dir.path)
        .arg(&bundle.id)
        .env(nslab_runtime::fault::STEP_VARIABLE, "created")
        .stdin(std::process::Stdio::null())
        .stdout(output.try_clone().expect("a second handle"))
        .stderr(output)
        .spawn()
        .expect("start create");
    let reached = eventually(Duration::from_secs(10), || {
        let dir = bundle.root().join(&bundle.id);
        if dir.join("exec.fifo").exists() && dir.join("container.json").exists() {
            Ok(())
        } else {
            Err("no exec FIFO yet".to_string())
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    let _ = create.kill();
    let _ = create.wait();
    assert!(reached.is_ok(), "create never reached the step `created`");
    bundle.oci(&["delete", "--force", "{id}"]).expect_success();
    just_clean();
    assert!(
        bundle.leftovers().is_empty(),
        "left {:?}",
        bundle.leftovers()
    );
}
