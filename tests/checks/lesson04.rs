//! Lesson 04 (mount): the container has mounts of its own, cut off from
//! the host's; a `/proc` that shows only its processes; and with
//! `--rootfs` a root filesystem of its own, entered with `pivot_root`,
//! with a small `/dev`, generated `/etc` files and volumes.
//!
//! Checks with `--rootfs` run busybox applets inside: the rootfs has
//! nothing else. They never change the shared rootfs; a check that must
//! (a mount point to create, a symlink to plant) uses a private copy.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

use serial_test::file_parallel;

use crate::support::mounts::{
    PrivateRootfs, escape_helper, explain_mount_table, mount_table, shared_rootfs,
    shared_rootfs_flag,
};
use crate::support::{
    Container, HostGuard, Outcome, Prepare, TempDir, expect_a_namespace_of_its_own, random_hex,
};

fn with_rootfs(rootfs: &str) -> Container {
    Container::for_lesson(4).flag("--rootfs").flag(rootfs)
}

fn volume(host: &Path, container: &str) -> String {
    format!("--volume={}:{container}", host.display())
}

/// `--volume` refused with one line that names it and `word`, and 125,
/// before anything started: narrated, so that a container that started
/// before the refusal would show in stderr.
fn expect_volume_refused(rootfs: Option<&str>, volume: String, word: &str) {
    expect_volumes_refused(rootfs, &[volume], word);
}

/// The same, for a container given all of `volumes`.
fn expect_volumes_refused(rootfs: Option<&str>, volumes: &[String], word: &str) {
    let mut container = Container::for_lesson(4).narrated();
    if let Some(rootfs) = rootfs {
        container = container.flag("--rootfs").flag(rootfs);
    }
    volumes
        .iter()
        .fold(container, |container, volume| container.flag(volume))
        .run(&["true"])
        .expect_one_error_line(125, &["--volume", word]);
}

/// `script` run by `sh -c` in a mount namespace of its own, thrown away
/// when it ends: `unshare --propagation private` first cuts it off from
/// the host's, so that nothing `script` mounts, nor anything that leaks
/// into it, ever reaches the host, whatever the host's propagation.
fn in_a_throwaway_mount_namespace(script: &str) -> Outcome {
    Outcome::of_host_command(
        "unshare",
        &["--mount", "--propagation", "private", "sh", "-c", script],
    )
}

/// The binary's name (`lesson-04`, `solution-05`...), which init (a copy
/// of the runtime) shows in `ps`.
fn normalise_runtime_name(text: &str, container: &Container) -> String {
    text.replace(&container.target().name(), "[RUNTIME]")
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn ps_inside_lists_only_the_containers_processes() {
    let _host = HostGuard::begin();
    let outcome = Container::for_lesson(4).run(&[
        "sh",
        "-c",
        "ps -eo pid,ppid,comm; grep PPid /proc/1/status",
    ]);
    outcome.expect_success();
    if outcome.stdout.lines().count() != 4 {
        outcome.fail(
            "should list two processes, the shell (PID 1) and `ps` (PID 2), and PID 1's \
             parent 0: `ps` reads /proc, which must be a new proc mounted in the container",
        );
    }
    insta::assert_snapshot!("ps-inside", outcome.stdout);
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn the_hosts_proc_and_mounts_are_untouched_after_the_container_exits() {
    let _host = HostGuard::begin();
    let mounts_before = read("/proc/self/mountinfo");
    Container::for_lesson(4).run(&["ps", "-e"]).expect_success();
    // `ps` on the host must still see the host's processes, this one
    // included: a container's proc mounted over the host's would not.
    let me = std::process::id().to_string();
    let host_ps = Outcome::of_host_command("ps", &["-o", "pid=", "-p", &me]);
    host_ps.expect_success();
    if host_ps.stdout.trim() != me {
        host_ps.fail(&format!("should list this check's own process, {me}"));
    }
    let mounts_after = read("/proc/self/mountinfo");
    assert!(
        mounts_after == mounts_before,
        "the host's /proc/self/mountinfo changed while the container ran; a mount made \
         for the container reached the host (CLONE_NEWNS?).\nbefore:\n{mounts_before}\nafter:\n{mounts_after}"
    );
}

/// This machine's `/` may be private (systemd makes it shared), so the
/// check makes it shared in a throwaway mount namespace of its own, runs
/// the container there, and looks from there.
#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn a_mount_inside_never_reaches_a_host_whose_mounts_are_shared() {
    let _host = HostGuard::begin();
    let target = TempDir::new();
    let probe = format!("nslab-probe-{}", random_hex(4));
    let inside = format!(
        "mount -t tmpfs {probe} {} && grep -c {probe} /proc/self/mountinfo",
        target.path.display()
    );
    let container = Container::for_lesson(4)
        .unhardened()
        .shell_command(&["sh", "-c", &inside]);
    let outcome = in_a_throwaway_mount_namespace(&format!(
        "mount --make-rshared / && {container} || exit $?; \
         echo \"mounts of {probe} outside: $(grep -c {probe} /proc/self/mountinfo)\""
    ));
    outcome.expect_success();
    if outcome.stdout != format!("1\nmounts of {probe} outside: 0\n") {
        outcome.fail(
            "should mount the tmpfs inside (1) and never outside (0): with `/` shared, the \
             container's mounts must be made private before it mounts anything",
        );
    }
}

/// The same with `--rootfs`, where the runtime mounts a whole tree (the
/// rootfs onto itself, proc, sysfs, /dev, the /etc files) before it
/// enters it: every one of them must stay in the container.
#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn with_a_rootfs_no_mount_reaches_a_host_whose_mounts_are_shared() {
    let _host = HostGuard::begin();
    let rootfs = fs::canonicalize(shared_rootfs()).prepared("find the shared rootfs");
    let rootfs = rootfs.display().to_string();
    let container = with_rootfs(&rootfs).shell_command(&["true"]);
    // Fields 4 and 5 of mountinfo: the mount's root and where it is.
    let below_the_rootfs =
        format!("awk -v r='{rootfs}' 'index($5, r) == 1 {{ print $5 }}' /proc/self/mountinfo");
    let outcome = in_a_throwaway_mount_namespace(&format!(
        "mount --make-rshared / && {container} || exit $?; {below_the_rootfs}"
    ));
    outcome.expect_success();
    if !outcome.stdout.is_empty() {
        outcome.fail(&format!(
            "should leave no mount below {rootfs} outside the container, but these reached \
             it: with `/` shared, the container's mounts must be made private before \
             anything is mounted in the rootfs"
        ));
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn the_mount_namespace_is_not_the_hosts() {
    let _host = HostGuard::begin();
    expect_a_namespace_of_its_own(&Container::for_lesson(4), "mnt");
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn the_rootfs_is_the_containers_root_and_the_host_is_gone() {
    let _host = HostGuard::begin();
    let rootfs = shared_rootfs();
    let marker_dir = TempDir::new();
    let marker = format!("nslab-marker-{}", random_hex(4));
    fs::write(marker_dir.path.join(&marker), "on the host\n").prepared("write the marker");

    let script = format!(
        "ls /; echo ---; find / -path /proc -prune -o -path /sys -prune -o -name {marker} -print; \
         echo ---; cat /proc/self/mountinfo"
    );
    let outcome = with_rootfs(&shared_rootfs_flag()).run(&["sh", "-c", &script]);
    if outcome.stderr.contains("/proc/self/mountinfo") {
        outcome.fail(
            "should have a proc of its own, but /proc/self/mountinfo is missing inside: \
             `mount_proc` must mount proc on the `target` it is given (the rootfs's proc)",
        );
    }
    outcome.expect_success();
    let parts: Vec<&str> = outcome.stdout.split("---\n").collect();
    let [listed, found, mountinfo] = parts.as_slice() else {
        outcome.fail("should print `ls /`, the marker search and the mount table");
    };
    let mut expected: Vec<String> = fs::read_dir(&rootfs)
        .prepared("list the rootfs")
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    expected.sort();
    if listed.lines().ne(expected.iter().map(String::as_str)) {
        outcome.fail(&format!(
            "`ls /` should list the rootfs {} ({}), not the host's /",
            rootfs.display(),
            expected.join(" ")
        ));
    }
    if !found.is_empty() {
        outcome.fail(&format!(
            "should not find the host's file {marker} anywhere inside, but it is at {found}: \
             the host's root is still reachable (unmount the old root after pivot_root)"
        ));
    }
    let table = mount_table(mountinfo);
    explain_mount_table("lesson04", "mounts-inside-the-rootfs", &table);
    insta::assert_snapshot!("mounts-inside-the-rootfs", table);
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn a_chroot_escape_does_not_reach_the_host() {
    let _host = HostGuard::begin();
    let tools = TempDir::new();
    escape_helper(&tools.path);
    let marker_dir = TempDir::new();
    let marker = marker_dir.path.join("only-on-the-host");
    fs::write(&marker, "").prepared("write the marker");
    let marker = marker.display().to_string();
    let outcome = with_rootfs(&shared_rootfs_flag())
        .flag(volume(&tools.path, "/mnt:ro"))
        .run(&["/mnt/escape", &marker]);
    outcome.expect_success();
    if outcome.stdout != format!("stayed inside: there is no {marker}\n") {
        outcome.fail(
            "should stay inside: after chroot into a subdirectory, `..` climbs to the root \
             of the mount namespace, which must be the rootfs (pivot_root), not the host's",
        );
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn the_generated_etc_files_are_there_and_read_only() {
    let _host = HostGuard::begin();
    let name = format!("box-{}", random_hex(3));
    let script = "cat /etc/hostname; grep -c \"$(cat /etc/hostname)\" /etc/hosts; \
                  for f in /etc/hostname /etc/hosts /etc/resolv.conf; do \
                  if echo x >> $f; then echo \"$f: written\"; else echo \"$f: refused\"; fi; done";
    let outcome = with_rootfs(&shared_rootfs_flag())
        .flag("--hostname")
        .flag(&name)
        .run(&["sh", "-c", script]);
    outcome.expect_success().expect_stdout(&format!(
        "{name}\n1\n/etc/hostname: refused\n/etc/hosts: refused\n/etc/resolv.conf: refused\n"
    ));
    if outcome.stderr.matches("Read-only file system").count() != 3 {
        outcome.fail("should refuse each write with \"Read-only file system\" (EROFS)");
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn a_file_written_to_a_volume_appears_on_the_host() {
    let _host = HostGuard::begin();
    let shared = TempDir::new();
    let word = random_hex(4);
    fs::write(shared.path.join("from-the-host"), format!("{word}\n")).prepared("write a file");
    let script = format!("cat /home/from-the-host && echo {word} > /home/from-inside");
    let outcome = with_rootfs(&shared_rootfs_flag())
        .flag(volume(&shared.path, "/home"))
        .run(&["sh", "-c", &script]);
    outcome.expect_success().expect_stdout(&format!("{word}\n"));
    let written = fs::read_to_string(shared.path.join("from-inside")).unwrap_or_default();
    if written != format!("{word}\n") {
        outcome.fail(&format!(
            "should write {word:?} into {}/from-inside on the host, through the volume; \
             the host has {written:?}",
            shared.path.display()
        ));
    }
}

/// A volume is the host's directory with everything mounted below it, as
/// `mount --rbind` makes it: the mount inside it is made in a throwaway
/// mount namespace, where the container runs too.
#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn a_mount_inside_a_volumes_directory_shows_in_the_container() {
    let _host = HostGuard::begin();
    let shared = TempDir::new();
    let inner = shared.path.join("inner");
    fs::create_dir(&inner).prepared("create a directory in the volume");
    let word = random_hex(4);
    let container = with_rootfs(&shared_rootfs_flag())
        .flag(volume(&shared.path, "/home"))
        .shell_command(&["cat", "/home/inner/file"]);
    let inner = inner.display();
    let outcome = in_a_throwaway_mount_namespace(&format!(
        "mount -t tmpfs nslab-inner {inner} && echo {word} > {inner}/file && {container}"
    ));
    if outcome.status != Some(0) || outcome.stdout != format!("{word}\n") {
        outcome.fail(&format!(
            "should print {word:?}, from the tmpfs mounted on {inner} on the host: a volume \
             must bring the mounts below its directory along (MS_REC), or the container \
             sees an empty directory there"
        ));
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn a_read_only_volume_refuses_writes() {
    let _host = HostGuard::begin();
    let shared = TempDir::new();
    fs::write(shared.path.join("from-the-host"), "readable\n").prepared("write a file");
    let outcome = with_rootfs(&shared_rootfs_flag())
        .flag(volume(&shared.path, "/home:ro"))
        .run(&[
            "sh",
            "-c",
            "cat /home/from-the-host; touch /home/from-inside",
        ]);
    outcome.expect_stdout("readable\n");
    if outcome.status == Some(0) || !outcome.stderr.contains("Read-only file system") {
        outcome.fail(
            "should let `touch` fail with \"Read-only file system\" (EROFS): the volume is :ro",
        );
    }
    assert!(
        !shared.path.join("from-inside").exists(),
        "the container wrote into the read-only volume {}",
        shared.path.display()
    );
}

/// `--read-only`: the rootfs refuses a new file, while `/tmp` (a tmpfs of
/// its own) and a volume take one. On a private copy: a runtime that
/// leaves the root writable must not plant a file in the shared rootfs.
#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn a_read_only_root_refuses_writes_but_not_in_tmp_or_a_volume() {
    let _host = HostGuard::begin();
    let rootfs = PrivateRootfs::new();
    let shared = TempDir::new();
    let planted = format!("planted-{}", random_hex(4));
    let script = format!(
        "for f in /{planted} /bin/{planted} /tmp/{planted} /home/{planted}; do \
         if touch $f; then echo \"$f: written\"; else echo \"$f: refused\"; fi; done"
    );
    let outcome = with_rootfs(&rootfs.flag())
        .flag("--read-only")
        .flag(volume(&shared.path, "/home"))
        .run(&["sh", "-c", &script]);
    outcome.expect_success().expect_stdout(&format!(
        "/{planted}: refused\n/bin/{planted}: refused\n/tmp/{planted}: written\n\
         /home/{planted}: written\n"
    ));
    if outcome.stderr.matches("Read-only file system").count() != 2 {
        outcome
            .fail("should refuse both writes to the rootfs with \"Read-only file system\" (EROFS)");
    }
    assert!(
        shared.path.join(&planted).exists(),
        "the file written to the volume is not in {} on the host",
        shared.path.display()
    );
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn dev_holds_only_the_containers_devices() {
    let _host = HostGuard::begin();
    let script = "ls /dev; echo ---; ls /dev/pts; echo ---; \
                  stat -c '%n %F %t:%T' /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty; \
                  echo ---; echo hi > /dev/null && head -c 4 /dev/zero | wc -c; echo ---; \
                  if mknod /dev/made-inside c 1 3; then \
                  if echo x > /dev/made-inside; then echo 'a node made in /dev works'; \
                  else echo 'a node made in /dev cannot be opened'; fi; fi";
    let container = with_rootfs(&shared_rootfs_flag());
    let outcome = container.run(&["sh", "-c", script]);
    outcome.expect_success();
    let Some((devices, made)) = outcome.stdout.rsplit_once("---\n") else {
        outcome.fail("should list /dev, /dev/pts and the devices, then try mknod");
    };
    // From lesson 05 on, the container is in a user namespace, and making
    // a device node takes CAP_MKNOD in the host's: mknod itself is refused
    // (chapter 05, "Capabilities inside, and outside").
    let refused = container.target().level >= 5;
    if refused && (!made.is_empty() || !outcome.stderr.contains("Operation not permitted")) {
        outcome.fail("should see mknod refused with EPERM: the container is in a user namespace");
    }
    if !refused && made != "a node made in /dev cannot be opened\n" {
        outcome.fail("should make a node with mknod that cannot be opened: /dev is nodev");
    }
    insta::assert_snapshot!("dev-inside", devices);
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn with_init_the_rootfs_works_and_init_keeps_nothing_of_the_host() {
    let _host = HostGuard::begin();
    let container = with_rootfs(&shared_rootfs_flag())
        .flag("--init")
        .unhardened();
    let outcome = container.run(&[
        "sh",
        "-c",
        "ps -o pid,ppid,comm; readlink /proc/1/root; readlink /proc/1/cwd",
    ]);
    outcome.expect_success();
    if !outcome.stdout.ends_with("/\n/\n") {
        outcome.fail(
            "init's root and working directory (/proc/1/root, /proc/1/cwd) should both be the \
             container's /, or init keeps a way back to the host",
        );
    }
    insta::assert_snapshot!(
        "ps-with-init-in-the-rootfs",
        normalise_runtime_name(&outcome.stdout, &container)
    );
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn after_exit_the_rootfs_can_be_removed() {
    let _host = HostGuard::begin();
    let rootfs = PrivateRootfs::new();
    let shared = TempDir::new();
    let mounts_before = read("/proc/self/mountinfo");
    with_rootfs(&rootfs.flag())
        .flag(volume(&shared.path, "/data"))
        .run(&["sh", "-c", "echo hi > /data/file && ls /data"])
        .expect_success()
        .expect_stdout("file\n");
    Outcome::of_host_command("rm", &["-rf", &rootfs.flag()]).expect_success();
    assert!(
        !rootfs.path.exists(),
        "{} is still there after `rm -rf`",
        rootfs.flag()
    );
    assert!(
        read("/proc/self/mountinfo") == mounts_before,
        "the host's mount table changed"
    );
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn a_symlink_in_the_rootfs_cannot_place_a_volume_outside_it() {
    let _host = HostGuard::begin();
    let rootfs = PrivateRootfs::new();
    // The image's /LINK points at /etc: inside the container, that is the
    // container's /etc; on the host, resolved naively, the host's. LINK is
    // a name no rootfs has: a learner's `--volume X:/data` run may have
    // made /data in the course rootfs this one is copied from.
    let link = format!("nslab-link-{}", random_hex(4));
    symlink("/etc", rootfs.path.join(&link)).prepared("plant the symlink");
    let name = format!("nslab-volume-{}", random_hex(4));
    let shared = TempDir::new();
    fs::write(shared.path.join("file"), "from the volume\n").prepared("write a file");
    let on_the_host = Path::new("/etc").join(&name);
    let outcome = with_rootfs(&rootfs.flag())
        .flag(volume(&shared.path, &format!("/{link}/{name}")))
        .run(&["cat", &format!("/etc/{name}/file")]);
    let leaked = on_the_host.exists();
    if leaked {
        let _ = fs::remove_dir(&on_the_host);
        outcome.fail(&format!(
            "created the mount point {} on the host: the symlink /{link} -> /etc in the \
             rootfs must be followed inside the rootfs",
            on_the_host.display()
        ));
    }
    outcome.expect_success().expect_stdout("from the volume\n");
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn a_missing_rootfs_or_one_that_is_not_a_directory_is_refused() {
    let _host = HostGuard::begin();
    let missing = format!("/nonexistent-rootfs-{}", random_hex(4));
    Container::for_lesson(4)
        .narrated()
        .flag("--rootfs")
        .flag(&missing)
        .run(&["true"])
        .expect_one_error_line(125, &["--rootfs", &missing])
        .expect_stdout("");
    let dir = TempDir::new();
    let file = dir.path.join("a-file");
    fs::write(&file, "").prepared("write a file");
    Container::for_lesson(4)
        .narrated()
        .flag("--rootfs")
        .flag(file.display().to_string())
        .run(&["true"])
        .expect_one_error_line(125, &["--rootfs", "not a directory"]);
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn a_rootfs_without_the_command_gives_127() {
    let _host = HostGuard::begin();
    // A program that exists on the host, and not in the rootfs.
    let dir = TempDir::new();
    let program = dir.path.join("only-on-the-host");
    fs::write(&program, "#!/bin/sh\nexit 0\n").prepared("write a script on the host");
    fs::set_permissions(&program, fs::Permissions::from_mode(0o755)).prepared("make it executable");
    let program = program.display().to_string();
    with_rootfs(&shared_rootfs_flag())
        .run(&[&program])
        .expect_one_error_line(127, &[&program])
        .expect_stdout("");
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn a_missing_volume_source_is_refused() {
    let _host = HostGuard::begin();
    let missing = format!("/nonexistent-volume-{}", random_hex(4));
    let rootfs = shared_rootfs_flag();
    expect_volume_refused(Some(&rootfs), volume(Path::new(&missing), "/mnt"), &missing);
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn a_relative_container_path_is_refused() {
    let _host = HostGuard::begin();
    let shared = TempDir::new();
    let rootfs = shared_rootfs_flag();
    // Any words will do, "relative" or "not absolute", as long as the line
    // names the flag and the value.
    let relative = format!("nslab-relative-{}", random_hex(4));
    expect_volume_refused(Some(&rootfs), volume(&shared.path, &relative), &relative);
}

/// Every `--volume` is checked before anything is created: a bad last one
/// leaves no mount point of the good ones behind in the rootfs.
#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn a_bad_last_volume_is_refused_before_anything_is_created() {
    let _host = HostGuard::begin();
    let rootfs = PrivateRootfs::new();
    let shared = TempDir::new();
    let names: Vec<String> = ["first", "second", "third"]
        .iter()
        .map(|which| format!("nslab-{which}-{}", random_hex(4)))
        .collect();
    let missing = format!("/nonexistent-volume-{}", random_hex(4));
    let volumes = [
        volume(&shared.path, &format!("/{}", names[0])),
        volume(&shared.path, &format!("/{}", names[1])),
        volume(Path::new(&missing), &format!("/{}", names[2])),
    ];
    expect_volumes_refused(Some(&rootfs.flag()), &volumes, &missing);
    let created: Vec<&String> = names
        .iter()
        .filter(|name| rootfs.path.join(name).exists())
        .collect();
    assert!(
        created.is_empty(),
        "the refusal of the last --volume left {created:?} in the rootfs {}: `validate` must \
         check every --volume before the container starts",
        rootfs.flag()
    );
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn a_container_path_escaping_the_rootfs_is_refused() {
    let _host = HostGuard::begin();
    let shared = TempDir::new();
    let rootfs = shared_rootfs_flag();
    expect_volume_refused(
        Some(&rootfs),
        volume(&shared.path, "/../../etc"),
        "/../../etc",
    );
    // A relative symlink that climbs out; refused before anything is
    // mounted or created, so a bare directory will do as the rootfs.
    let rootfs = TempDir::new();
    symlink("../../../..", rootfs.path.join("up")).prepared("plant the symlink");
    let bare = rootfs.path.display().to_string();
    expect_volume_refused(Some(&bare), volume(&shared.path, "/up/etc"), "/up/etc");
    let entries: Vec<_> = fs::read_dir(&rootfs.path)
        .prepared("list its rootfs")
        .flatten()
        .collect();
    assert_eq!(entries.len(), 1, "the refusal created files in the rootfs");
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn a_volume_without_a_rootfs_is_refused() {
    let _host = HostGuard::begin();
    let shared = TempDir::new();
    expect_volume_refused(None, volume(&shared.path, "/data"), "--rootfs");
}

fn read(path: &str) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}
