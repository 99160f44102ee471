//! Lesson 01 (UTS): the container has a hostname of its own, and the
//! host's never changes.

use serial_test::file_parallel;

use crate::support::{Container, HostGuard, expect_a_namespace_of_its_own, random_hex};

fn random_hostname() -> String {
    format!("box-{}", random_hex(4))
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn hostname_and_uname_show_the_name_asked_for() {
    let _host = HostGuard::begin();
    let name = random_hostname();
    let container = Container::for_lesson(1).flag("--hostname").flag(&name);
    container
        .run(&["hostname"])
        .expect_success()
        .expect_stdout(&format!("{name}\n"));
    container
        .run(&["uname", "-n"])
        .expect_success()
        .expect_stdout(&format!("{name}\n"));
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn the_default_hostname_is_container() {
    let _host = HostGuard::begin();
    Container::for_lesson(1)
        .run(&["hostname"])
        .expect_success()
        .expect_stdout("container\n");
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn domainname_is_the_one_asked_for() {
    let _host = HostGuard::begin();
    let domain = format!("lab-{}", random_hex(4));
    Container::for_lesson(1)
        .flag("--domainname")
        .flag(&domain)
        .run(&["cat", "/proc/sys/kernel/domainname"])
        .expect_success()
        .expect_stdout(&format!("{domain}\n"));
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn the_uts_namespace_is_not_the_hosts() {
    let _host = HostGuard::begin();
    expect_a_namespace_of_its_own(&Container::for_lesson(1), "uts");
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn the_host_keeps_its_hostname_while_the_container_runs() {
    let _host = HostGuard::begin();
    let host_name = host_hostname();
    let name = random_hostname();
    let mut running = Container::for_lesson(1)
        .flag("--hostname")
        .flag(&name)
        .start(&["sh", "-c", "hostname; exec sleep 30"]);
    running.expect_line(&name);
    let during = host_hostname();
    if during != host_name {
        running.fail(&format!(
            "should leave the host's hostname alone, but while it ran the host was renamed \
             from {host_name:?} to {during:?}"
        ));
    }
}

/// The hostname of the host (the check's own UTS namespace).
fn host_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap_or_else(|e| panic!("cannot read the host's hostname: {e}"))
        .trim_end()
        .to_string()
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn a_hostname_longer_than_64_bytes_is_refused_before_anything_starts() {
    let _host = HostGuard::begin();
    let too_long = "x".repeat(65);
    // Narrated: if a container started before the refusal, its transcript
    // lines would make stderr longer than the one error line.
    Container::for_lesson(1)
        .narrated()
        .flag("--hostname")
        .flag(&too_long)
        .run(&["true"])
        .expect_one_error_line(125, &["hostname", "64"]);
    // The kernel counts bytes: 22 characters of 3 bytes each are 66.
    Container::for_lesson(1)
        .narrated()
        .flag("--hostname")
        .flag("容".repeat(22))
        .run(&["true"])
        .expect_one_error_line(125, &["hostname", "64"]);
    // The domain name lives in a field of the same size.
    Container::for_lesson(1)
        .narrated()
        .flag("--domainname")
        .flag(&too_long)
        .run(&["true"])
        .expect_one_error_line(125, &["domainname", "64"]);
    // 64 bytes is the longest name the kernel takes, and must work.
    let longest = "y".repeat(64);
    Container::for_lesson(1)
        .flag("--hostname")
        .flag(&longest)
        .run(&["hostname"])
        .expect_success()
        .expect_stdout(&format!("{longest}\n"));
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn an_empty_hostname_is_refused_before_anything_starts() {
    let _host = HostGuard::begin();
    Container::for_lesson(1)
        .narrated()
        .flag("--hostname=")
        .run(&["true"])
        .expect_one_error_line(125, &["hostname"]);
}
