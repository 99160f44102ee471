//! Lesson 02 (IPC): the container has System V IPC objects of its own. It
//! cannot see or remove the host's, and the host never sees the ones it
//! makes. Every check here that puts objects on the host is
//! `#[file_serial(host)]` and removes them however it ends.

use nix::sys::signal::Signal;
use serial_test::{file_parallel, file_serial};

use crate::support::ipc::{HostObject, Kind, RemoveIfLeaked, describe, host_objects, keys_listed};
use crate::support::{Container, HostGuard, expect_a_namespace_of_its_own};

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn the_ipc_namespace_is_not_the_hosts() {
    let _host = HostGuard::begin();
    expect_a_namespace_of_its_own(&Container::for_lesson(2), "ipc");
}

#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn the_hosts_queue_segment_and_semaphores_are_invisible_inside() {
    let _host = HostGuard::begin();
    let objects = Kind::ALL.map(HostObject::create);
    let container = Container::for_lesson(2);

    // `ipcs` alone lists all three tables.
    let listing = container.run(&["ipcs"]);
    listing.expect_success();
    for HostObject(object) in &objects {
        if keys_listed(&listing.stdout).contains(&object.key) {
            listing.fail(&format!(
                "should not list the host's {object}: the container sees the host's IPC objects"
            ));
        }
    }

    // Nor can the container remove them by id.
    for HostObject(object) in &objects {
        let removal = container.run(&["ipcrm", object.kind.flag(), &object.id.to_string()]);
        if removal.status == Some(0) {
            removal.fail(&format!(
                "should fail: id {} is the host's {object}, and inside there is no such id",
                object.id
            ));
        }
    }
    for object in &objects {
        assert!(
            object.is_on_the_host(),
            "the host's {} is gone: the container removed it",
            object.0
        );
    }
}

/// The empty table, as `ipcs -q` prints it, while the host has a queue.
#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn ipcs_inside_lists_no_queues_while_the_host_has_one() {
    let _host = HostGuard::begin();
    let queue = HostObject::create(Kind::Queue);
    let outcome = Container::for_lesson(2).run(&["ipcs", "-q"]);
    outcome.expect_success();
    let listed = keys_listed(&outcome.stdout);
    if !listed.is_empty() {
        outcome.fail(&format!(
            "should list no queue at all, but lists {listed:?} (the host's queue is {})",
            queue.0
        ));
    }
    // `ipcs` pads its columns with spaces; only the shape matters.
    insta::with_settings!({filters => vec![(r"(?m)[ \t]+$", "")]}, {
        insta::assert_snapshot!("ipcs-q-inside", outcome.stdout);
    });
}

#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn a_queue_made_inside_never_reaches_the_host() {
    let _host = HostGuard::begin();
    let before = host_objects(Kind::Queue);
    let mut running = Container::for_lesson(2).start(&[
        "sh",
        "-c",
        "ipcmk -Q && ipcs -q && echo ready && exec sleep 30",
    ]);
    let printed = running.lines_until("ready");
    let keys = keys_listed(&printed.join("\n"));
    let [key] = keys.as_slice() else {
        running.fail("should make one queue with `ipcmk -Q` and list it with `ipcs -q`");
    };
    let _leak = RemoveIfLeaked {
        kind: Kind::Queue,
        key: key.clone(),
        before: before.clone(),
    };

    let during = host_objects(Kind::Queue);
    if during != before {
        running.fail(&format!(
            "made queue {key} inside; while it runs, the host's queues should stay as they \
             were ({}), but they are: {}",
            describe(&before),
            describe(&during)
        ));
    }
    // End the container the hard way (SIGKILL works on a PID 1 too), so
    // nothing in it gets a chance to clean up after itself.
    running.signal_container(Signal::SIGKILL);
    running.finish().expect_status(128 + 9);
    let after = host_objects(Kind::Queue);
    assert!(
        after == before,
        "queue {key}, made inside the container, must die with it and never reach the host; \
         the host's queues were {} before the run and are {} after it",
        describe(&before),
        describe(&after)
    );
}
