//! Lesson 07: a container running under a name, and what the binary's
//! tools (`ps`, `ns`, `exec`) and the host's (`nsenter`, `lsns`,
//! `ip netns`) say about it.

use nix::sys::signal::Signal;

use super::run::{Container, Outcome, Running, trapping};
use super::{namespace_of, random_hex};

/// Every kind of namespace, as `/proc/PID/ns` names them.
pub const KINDS: [&str; 8] = ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"];

/// A shell loop that prints `readlink /proc/self/ns/KIND` for every kind.
pub fn readlink_every_namespace() -> String {
    format!(
        "for kind in {}; do readlink /proc/self/ns/$kind; done",
        KINDS.join(" ")
    )
}

/// `readlink /proc/PID/ns/KIND` on the host, for every kind, a line each.
pub fn namespaces_of(pid: i32) -> String {
    KINDS
        .iter()
        .map(|kind| format!("{}\n", namespace_of(&pid.to_string(), kind)))
        .collect()
}

/// A fresh container name, so that no two runs share one.
pub fn fresh_name() -> String {
    format!("nslab-{}", random_hex(3))
}

/// A container running under a name until it is stopped.
pub struct Named {
    pub name: String,
    container: Container,
    running: Running,
}

impl Named {
    /// Start `container` under a fresh name (and with `--keep-net` of the
    /// same name if `keep_net`), running a shell that first runs `setup`
    /// (e.g. `cd /etc`), then waits for SIGTERM, and return once it runs.
    pub fn start(container: Container, setup: &str) -> Named {
        Named::start_as(container, &fresh_name(), false, setup)
    }

    /// The same, with `--keep-net NAME` too.
    pub fn start_keeping_net(container: Container, setup: &str) -> Named {
        Named::start_as(container, &fresh_name(), true, setup)
    }

    fn start_as(container: Container, name: &str, keep_net: bool, setup: &str) -> Named {
        let mut named = container.flag(format!("--name={name}"));
        if keep_net {
            named = named.flag(format!("--keep-net={name}"));
        }
        let script = format!("{setup}; {}", trapping("TERM", 0));
        let running = named.start_until_ready(&["sh", "-c", &script]);
        Named {
            name: name.to_string(),
            container: named,
            running,
        }
    }

    /// `exec NAME -- command`, with the same binary, as the same user.
    pub fn exec(&self, command: &[&str]) -> Outcome {
        let mut args = vec!["exec", self.name.as_str(), "--"];
        args.extend(command);
        self.container.tool(&args)
    }

    /// `exec NAME -- command`, started: return while it runs.
    pub fn start_exec(&self, command: &[&str]) -> Running {
        let mut args = vec!["exec", self.name.as_str(), "--"];
        args.extend(command);
        self.container.start_tool(&args)
    }

    /// `ps`, `ns NAME`, ...: a tool of the same binary, as the same user.
    pub fn tool(&self, args: &[&str]) -> Outcome {
        self.container.tool(args)
    }

    /// The container's first process, as the host numbers it.
    pub fn pid(&mut self) -> i32 {
        self.running.container_pid()
    }

    pub fn runtime_pid(&self) -> i32 {
        self.running.runtime_pid()
    }

    /// Stop the container the way a person would (SIGTERM to the
    /// runtime), and check that it ended well.
    pub fn stop(mut self) -> Outcome {
        self.running.signal_runtime(Signal::SIGTERM);
        let outcome = self.running.finish();
        outcome.expect_success();
        outcome
    }

    /// Kill the runtime with SIGKILL, so that it cannot clean up (the
    /// container goes with it), and return how it ended.
    pub fn kill_runtime(mut self) -> Outcome {
        self.running.signal_runtime(Signal::SIGKILL);
        self.running.finish()
    }

    /// Fail the check, showing what the container printed.
    pub fn fail(&mut self, expectation: &str) -> ! {
        self.running.fail(expectation)
    }
}
