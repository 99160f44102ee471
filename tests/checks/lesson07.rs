//! Lesson 07 (join): `exec NAME -- CMD` runs a command inside a running
//! container, in every one of its namespaces, at its root and working
//! directory, as its user; `--keep-net NAME` names its network namespace
//! for `ip netns exec`. Checks that start a named container put its name
//! in the state directory, and some a name in /run/netns: they run one at
//! a time (`file_serial`).
//!
//! `ps`, `ns` and the refusals of names that do not run are the core's
//! (see `runtime_core`): they work on the untouched exercise too.

use serial_test::file_serial;

use crate::support::join::{Named, namespaces_of, readlink_every_namespace};
use crate::support::mounts::shared_rootfs_flag;
use crate::support::{Container, HostGuard, NOBODY, Outcome};

fn lesson_07() -> Container {
    Container::for_lesson(7)
}

fn in_rootfs() -> Container {
    lesson_07().flag("--rootfs").flag(shared_rootfs_flag())
}

#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn exec_sees_the_containers_hostname() {
    let _host = HostGuard::begin();
    let named = Named::start(lesson_07().flag("--hostname=joined"), "true");
    named
        .exec(&["sh", "-c", "hostname; echo $HOSTNAME"])
        .expect_success()
        .expect_stdout("joined\njoined\n");
    named.stop();
}

#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn exec_runs_in_the_containers_pid_namespace_and_sees_its_processes() {
    let _host = HostGuard::begin();
    let named = Named::start(in_rootfs(), "true");
    let outcome = named.exec(&["sh", "-c", "echo $$; ps -o pid,comm"]);
    outcome.expect_success();
    let mut lines = outcome.stdout.lines();
    let me = lines.next().unwrap_or_default().trim().to_string();
    let listed: Vec<(String, String)> = lines
        .skip(1)
        .filter_map(|line| {
            let (pid, comm) = line.trim().split_once(' ')?;
            Some((pid.to_string(), comm.trim().to_string()))
        })
        .collect();
    if !listed.contains(&("1".to_string(), "sh".to_string())) {
        outcome.fail(
            "should list the container's shell as PID 1: `ps` reads /proc, and the command must \
             be in the container's mount namespace (its /proc) and PID namespace",
        );
    }
    if !listed.iter().any(|(pid, _)| *pid == me) {
        outcome.fail(&format!(
            "should list its own shell ($$ = {me}) among the container's processes: `setns` \
             into a PID namespace moves only the caller's future children, so the command must \
             run in a child made by `fork` after it"
        ));
    }
    named.stop();
}

#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn exec_starts_in_the_containers_root_and_working_directory() {
    let _host = HostGuard::begin();
    let named = Named::start(in_rootfs(), "cd /etc");
    let outcome = named.exec(&["sh", "-c", "pwd; ls /"]);
    outcome.expect_success();
    let rootfs = crate::support::mounts::shared_rootfs();
    let mut expected: Vec<String> = std::fs::read_dir(&rootfs)
        .expect("list the rootfs")
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    expected.sort();
    let mut listed: Vec<String> = outcome.stdout.lines().skip(1).map(str::to_string).collect();
    listed.sort();
    if outcome.stdout.lines().next() != Some("/etc") {
        outcome.fail(
            "should print /etc first: the container's shell did `cd /etc`, and `exec` starts \
             where the container's first process is, as `nsenter --wd` does",
        );
    }
    if listed != expected {
        outcome.fail(&format!(
            "should list the container's root, the busybox rootfs ({expected:?}), not the host's"
        ));
    }
    named.stop();
}

#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn exec_joins_every_namespace_of_the_container() {
    let _host = HostGuard::begin();
    let mut named = Named::start(in_rootfs(), "true");
    let expected = namespaces_of(named.pid());
    let outcome = named.exec(&["sh", "-c", &readlink_every_namespace()]);
    outcome.expect_success();
    if outcome.stdout != expected {
        outcome.fail(&format!(
            "should print the container's namespaces, as `readlink /proc/PID/ns/*` shows them on \
             the host for its first process:\n{expected}"
        ));
    }
    named.stop();
}

/// A real peer agrees: util-linux's `nsenter -a` and `lsns -p` see the
/// same namespaces as our `exec`.
#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn nsenter_and_lsns_agree_with_exec() {
    let _host = HostGuard::begin();
    let mut named = Named::start(in_rootfs(), "true");
    let pid = named.pid().to_string();
    let ours = named.exec(&["sh", "-c", &readlink_every_namespace()]);
    ours.expect_success();
    let nsenter = Outcome::of_host_command(
        "nsenter",
        &["-t", &pid, "-a", "sh", "-c", &readlink_every_namespace()],
    );
    nsenter.expect_success();
    if nsenter.stdout != ours.stdout {
        ours.fail(&format!(
            "should print what `nsenter -t {pid} -a` prints in the same container:\n{}",
            nsenter.stdout
        ));
    }
    let lsns = Outcome::of_host_command("lsns", &["-p", &pid, "-n", "-o", "TYPE,NS"]);
    lsns.expect_success();
    let mut listed: Vec<String> = lsns
        .stdout
        .lines()
        .filter_map(|line| {
            let (kind, id) = line.trim().split_once(char::is_whitespace)?;
            Some(format!("{kind}:[{}]", id.trim()))
        })
        .collect();
    listed.sort();
    let mut seen: Vec<String> = ours.stdout.lines().map(str::to_string).collect();
    seen.sort();
    if listed != seen {
        ours.fail(&format!(
            "should print the namespaces `lsns -p {pid}` lists: {listed:?}"
        ));
    }
    named.stop();
}

#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn exec_passes_the_exit_status_through() {
    let _host = HostGuard::begin();
    let named = Named::start(in_rootfs(), "true");
    named.exec(&["sh", "-c", "exit 7"]).expect_status(7);
    named.exec(&["sh", "-c", "kill -9 $$"]).expect_status(137);
    named
        .exec(&["no-such-command"])
        .expect_one_error_line(127, &["no-such-command"]);
    named.stop();
}

/// With `--keep-net NAME`, `/run/netns/NAME` is a bind mount of the
/// container's network namespace while it runs, and gone once it ends.
#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn keep_net_names_the_network_namespace_for_ip_netns_exec() {
    let _host = HostGuard::begin();
    let mut named = Named::start_keeping_net(lesson_07(), "true");
    let name = named.name.clone();
    let container_net = namespaces_of(named.pid())
        .lines()
        .find(|line| line.starts_with("net:"))
        .unwrap_or_default()
        .to_string();
    let outcome = Outcome::of_host_command(
        "ip",
        &["netns", "exec", &name, "readlink", "/proc/self/ns/net"],
    );
    if outcome.status != Some(0) || outcome.stdout.trim() != container_net {
        named.fail(&format!(
            "should let `ip netns exec {name}` enter the container's network namespace \
             {container_net}; it printed {:?} (status {:?}, stderr {:?})",
            outcome.stdout, outcome.status, outcome.stderr
        ));
    }
    let target = format!("/run/netns/{name}");
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mounted = mountinfo.lines().any(|line| {
        let fields: Vec<&str> = line.split(' ').collect();
        fields.get(4) == Some(&target.as_str()) && line.contains(" - nsfs ")
    });
    if !mounted {
        named.fail(&format!(
            "should bind-mount /proc/PID/ns/net on {target} (an nsfs mount in the host's \
             /proc/self/mountinfo): a symbolic link would dangle once the container ends, and \
             would not keep the namespace"
        ));
    }
    named.stop();
    let list = Outcome::of_host_command("ip", &["netns", "list"]);
    if std::path::Path::new(&target).exists() || list.stdout.contains(&name) {
        list.fail(&format!(
            "should no longer list {name}: the runtime releases {target} when the container ends"
        ));
    }
}

/// Lesson 06's network: `exec` and `ip netns exec` both see `eth0`.
#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn exec_and_ip_netns_exec_see_the_containers_eth0() {
    let _host = HostGuard::begin();
    let named = Named::start_keeping_net(lesson_07().flag("--net=bridge"), "true");
    let links = |outcome: &Outcome| -> Vec<String> {
        outcome
            .stdout
            .lines()
            .filter_map(|line| line.split(": ").nth(1))
            .map(|name| name.split('@').next().unwrap_or(name).to_string())
            .collect()
    };
    let inside = named.exec(&["ip", "-o", "link"]);
    inside.expect_success();
    if links(&inside) != ["lo", "eth0"] {
        inside.fail("should list `lo` and `eth0`, the container's links, and no other");
    }
    let outside =
        Outcome::of_host_command("ip", &["netns", "exec", &named.name, "ip", "-o", "link"]);
    outside.expect_success();
    if links(&outside) != ["lo", "eth0"] {
        outside.fail(
            "should list the container's `lo` and `eth0`: --keep-net names its network namespace",
        );
    }
    named.stop();
}
/// Lesson 05: `nobody` starts a container of its own, and joins it.
#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn exec_works_in_a_container_started_unprivileged_by_the_same_user() {
    let _host = HostGuard::begin();
    let mut named = Named::start(lesson_07().by_user(NOBODY).flag("--hostname=mine"), "true");
    let expected = namespaces_of(named.pid());
    let outcome = named.exec(&[
        "sh",
        "-c",
        &format!("id -u; hostname; {}", readlink_every_namespace()),
    ]);
    outcome.expect_success();
    if outcome.stdout != format!("0\nmine\n{expected}") {
        outcome.fail(&format!(
            "should print 0 (root inside), `mine`, then the container's namespaces, user \
             included:\n{expected}\nAs `nobody`, the user namespace comes first: it is what \
             gives the right to join the others"
        ));
    }
    named.stop();
}
