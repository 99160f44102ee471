//! Lesson 05 (user): the container has a user namespace, created with
//! every other namespace of the container, so that it owns them. A normal
//! user (`nobody`, 65534) is root inside it, and only inside: outside, the
//! container's processes are still `nobody`, with no capability over
//! anything of the host's.
//!
//! Most checks run the runtime as `nobody` (`Container::by_nobody`, which
//! runs a copy of the binary with `setpriv`), on a private copy of the
//! rootfs. The checks with `--uid-map 0:100000:65536` run as root, the
//! only user that may map a range.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, chown};
use std::path::Path;
use std::time::Duration;

use nix::sys::signal::Signal;
use serial_test::file_parallel;

use crate::support::mounts::{PrivateRootfs, explain_mount_table, mount_table};
use crate::support::procs::{self, Process};
use crate::support::{
    Container, HostGuard, NOBODY, Outcome, Prepare, TempDir, User, host_namespace,
};

/// `id` inside, as the container's root: names from the host's
/// `/etc/passwd` without `--rootfs`, from the rootfs's with it.
const ROOT: &str = "uid=0(root) gid=0(root) groups=0(root)\n";
const ROOT_IN_THE_ROOTFS: &str = "uid=0(root) gid=0(root)\n";

/// The range a privileged caller gives the container, as Docker's
/// `userns-remap` and Podman do: 65536 ids from 100000 on.
const RANGE: [&str; 4] = ["--uid-map", "0:100000:65536", "--gid-map", "0:100000:65536"];
const RANGE_START: u32 = 100_000;

/// How long init may take to pass a signal on and see the command end.
const DEADLINE: Duration = Duration::from_secs(10);

fn by_nobody() -> Container {
    Container::for_lesson(5).by_nobody()
}

/// `container` with a private copy of the rootfs (the shared one may be
/// out of `nobody`'s reach) and `volume` at `/mnt`.
fn in_rootfs(container: Container, rootfs: &PrivateRootfs, volume: &Path) -> Container {
    container
        .flag("--rootfs")
        .flag(rootfs.flag())
        .flag(format!("--volume={}:/mnt", volume.display()))
}

/// `script` run by `sh -c` as `nobody`, in a private copy of the rootfs
/// with `volume` at `/mnt`.
fn run_as_nobody_in_rootfs(volume: &Path, script: &str) -> Outcome {
    let rootfs = PrivateRootfs::new();
    in_rootfs(by_nobody(), &rootfs, volume).run(&["sh", "-c", script])
}

/// A directory for a volume that every user may write to.
fn writable_volume() -> TempDir {
    let dir = TempDir::new();
    fs::set_permissions(&dir.path, fs::Permissions::from_mode(0o777))
        .prepared("let every user write to the volume");
    dir
}

/// A file of the host's root, readable by root only (`mode`), in `dir`.
fn root_only_file(dir: &Path, name: &str, mode: u32) -> String {
    let path = dir.join(name);
    fs::write(&path, "for root only\n").prepared("write a file");
    chown(&path, Some(0), Some(0)).prepared("chown root:root");
    fs::set_permissions(&path, fs::Permissions::from_mode(mode)).prepared("set the file's mode");
    format!("/mnt/{name}")
}

/// `/proc/self/uid_map` and friends, with the kernel's column padding
/// squeezed to one space.
fn squeeze(text: &str) -> String {
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The owner of a file on the host, as `uid:gid`.
fn owner_on_the_host(path: &Path, outcome: &Outcome) -> String {
    match fs::metadata(path) {
        Ok(metadata) => format!("{}:{}", metadata.uid(), metadata.gid()),
        Err(e) => outcome.fail(&format!(
            "should have created {} on the host, through the volume ({e})",
            path.display()
        )),
    }
}

/// `--uid-map`/`--gid-map` refused with one line that mentions `words`,
/// and 125, before anything started: narrated, so that a container that
/// started would show in stderr.
fn expect_maps_refused(container: Container, maps: &[String], words: &[&str]) {
    maps.iter()
        .fold(container.narrated(), |container, flag| container.flag(flag))
        .run(&["true"])
        .expect_one_error_line(125, words)
        .expect_stdout("");
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn as_nobody_id_inside_says_root() {
    let _host = HostGuard::begin();
    let outcome = by_nobody().run(&["id"]);
    outcome.expect_success();
    if outcome.stdout != ROOT {
        outcome.fail(&format!(
            "should print {ROOT:?}: `nobody` is root in its own user namespace. 65534 is the \
             overflow id, what an id without a mapping looks like: no map was written"
        ));
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn as_nobody_the_maps_are_0_65534_1_and_setgroups_is_deny() {
    let _host = HostGuard::begin();
    let outcome = by_nobody().run(&[
        "sh",
        "-c",
        "for f in uid_map gid_map setgroups; do echo \"$f: $(cat /proc/self/$f)\"; done",
    ]);
    outcome.expect_success();
    insta::assert_snapshot!("maps-as-nobody", squeeze(&outcome.stdout));
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn as_nobody_hostname_proc_and_rootfs_work() {
    let _host = HostGuard::begin();
    let rootfs = PrivateRootfs::new();
    let volume = writable_volume();
    let script = "hostname; cat /etc/hostname; ps -o comm; echo ---; cat /proc/self/mountinfo";
    let outcome = in_rootfs(by_nobody(), &rootfs, &volume.path)
        .flag("--hostname=box")
        .run(&["sh", "-c", script]);
    outcome.expect_success();
    let Some((head, mountinfo)) = outcome.stdout.split_once("---\n") else {
        outcome.fail("should print the names, the processes, then the mount table");
    };
    if head != "box\nbox\nCOMMAND\nsh\nps\n" {
        outcome.fail(
            "should print the hostname twice (the kernel's and /etc/hostname), and `ps` \
             should list only sh and itself: lessons 01 to 04 work as `nobody` when every \
             namespace belongs to the container's user namespace",
        );
    }
    let table = mount_table(mountinfo);
    explain_mount_table("lesson05", "mounts-inside-as-nobody", &table);
    insta::assert_snapshot!("mounts-inside-as-nobody", table);
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn a_root_only_host_file_cannot_be_read_although_id_says_root() {
    let _host = HostGuard::begin();
    let volume = TempDir::new();
    let secret = root_only_file(&volume.path, "secret", 0o600);
    run_as_nobody_in_rootfs(&volume.path, &format!("id; cat {secret}"))
        .expect_stdout(ROOT_IN_THE_ROOTFS)
        .expect_failure_saying(
            "Permission denied",
            "should print root's id, and fail to read the host's root-only file with \
             \"Permission denied\": root inside is `nobody` to the host's files",
        );
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn a_file_created_in_a_volume_belongs_to_nobody_on_the_host() {
    let _host = HostGuard::begin();
    let volume = writable_volume();
    let outcome = run_as_nobody_in_rootfs(
        &volume.path,
        "touch /mnt/made-inside && stat -c %u:%g /mnt/made-inside",
    );
    outcome.expect_success().expect_stdout("0:0\n");
    let owner = owner_on_the_host(&volume.path.join("made-inside"), &outcome);
    if owner != "65534:65534" {
        outcome.fail(&format!(
            "should create a file that the host sees as nobody's (65534:65534), not {owner}: \
             the container's root is `nobody` outside"
        ));
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn mknod_inside_fails_with_eperm() {
    let _host = HostGuard::begin();
    let volume = writable_volume();
    run_as_nobody_in_rootfs(&volume.path, "id -u; mknod /tmp/node c 1 3")
        .expect_stdout("0\n")
        .expect_failure_saying(
            "Operation not permitted",
            "should print uid 0, and have mknod refused with \"Operation not permitted\" \
             (EPERM): device nodes need CAP_MKNOD in the host's user namespace",
        );
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn capabilities_are_full_inside_and_the_host_sees_nobody() {
    let _host = HostGuard::begin();
    let last_cap: u32 = fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .prepared("read cap_last_cap")
        .trim()
        .parse()
        .prepared("read cap_last_cap as a number");
    let every_capability = format!("{:016x}", (1u64 << (last_cap + 1)) - 1);
    let mut running = by_nobody().unhardened().start(&[
        "sh",
        "-c",
        "grep CapEff /proc/self/status; echo ready; exec sleep 30",
    ]);
    let capabilities = running.lines_until("ready").join("\n");
    if squeeze(&capabilities) != format!("CapEff: {every_capability}") {
        running.fail(&format!(
            "should have every capability inside (CapEff: {every_capability}): the first \
             process of a user namespace holds them all there"
        ));
    }
    let pid = running.container_pid();
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let uids = status.lines().find_map(|line| line.strip_prefix("Uid:"));
    if uids.map(|uids| squeeze(uids.trim())).as_deref() != Some("65534 65534 65534 65534") {
        running.fail(&format!(
            "should be `nobody` (Uid: 65534 ...) in the host's /proc/{pid}/status, whatever \
             it is inside"
        ));
    }
    let user_namespace = fs::read_link(format!("/proc/{pid}/ns/user")).unwrap_or_default();
    if user_namespace.to_string_lossy() == host_namespace("user") {
        running.fail(
            "should run in a user namespace of its own: its capabilities would be the host's",
        );
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn as_root_a_range_makes_the_containers_root_100000_on_the_host() {
    let _host = HostGuard::begin();
    let rootfs = PrivateRootfs::new();
    let volume = writable_volume();
    let container = RANGE
        .iter()
        .fold(Container::for_lesson(5), |container, flag| {
            container.flag(*flag)
        })
        .flag("--init");
    let mut running = in_rootfs(container, &rootfs, &volume.path).start(&[
        "sh",
        "-c",
        "id; touch /mnt/made-inside; echo ready; exec sleep 30",
    ]);
    let said = running.lines_until("ready").join("\n");
    if format!("{said}\n") != ROOT_IN_THE_ROOTFS {
        running.fail(&format!(
            "should print {ROOT_IN_THE_ROOTFS:?}: with --init too, the command must be the \
             namespace's root"
        ));
    }
    // Init and the command: no process of the container may be the
    // host's root, or anything but the range's first id.
    let runtime = running.runtime_pid();
    let not_mapped: Vec<Process> = procs::descendants_of(runtime)
        .into_iter()
        .filter(|process| host_uid(process.pid) != Some(RANGE_START))
        .collect();
    if !not_mapped.is_empty() {
        running.fail(&format!(
            "should run every process of the container as uid {RANGE_START} on the host; \
             these are not:\n{}",
            procs::describe(&not_mapped)
        ));
    }
    running.signal_runtime(Signal::SIGTERM);
    running.finish_within(DEADLINE).expect_status(128 + 15);
    let file = volume.path.join("made-inside");
    let owner = fs::metadata(&file).map(|m| format!("{}:{}", m.uid(), m.gid()));
    assert_eq!(
        owner.as_deref().ok(),
        Some("100000:100000"),
        "the file the container's root made in the volume, {}, should belong to 100000:100000 \
         on the host, the id that 0 inside maps to",
        file.display()
    );
}

/// The real uid of process `pid`, as the host sees it.
fn host_uid(pid: i32) -> Option<u32> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let uids = status.lines().find_map(|line| line.strip_prefix("Uid:"))?;
    uids.split_whitespace().next()?.parse().ok()
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn as_root_with_a_range_the_hosts_groups_are_dropped() {
    let _host = HostGuard::begin();
    let rootfs = PrivateRootfs::new();
    let volume = TempDir::new();
    let secret = root_only_file(&volume.path, "for-group-root", 0o640);
    // Root with a supplementary group, root's own: it must not follow the
    // container's processes in, or they read what group root may read.
    let root_with_group_0 = User {
        uid: 0,
        gid: 0,
        groups: &[0],
    };
    let container = RANGE.iter().fold(
        Container::for_lesson(5).by_user(root_with_group_0),
        |container, flag| container.flag(*flag),
    );
    let outcome = in_rootfs(container, &rootfs, &volume.path).run(&[
        "sh",
        "-c",
        &format!("id; cat /proc/self/setgroups; cat {secret}"),
    ]);
    outcome
        .expect_stdout(&format!("{ROOT_IN_THE_ROOTFS}allow\n"))
        .expect_failure_saying(
            "Permission denied",
            "should print root's id with no other group, `allow`, and fail to read a file \
             of group root: the host's supplementary groups must be dropped (setgroups)",
        );
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn several_lines_of_a_map_are_written_at_once() {
    let _host = HostGuard::begin();
    let outcome = Container::for_lesson(5)
        .flag("--uid-map=0:100000:1")
        .flag("--uid-map=1:100001:65535")
        .flag("--gid-map=0:100000:65536")
        .run(&["cat", "/proc/self/uid_map", "/proc/self/gid_map"]);
    outcome.expect_success();
    if squeeze(&outcome.stdout) != "0 100000 1\n1 100001 65535\n0 100000 65536" {
        outcome.fail(
            "should show both --uid-map lines in uid_map, and the --gid-map line in \
             gid_map: all the lines of a map go in one write, since a second write fails",
        );
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn overlapping_ranges_are_refused() {
    let _host = HostGuard::begin();
    for (flag, first, second, side) in [
        ("--uid-map", "0:100000:10", "5:200000:10", "inside"),
        ("--gid-map", "0:100000:10", "20:100009:5", "outside"),
    ] {
        let maps = [format!("{flag}={first}"), format!("{flag}={second}")];
        expect_maps_refused(
            Container::for_lesson(5),
            &maps,
            &[flag, first, second, side],
        );
    }
    // Ranges that only touch are fine.
    Container::for_lesson(5)
        .flag("--uid-map=0:100000:10")
        .flag("--uid-map=10:100010:10")
        .run(&["true"])
        .expect_success();
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn more_than_340_lines_are_refused_and_340_work() {
    let _host = HostGuard::begin();
    // Short lines, so that 340 of them fit in the kernel's one page.
    let lines = |count: u32| -> Vec<String> {
        (0..count)
            .map(|id| format!("--uid-map={id}:{}:1", 1000 + id))
            .collect()
    };
    expect_maps_refused(Container::for_lesson(5), &lines(341), &["--uid-map", "340"]);
    let outcome = lines(340)
        .iter()
        .fold(Container::for_lesson(5), |container, flag| {
            container.flag(flag)
        })
        .flag("--gid-map=0:1000:1")
        .run(&["sh", "-c", "wc -l < /proc/self/uid_map"]);
    outcome.expect_success();
    if outcome.stdout.trim() != "340" {
        outcome.fail("should write all 340 lines to uid_map");
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn as_nobody_mapping_ids_it_does_not_own_is_refused() {
    let _host = HostGuard::begin();
    for (map, words) in [
        ("--uid-map=0:0:1", ["--uid-map", "0:0:1", "newuidmap"]),
        (
            "--gid-map=0:65534:2",
            ["--gid-map", "0:65534:2", "newgidmap"],
        ),
    ] {
        expect_maps_refused(by_nobody(), &[map.to_string()], &words);
    }
    // Its own id, given on the command line, is the default, and fine.
    by_nobody()
        .flag(format!("--uid-map=0:{}:1", NOBODY.uid))
        .run(&["id", "-u"])
        .expect_success()
        .expect_stdout("0\n");
}

/// What lets a process map a range is `CAP_SETUID` (`CAP_SETGID`), not
/// uid 0: root without them, dropped from its bounding set by `setpriv`,
/// asks for a range. It must be refused before anything starts, with a
/// fix that fits root (running as root is no help to root).
#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn as_root_without_cap_setuid_a_range_is_refused() {
    let _host = HostGuard::begin();
    let map = "0:100000:1000";
    let container = Container::for_lesson(5)
        .narrated()
        .flag(format!("--uid-map={map}"))
        .shell_command(&["true"]);
    let outcome = Outcome::of_host_command(
        "setpriv",
        &["--bounding-set", "-setuid,-setgid", "sh", "-c", &container],
    );
    outcome
        .expect_one_error_line(125, &["--uid-map", map, "CAP_SETUID"])
        .expect_stdout("");
    if outcome.stderr.contains("run as root") {
        outcome.fail("should not tell root to run as root: it lacks CAP_SETUID, not uid 0");
    }
}
