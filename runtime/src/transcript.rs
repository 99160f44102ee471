//! The short narration on stderr, in the spirit of the articles'
//! "Parent - start a container!" lines, so a learner sees who does what:
//!
//! ```text
//! parent 4242: starting container with CLONE_NEWUTS
//! parent 4242: container is pid 4243 on the host
//! container 4243: hostname box, running /bin/sh
//! parent 4242: container exited with code 0, status 0
//! ```
//!
//! It goes to stderr so the container's own stdout stays untouched, and
//! `--quiet` silences it.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// A line spoken by the runtime process on the host.
pub fn parent(line: fmt::Arguments<'_>) {
    say("parent", line);
}

/// A line spoken by the container process, before it becomes the command.
pub fn container(line: fmt::Arguments<'_>) {
    say("container", line);
}

/// A line the user must see even with `--quiet`, as the runtime prints
/// its errors (`solution-08: ...`): an error from a process that cannot
/// hand it to the core, or what happened to the container that its exit
/// status alone does not tell (lesson 08: the OOM killer).
pub fn notice(line: fmt::Arguments<'_>) {
    let program = std::env::args_os().next().unwrap_or_default();
    let program = program.to_string_lossy();
    let program = program.rsplit('/').next().unwrap_or("nslab");
    eprintln!("{program}: {line}");
}

fn say(who: &str, line: fmt::Arguments<'_>) {
    if !QUIET.load(Ordering::Relaxed) {
        // getpid() is the point: it shows which PID namespace we are in.
        eprintln!("{who} {}: {line}", nix::unistd::getpid());
    }
}
