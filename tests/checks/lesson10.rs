//! Lesson 10 (harden): Docker's default capabilities, no_new_privs, the
//! seccomp filter and the masked paths, each proved by trying the door
//! it shuts. Every attempt uses arguments that fail harmlessly if the
//! door is open (see `support/doors.c`), so a lesson without the
//! protections cannot change the host: the checks tell "shut" (EPERM)
//! from "open" by the error alone.

use serial_test::{file_parallel, file_serial};

use crate::support::join::Named;
use crate::support::mounts::{PrivateRootfs, shared_rootfs_flag};
use crate::support::net::gateway;
use crate::support::{
    Container, HostGuard, Outcome, Prepare, TempDir, copy_program, static_helper,
};
use nslab_runtime::config::DEFAULT_SUBNET;
use solution_10_harden::{MASKED_PATHS, READ_ONLY_PATHS};

/// This lesson's number in the course.
const LESSON: u8 = 10;

/// CapEff of `docker run`'s root: CHOWN, DAC_OVERRIDE, FOWNER, FSETID,
/// KILL, SETGID, SETUID, SETPCAP, NET_BIND_SERVICE, NET_RAW, SYS_CHROOT,
/// MKNOD, AUDIT_WRITE and SETFCAP (bits 0-1, 3-8, 10, 13, 18, 27, 29, 31).
const DOCKER_DEFAULT: u64 = 0xa80425fb;
const CAP_NET_RAW: u64 = 1 << 13;
const CAP_SYS_TIME: u64 = 1 << 25;

/// The doors `doors knock` tries, in its order.
const DOORS: [&str; 11] = [
    "umount",
    "mount",
    "clone-user",
    "unshare-user",
    "clone3",
    "keyctl",
    "init_module",
    "kexec_load",
    "bpf",
    "perf_event_open",
    "open_by_handle_at",
];

fn lesson_10() -> Container {
    Container::for_lesson(LESSON)
}

fn in_shared_rootfs() -> Container {
    lesson_10().flag("--rootfs").flag(shared_rootfs_flag())
}

/// A private rootfs with the doors helper at /doors.
fn rootfs_with_doors() -> PrivateRootfs {
    let rootfs = PrivateRootfs::new();
    let built = TempDir::new();
    let helper = static_helper("doors", &built.path);
    copy_program(&helper, &rootfs.path.join("doors")).prepared("copy its helper into the rootfs");
    rootfs
}

/// The capability sets of the container's first process, by name
/// (`CapEff` ...), from its own /proc/self/status.
fn capability_sets(container: Container) -> (Outcome, Vec<(String, u64)>) {
    let outcome = container.run(&["grep", "^Cap", "/proc/self/status"]);
    outcome.expect_success();
    let sets = outcome
        .stdout
        .lines()
        .filter_map(|line| {
            let (name, hex) = line.split_once(':')?;
            Some((name.to_string(), u64::from_str_radix(hex.trim(), 16).ok()?))
        })
        .collect();
    (outcome, sets)
}

/// Fail unless the container holds exactly `expected` in its effective,
/// permitted and bounding sets, and nothing inheritable or ambient.
fn expect_capabilities(container: Container, expected: u64, what: &str) {
    let (outcome, sets) = capability_sets(container);
    for (name, value) in &sets {
        let wanted = match name.as_str() {
            "CapEff" | "CapPrm" | "CapBnd" => expected,
            _ => 0,
        };
        if *value != wanted {
            outcome.fail(&format!(
                "should show {name}: {wanted:016x} ({what}), not {value:016x}: effective, \
                 permitted and bounding must be exactly the kept set (the bounding set is what \
                 root gets back at every exec), inheritable and ambient empty"
            ));
        }
    }
    if sets.len() != 5 {
        outcome.fail("should show the five capability sets of /proc/self/status");
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn capabilities_are_dockers_default_14() {
    let _host = HostGuard::begin();
    expect_capabilities(in_shared_rootfs(), DOCKER_DEFAULT, "Docker's default 14");
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn cap_drop_all_leaves_no_capability() {
    let _host = HostGuard::begin();
    let container = in_shared_rootfs().flag("--cap-drop").flag("ALL");
    expect_capabilities(container, 0, "none at all, after --cap-drop ALL");
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn cap_add_and_cap_drop_change_exactly_the_named_bits() {
    let _host = HostGuard::begin();
    // Names as Docker takes them: any case, with or without CAP_.
    let container = in_shared_rootfs()
        .flag("--cap-add")
        .flag("sys_time")
        .flag("--cap-drop")
        .flag("CAP_NET_RAW");
    let expected = (DOCKER_DEFAULT | CAP_SYS_TIME) & !CAP_NET_RAW;
    expect_capabilities(
        container,
        expected,
        "Docker's 14 plus SYS_TIME minus NET_RAW",
    );
}

/// Run `doors knock` in a private rootfs with `flags`; the doors and how
/// each answered.
fn knock(flags: &[&str]) -> (Outcome, Vec<(String, String)>) {
    let rootfs = rootfs_with_doors();
    let container = flags
        .iter()
        .fold(lesson_10().flag("--rootfs").flag(rootfs.flag()), |c, f| {
            c.flag(*f)
        });
    let outcome = container.run(&["/doors", "knock", "/mnt"]);
    outcome.expect_success();
    let answers = outcome
        .stdout
        .lines()
        .filter_map(|line| line.split_once(' '))
        .map(|(door, answer)| (door.to_string(), answer.to_string()))
        .collect();
    (outcome, answers)
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn every_dangerous_door_answers_eperm() {
    let _host = HostGuard::begin();
    let (outcome, answers) = knock(&[]);
    let doors: Vec<&str> = answers.iter().map(|(door, _)| door.as_str()).collect();
    if doors != DOORS {
        outcome.fail(&format!("should knock on every door: {DOORS:?}"));
    }
    let shut = |door: &str| if door == "clone3" { "ENOSYS" } else { "EPERM" };
    let open: Vec<String> = answers
        .iter()
        .filter(|(door, answer)| answer != shut(door))
        .map(|(door, answer)| format!("{door} answered {answer}"))
        .collect();
    if !open.is_empty() {
        outcome.fail(&format!(
            "should answer EPERM at every door (clone3: ENOSYS, so that C libraries fall back \
             to clone, whose flags the filter reads), but {}: any other answer means the call \
             reached the kernel's own checks (ok: it worked; EINVAL, ENOEXEC, ENOSYS, EFAULT, \
             EOPNOTSUPP: only the harmless arguments stopped it). Capabilities shut some doors, \
             the seccomp filter all of them",
            open.join(", ")
        ));
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn unconfined_with_every_capability_the_mount_goes_through() {
    let _host = HostGuard::begin();
    let (outcome, answers) = knock(&["--seccomp", "unconfined", "--cap-add", "ALL"]);
    let answer = |door: &str| {
        answers
            .iter()
            .find(|(d, _)| d == door)
            .map_or("nothing", |(_, a)| a.as_str())
            .to_string()
    };
    // The doors no capability opens, like the keyrings, only the filter
    // keeps shut: unconfined, keyctl reaches the kernel.
    let open = [
        ("mount", "ok"),
        ("clone-user", "ok"),
        ("unshare-user", "ok"),
        ("keyctl", "EOPNOTSUPP"),
    ];
    for (door, expected) in open {
        if answer(door) != expected {
            outcome.fail(&format!(
                "with --seccomp unconfined --cap-add ALL, {door} should reach the kernel inside \
                 (the container's own namespaces only) and answer {expected}, not {}: this \
                 proves the other checks see the protections, not this machine's limits; with \
                 `confined` false no filter may be installed",
                answer(door)
            ));
        }
    }
}

/// The script that reports each masked path's size: bytes for a file,
/// entries for a directory; paths this kernel lacks are left out.
fn measure_masked_paths() -> String {
    let paths = MASKED_PATHS.join(" ");
    format!(
        "for p in {paths}; do \
           if [ -d $p ]; then echo \"$p $(ls -A $p | wc -l)\"; \
           elif [ -e $p ]; then echo \"$p $(cat $p | wc -c)\"; fi; \
         done"
    )
}

/// Writing the value it already has back into /proc/sys/kernel/hostname
/// (the container's own UTS namespace): harmless if /proc/sys is
/// writable, and refused if it is read-only.
const WRITE_PROC_SYS: &str = "h=$(cat /proc/sys/kernel/hostname); \
     if echo $h > /proc/sys/kernel/hostname 2>/dev/null; then echo proc-sys-writable; \
     else echo proc-sys-read-only; fi";

/// The mounts at the read-only paths, from mountinfo: "PATH ro" or "PATH
/// rw" (the last mount there is the one seen).
fn read_only_mounts() -> String {
    let paths = READ_ONLY_PATHS.join(" ");
    format!(
        "for p in {paths}; do \
           [ -e $p ] || continue; \
           awk -v p=$p '$5 == p {{ split($6, o, \",\"); m = o[1] }} END {{ print p, m }}' \
             /proc/self/mountinfo; \
         done"
    )
}

fn expect_masked_and_read_only(container: Container, how: &str) {
    let script = format!(
        "{}; {WRITE_PROC_SYS}; {}",
        measure_masked_paths(),
        read_only_mounts()
    );
    let outcome = container.run(&["sh", "-c", &script]);
    outcome.expect_success();
    for line in outcome.stdout.lines() {
        let Some((path, answer)) = line.rsplit_once(' ') else {
            continue;
        };
        let fine = if READ_ONLY_PATHS.contains(&path) {
            answer == "ro"
        } else {
            answer == "0"
        };
        if !fine {
            outcome.fail(&format!(
                "{how}, {path} should be {}, but shows {answer}",
                if answer == "rw" {
                    "a read-only mount"
                } else {
                    "masked: an empty read-only tmpfs on a directory, /dev/null on a file"
                }
            ));
        }
    }
    if !outcome.stdout.contains("proc-sys-read-only") {
        outcome.fail(&format!(
            "{how}, writing /proc/sys/kernel/hostname should fail: /proc/sys must be read-only"
        ));
    }
    if !outcome.stdout.lines().any(|line| line == "/proc/sys ro") {
        outcome.fail(&format!(
            "{how}, /proc/sys should be a read-only mount of its own"
        ));
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn masked_paths_read_nothing_and_proc_sys_is_read_only() {
    let _host = HostGuard::begin();
    expect_masked_and_read_only(in_shared_rootfs(), "with --rootfs");
    expect_masked_and_read_only(lesson_10(), "without --rootfs");
}

/// Lesson 05 maps only root by default: map the first 65536 ids to the
/// host's same ones, so that user 1000 exists inside.
fn with_user_1000(container: Container) -> Container {
    container
        .flag("--uid-map")
        .flag("0:0:65536")
        .flag("--gid-map")
        .flag("0:0:65536")
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn a_setuid_root_copy_gives_an_unprivileged_user_nothing() {
    use std::os::unix::fs::PermissionsExt;
    let _host = HostGuard::begin();
    let rootfs = rootfs_with_doors();
    let setuid_copy = rootfs.path.join("setuid-doors");
    copy_program(&rootfs.path.join("doors"), &setuid_copy).prepared("copy its helper");
    std::fs::set_permissions(&setuid_copy, std::fs::Permissions::from_mode(0o4755))
        .prepared("make its helper setuid root");
    // Unconfined: seccompiler sets no_new_privs itself before it installs
    // a filter, so only without one does this see the lesson's own.
    let container = with_user_1000(lesson_10().flag("--rootfs").flag(rootfs.flag()))
        .flag("--seccomp")
        .flag("unconfined");
    let outcome = container.run(&["/doors", "as", "1000", "/setuid-doors", "whoami"]);
    outcome.expect_success();
    if !outcome.stdout.contains("euid=1000") {
        outcome.fail(
            "should print euid=1000: a setuid-root binary run by user 1000 must not make it \
             root once no_new_privs is set",
        );
    }
    if !outcome.stdout.contains("NoNewPrivs:\t1") {
        outcome.fail("should show NoNewPrivs: 1 in /proc/self/status");
    }
}

#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn ping_chown_and_chmod_still_work() {
    let _host = HostGuard::begin();
    let rootfs = PrivateRootfs::new();
    let gateway = gateway(&DEFAULT_SUBNET).to_string();
    let script = format!(
        "ping -c1 -W5 {gateway} > /dev/null && echo ping; \
         touch /owned && chown 1000:1000 /owned && chmod 600 /owned && stat -c '%u %g %a' /owned"
    );
    let outcome = with_user_1000(lesson_10())
        .flag("--rootfs")
        .flag(rootfs.flag())
        .flag("--net")
        .flag("bridge")
        .run(&["sh", "-c", &script]);
    if outcome.stdout != "ping\n1000 1000 600\n" {
        outcome.fail(&format!(
            "should ping the gateway {gateway} (NET_RAW is one of Docker's 14) and chown and \
             chmod a file of the rootfs (CHOWN, FOWNER): the defaults must leave a usable \
             container, printing \"ping\" then \"1000 1000 600\""
        ));
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn a_container_started_by_nobody_is_hardened_too() {
    let _host = HostGuard::begin();
    let rootfs = rootfs_with_doors();
    let container = lesson_10().by_nobody().flag("--rootfs").flag(rootfs.flag());
    let outcome = container.run(&[
        "sh",
        "-c",
        "grep ^CapEff /proc/self/status; /doors knock /mnt | grep -c -e EPERM -e 'clone3 ENOSYS'",
    ]);
    outcome.expect_success();
    let expected = format!("CapEff:\t{DOCKER_DEFAULT:016x}\n{}\n", DOORS.len());
    if outcome.stdout != expected {
        outcome.fail(&format!(
            "as nobody (lesson 05's user namespace), should keep Docker's 14 and find all {} \
             doors shut, printing {expected:?}",
            DOORS.len()
        ));
    }
}

#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn exec_starts_its_command_as_locked_as_the_container() {
    let _host = HostGuard::begin();
    let container = in_shared_rootfs().flag("--cap-add").flag("SYS_TIME");
    let named = Named::start(container, "true");
    let outcome = named.exec(&[
        "grep",
        "-E",
        "^(CapEff|CapBnd|NoNewPrivs|Seccomp):",
        "/proc/self/status",
    ]);
    outcome.expect_success();
    let mask = format!("{:016x}", DOCKER_DEFAULT | CAP_SYS_TIME);
    let expected = format!("CapEff:\t{mask}\nCapBnd:\t{mask}\nNoNewPrivs:\t1\nSeccomp:\t2\n");
    if outcome.stdout != expected {
        outcome.fail(&format!(
            "should print {expected:?}: like `docker exec`, `exec NAME` must start its command \
             with the container's own capabilities (here Docker's 14 and SYS_TIME), \
             no_new_privs and the seccomp filter (mode 2), or it is a way around every lock"
        ));
    }
    named.stop();
}
