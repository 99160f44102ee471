//! Lesson 11 (oci): podman runs the course's runtime in place of runc.
//!
//! Two kinds of checks. The first call the learner's decisions through
//! the binary's own `plan --bundle DIR` and `life-cycle` commands (no
//! container is made): what a bundle maps to, and the life cycle's
//! tables. The others drive the runtime through podman (and conmon) as a
//! user would, compare with runc where runc is the reference, and call the
//! OCI commands directly for the spec's errors. Podman changes the host
//! while a container runs (a network namespace, a `/dev/shm` mount):
//! those are serial.

use std::path::Path;
use std::time::Duration;

use serial_test::{file_parallel, file_serial};

use crate::support::faults::just_clean;
use crate::support::mounts::shared_rootfs;
use crate::support::oci::{
    Bundle, Detached, NAMESPACES, RUNC, config_json, ours, plan_of, podman, podman_run,
    podmans_config,
};
use crate::support::procs::eventually;
use crate::support::{HostGuard, Outcome, TempDir, random_hex};

/// The lines of `plan` that start with `what: `, without it.
fn planned<'a>(plan: &'a Outcome, what: &str) -> Vec<&'a str> {
    let prefix = format!("{what}: ");
    plan.stdout
        .lines()
        .filter_map(|line| line.strip_prefix(prefix.as_str()))
        .collect()
}

/// `plan` of a minimal bundle (see `config_json`) with `namespaces` and
/// `top_extra`, and the process's own `process_extra` after its `env`.
fn plan_with(namespaces: &str, process_extra: &str, top_extra: &str) -> Outcome {
    let config = config_json(r#""true""#, "1.0.2", namespaces, top_extra).replace(
        r#""env": ["PATH=/bin:/sbin:/usr/bin"]"#,
        &format!(r#""env": ["PATH=/bin:/sbin:/usr/bin"]{process_extra}"#),
    );
    plan_of(&config)
}

/// `linux` with `extra` fields beside the usual namespaces.
fn with_linux(extra: &str) -> String {
    format!(r#"{NAMESPACES}]{extra}, "x": ["#)
}

#[test]
#[ignore = "a lesson check"]
fn podmans_bundle_maps_onto_the_lessons() {
    let plan = plan_of(&podmans_config(str::to_string));
    plan.expect_success();
    insta::assert_snapshot!("podman-bundle-plan", plan.stdout);
}

#[test]
#[ignore = "a lesson check"]
fn namespaces_are_created_or_joined_each_once() {
    let joined = plan_with(
        r#"{"type": "pid"}, {"type": "network", "path": "/run/netns/x"}, {"type": "uts"}, {"type": "mount"}"#,
        "",
        "",
    );
    joined.expect_success();
    if planned(&joined, "create") != ["pid uts mnt"]
        || planned(&joined, "join") != ["net /run/netns/x"]
    {
        joined.fail(
            "should create pid, uts and mnt (in the bundle's order, by /proc/PID/ns name) and \
             join the network namespace at /run/netns/x instead of creating one",
        );
    }
    let refused = [
        (
            r#"{"type": "pid", "path": "/proc/1/ns/pid"}, {"type": "mount"}"#,
            vec!["linux.namespaces", "pid"],
        ),
        (
            r#"{"type": "uts"}, {"type": "uts"}, {"type": "mount"}"#,
            vec!["linux.namespaces", "uts"],
        ),
        (
            r#"{"type": "pid"}, {"type": "uts"}"#,
            vec!["linux.namespaces", "mount namespace"],
        ),
    ];
    for (namespaces, words) in refused {
        plan_with(namespaces, "", "").expect_one_error_line(1, &words);
    }
}

#[test]
#[ignore = "a lesson check"]
fn mounts_become_volumes_or_are_refused() {
    let mounts = r#", "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]},
        {"destination": "/data", "type": "bind", "source": "data", "options": ["rbind", "ro"]},
        {"destination": "/etc/hosts", "type": "none", "source": "/etc/hosts", "options": ["bind", "rprivate"]},
        {"destination": "/var/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["rw", "nosuid", "size=1m"]}
    ]"#;
    let plan = plan_with(NAMESPACES, "", mounts);
    plan.expect_success();
    let volumes = planned(&plan, "volume");
    if volumes != ["<bundle>/data -> /data (ro)", "/etc/hosts -> /etc/hosts"] {
        plan.fail(
            "should make exactly two volumes: <bundle>/data at /data read-only (a relative source \
             is in the bundle; ro), and /etc/hosts (type none with the bind option); /proc and \
             /dev are lesson 04's own, and the tmpfs at /var/tmp is `map_tmpfs`'s",
        );
    }
    if planned(&plan, "tmpfs") != ["/var/tmp"] {
        plan.fail("should give lesson 04 one tmpfs, at /var/tmp: `map_mounts` must leave it alone");
    }
    let refused = [
        (
            r#", "mounts": [{"destination": "/mnt", "type": "nfs", "source": "server:/export"}]"#,
            vec!["mounts[0]", "/mnt", "nfs"],
        ),
        (
            r#", "mounts": [{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["huge=always"]}]"#,
            vec!["mounts[0]", "/scratch", "huge=always"],
        ),
        (
            r#", "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}, {"destination": "/d", "type": "bind", "source": "/etc", "options": ["bind", "suid"]}]"#,
            vec!["mounts[1]", "/d", "suid"],
        ),
    ];
    for (mounts, words) in refused {
        plan_with(NAMESPACES, "", mounts).expect_one_error_line(1, &words);
    }
}

#[test]
#[ignore = "a lesson check"]
fn the_process_keeps_exactly_its_bounding_set() {
    let capabilities = r#", "capabilities": {"bounding": ["CAP_NET_RAW", "CAP_CHOWN"], "effective": ["CAP_CHOWN"]}"#;
    let plan = plan_with(NAMESPACES, capabilities, "");
    plan.expect_success();
    if planned(&plan, "cap_drop") != ["ALL"] || planned(&plan, "cap_add") != ["CHOWN NET_RAW"] {
        plan.fail(
            "should drop ALL and add exactly CHOWN and NET_RAW (the bounding set, sorted): \
             lesson 10 starts from Docker's 14 unless ALL is dropped",
        );
    }
    let everything = plan_with(NAMESPACES, "", "");
    everything.expect_success();
    if planned(&everything, "cap_add") != ["ALL"] {
        everything.fail("without a capabilities section the process should keep every capability (cap_add ALL), as under runc");
    }
    let refused = [
        (r#", "terminal": true"#, vec!["process.terminal"]),
        (
            r#", "apparmorProfile": "docker-default""#,
            vec!["process.apparmorProfile"],
        ),
    ];
    for (extra, words) in refused {
        plan_with(NAMESPACES, extra, "").expect_one_error_line(1, &words);
    }
    let no_args = config_json("", "1.0.2", NAMESPACES, "");
    plan_of(&no_args).expect_one_error_line(1, &["process.args"]);
}

#[test]
#[ignore = "a lesson check"]
fn resources_become_lesson_08_limits() {
    let resources = |inside: &str| with_linux(&format!(r#", "resources": {{{inside}}}"#));
    let plan = plan_with(
        &resources(
            r#""memory": {"limit": 33554432}, "pids": {"limit": 10}, "cpu": {"quota": 50000, "period": 100000}, "devices": [{"allow": false, "access": "rwm"}]"#,
        ),
        "",
        "",
    );
    plan.expect_success();
    let limits = [
        planned(&plan, "memory"),
        planned(&plan, "pids"),
        planned(&plan, "cpus"),
    ];
    if limits != [["32m"], ["10"], ["0.5"]] {
        plan.fail("should set lesson 08's --memory 32m, --pids-limit 10 and --cpus 0.5 (deny-all devices is lesson 04's /dev already)");
    }
    let unlimited = plan_with(&resources(r#""pids": {"limit": 0}"#), "", "");
    unlimited.expect_success();
    if planned(&unlimited, "pids") != ["-"] {
        unlimited.fail("a pids limit of 0 means no limit, as runc reads it");
    }
    let refused = [
        (
            r#""memory": {"limit": 4194304}"#,
            vec!["linux.resources.memory", "6m"],
        ),
        (
            r#""cpu": {"quota": 50000, "period": 50000}"#,
            vec!["linux.resources.cpu.period"],
        ),
        (
            r#""blockIO": {"weight": 10}"#,
            vec!["linux.resources.blockIO"],
        ),
        (
            r#""cpu": {"shares": 512}"#,
            vec!["linux.resources.cpu.shares"],
        ),
        (
            r#""devices": [{"allow": true, "access": "rwm"}]"#,
            vec!["linux.resources.devices"],
        ),
    ];
    for (inside, words) in refused {
        plan_with(&resources(inside), "", "").expect_one_error_line(1, &words);
    }
}

/// `life-cycle`, checked for success.
fn life_cycle() -> Outcome {
    let bundle = Bundle::new("{}");
    let outcome = bundle.oci(&["life-cycle"]);
    outcome.expect_success();
    outcome
}

#[test]
#[ignore = "a lesson check"]
fn the_status_is_read_off_the_host() {
    let outcome = life_cycle();
    let expected = [
        ("set_up=false exec_fifo=false alive=false", "stopped"),
        ("set_up=true exec_fifo=false alive=false", "stopped"),
        ("set_up=false exec_fifo=true alive=false", "stopped"),
        ("set_up=true exec_fifo=true alive=false", "stopped"),
        ("set_up=false exec_fifo=false alive=true", "creating"),
        ("set_up=true exec_fifo=false alive=true", "running"),
        ("set_up=false exec_fifo=true alive=true", "creating"),
        ("set_up=true exec_fifo=true alive=true", "created"),
    ];
    let wrong: Vec<String> = expected
        .iter()
        .filter(|(seen, status)| {
            !outcome
                .stdout
                .lines()
                .any(|l| l == format!("status {seen}: {status}"))
        })
        .map(|(seen, status)| format!("{seen} should be {status}"))
        .collect();
    if !wrong.is_empty() {
        outcome.fail(&format!("the status is wrong where {}", wrong.join("; ")));
    }
}

#[test]
#[ignore = "a lesson check"]
fn each_command_is_allowed_only_where_the_spec_says() {
    let outcome = life_cycle();
    let allowed = [
        ("start", &["created"][..]),
        ("kill", &["created", "running"][..]),
        ("exec", &["running"][..]),
        ("delete", &["stopped"][..]),
        (
            "delete --force",
            &["creating", "created", "running", "stopped"][..],
        ),
    ];
    let mut wrong = Vec::new();
    for (operation, yes) in allowed {
        for status in ["creating", "created", "running", "stopped"] {
            let prefix = format!("allow {operation} when {status}: ");
            let verdict = outcome
                .stdout
                .lines()
                .find_map(|l| l.strip_prefix(prefix.as_str()))
                .unwrap_or("(missing)");
            let fine = if yes.contains(&status) {
                verdict == "yes"
            } else {
                verdict.starts_with("no: ") && verdict.contains(status) && verdict.contains("fix:")
            };
            if !fine {
                wrong.push(format!("{operation} when {status} said {verdict:?}"));
            }
        }
    }
    if !wrong.is_empty() {
        outcome.fail(&format!(
            "start may act only on created, kill on created or running, exec on running, delete \
             on stopped (or anything with --force); a refusal names the state and gives a fix. \
             Wrong: {}",
            wrong.join("; ")
        ));
    }
}

/// What is compared with runc: the hostname (the container ID's first 12
/// characters, so different each run), the user, the processes, the map,
/// the capability sets, the seccomp mode, whether three of podman's masked
/// paths read as nothing, and how /proc/sys is mounted. Not `NoNewPrivs`:
/// lesson 10 always sets it, and podman does not ask for it (chapter 11,
/// "Our runtime beside runc").
const COMPARED: &str = "hostname; id -u; ps -o pid,comm; cat /proc/self/uid_map; \
    grep -E '^(CapEff|CapBnd|Seccomp):' /proc/self/status; \
    echo /proc/keys $(wc -c < /proc/keys); echo /proc/timer_list $(wc -c < /proc/timer_list); \
    echo /sys/firmware $(ls -A /sys/firmware | wc -l); \
    echo /proc/sys $(grep ' /proc/sys ' /proc/self/mounts | cut -d' ' -f4 | cut -d, -f1)";

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

/// `podman run --read-only`: podman asks for the rootfs read-only and
/// for tmpfs mounts at `/tmp`, `/run` and `/var/tmp`. A file is refused in
/// the rootfs and taken in each tmpfs, as under runc. The names are new
/// each time: a runtime that left the root writable would plant them in
/// the shared rootfs, and they are removed then.
#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn a_read_only_root_through_podman_is_as_under_runc() {
    let _host = HostGuard::begin();
    let planted = format!("planted-{}", random_hex(4));
    let script = format!(
        "for f in /{planted} /bin/{planted} /tmp/a /run/b /var/tmp/c; do \
         if touch $f 2>/dev/null; then echo \"$f written\"; else echo \"$f refused\"; fi; done; \
         awk '$2 == \"/\" {{ split($4, o, \",\"); print \"/ is\", o[1] }}' /proc/mounts"
    );
    let expected = format!(
        "/{planted} refused\n/bin/{planted} refused\n/tmp/a written\n/run/b written\n\
         /var/tmp/c written\n/ is ro\n"
    );
    let runs = [ours(), Path::new(RUNC).to_path_buf()]
        .map(|runtime| podman_run(&runtime, &["--rm", "--read-only"], &["sh", "-c", &script]));
    let rootfs = shared_rootfs();
    let leaked: Vec<_> = [rootfs.join(&planted), rootfs.join("bin").join(&planted)]
        .into_iter()
        .filter(|path| path.exists())
        .collect();
    for path in &leaked {
        let _ = std::fs::remove_file(path);
    }
    let [ours_run, runc_run] = runs;
    runc_run.expect_success().expect_stdout(&expected);
    if !leaked.is_empty() || ours_run.status != Some(0) || ours_run.stdout != expected {
        ours_run.fail(&format!(
            "should print what podman --read-only prints with runc:\n{expected}\nthe rootfs must \
             be read-only (root.readonly, lesson 04's remount, last) and podman's tmpfs at \
             /var/tmp mounted (`map_mounts` leaves tmpfs mounts to `map_tmpfs`); planted in the \
             rootfs, and removed: {leaked:?}"
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
    // Each container writes its number into a shared volume rather than
    // on stdout: podman 4.3's streaming of a container's output that ends
    // within milliseconds is itself racy on a loaded machine (it once lost
    // one line of ten, with any runtime), and this check is about ours.
    let data = TempDir::new();
    let volume = format!("{}:/data", data.path.display());
    let runs: Vec<_> = (0..10)
        .map(|n| {
            let volume = volume.clone();
            std::thread::spawn(move || {
                let script = format!("echo {n} > /data/{n}");
                let named = Detached::named(&ours());
                let flags = ["--rm", "--name", named.name.as_str(), "-v", &volume];
                (podman_run(&ours(), &flags, &["sh", "-c", &script]), named)
            })
        })
        .collect();
    for (n, run) in runs.into_iter().enumerate() {
        let (outcome, _named) = run.join().expect("a podman run");
        outcome.expect_success();
        let written = std::fs::read_to_string(data.path.join(n.to_string())).unwrap_or_default();
        if written != format!("{n}\n") {
            outcome.fail(&format!(
                "should have written {n} into the shared volume at /data/{n}; found {written:?}"
            ));
        }
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
    let cases = cases.into_iter().chain([
        (
            config_json(
                r#""true""#,
                "1.0.2",
                &format!(r#"{NAMESPACES}, {{"type": "cgroup"}}, {{"type": "cgroup"}}"#),
                "",
            ),
            vec!["linux.namespaces", "cgroup"],
        ),
        (
            // Written from inside, it would change the host: refused by the
            // core, whatever the lesson's mapping says.
            config_json(
                r#""true""#,
                "1.0.2",
                &with_linux(r#", "sysctl": {"vm.swappiness": "10"}"#),
                "",
            ),
            vec!["linux.sysctl", "vm.swappiness"],
        ),
    ]);
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
        .expect_one_error_line(1, &["running", "start"]);
    bundle
        .oci(&["delete", "{id}"])
        .expect_one_error_line(1, &["running", "delete", "--force"]);
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

#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn podmans_limits_and_hardening_take_effect_inside() {
    let _host = HostGuard::begin();
    let data = TempDir::new();
    std::fs::write(data.path.join("marker"), "from the host\n").expect("write the marker");
    let volume = format!("{}:/data", data.path.display());
    let script = "hostname; grep '^CapEff:' /proc/self/status; cat /data/marker; \
        i=0; while [ $i -lt 20 ]; do sleep 5 & i=$((i+1)); echo started $i; done";
    let flags = [
        "--rm",
        "--pids-limit",
        "10",
        "--cap-drop",
        "ALL",
        "--hostname",
        "h1",
        "-v",
        &volume,
    ];
    let outcome = podman_run(&ours(), &flags, &["sh", "-c", script]);
    let lines: Vec<&str> = outcome.stdout.lines().collect();
    if lines.first() != Some(&"h1") {
        outcome.fail("should print the hostname h1 first: spec.hostname is the container's hostname (lesson 01)");
    }
    if !lines
        .iter()
        .any(|l| l.split_whitespace().eq(["CapEff:", "0000000000000000"]))
    {
        outcome.fail("should show CapEff 0 with --cap-drop ALL: podman's bounding set is then empty, and `map_process` must keep exactly it");
    }
    if !lines.contains(&"from the host") {
        outcome.fail("should read the host's marker in /data: -v DIR:/data reaches you as a bind mount, which `map_mounts` makes a volume");
    }
    let started = lines.iter().filter(|l| l.starts_with("started")).count();
    if !(5..=10).contains(&started) {
        outcome.fail(&format!(
            "should start about 9 sleeps under --pids-limit 10 and then fail to fork; it started {started}: \
             linux.resources.pids.limit must reach lesson 08 (`map_resources`)"
        ));
    }
    let hog = podman_run(
        &ours(),
        &["--rm", "--memory", "32m"],
        &["sh", "-c", crate::support::cgroup::ALLOCATE_64M],
    );
    if hog.stdout.contains("survived") || hog.status != Some(137) {
        hog.fail("should be killed (podman exits 137) holding 64 MiB under --memory 32m: linux.resources.memory.limit must reach lesson 08 (`map_resources`)");
    }
}
