// ANCHOR: pipes
//! The two pipes between the runtime (parent) and the container (child).
//!
//! * **go** (parent → child): the child waits on it until the parent has
//!   done its part (id maps, network). One byte means "go on"; end of
//!   file means "the parent gave up or died: exit quietly".
//! * **report** (child → parent): close-on-exec, so a successful `exec`
//!   closes it and the parent reads end of file. Anything else the parent
//!   reads is the child's one-line error and the exit status it earns.
//!
//! The articles use one pipe for the first half; the second half is what
//! lets the runtime tell "the command exited 127" from "there was no
//! command to run".
// ANCHOR_END: pipes

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::fcntl::OFlag;
use nix::unistd::pipe2;

use crate::error::{Context, Error, RUNTIME_FAILED, Result};

pub struct ParentEnd {
    go: File,
    report: File,
}

pub struct ChildEnd {
    go: File,
    /// `None` once closed early by [`ChildEnd::report_ready`].
    report: Option<File>,
    /// The numbers of the parent's two ends. `clone` copies the file
    /// table, so the child has them too, and must close them itself.
    parents_ends: Option<[RawFd; 2]>,
}

/// Both pipes, before `clone`. Each process drops the other's end.
pub fn channel() -> Result<(ParentEnd, ChildEnd)> {
    let (go_read, go_write) = pipe2(OFlag::O_CLOEXEC).context("create the go pipe")?;
    let (report_read, report_write) = pipe2(OFlag::O_CLOEXEC).context("create the report pipe")?;
    let parents_ends = Some([go_write.as_raw_fd(), report_read.as_raw_fd()]);
    Ok((
        ParentEnd {
            go: File::from(go_write),
            report: File::from(report_read),
        },
        ChildEnd {
            go: File::from(go_read),
            report: Some(File::from(report_write)),
            parents_ends,
        },
    ))
}

impl ParentEnd {
    /// Let the child go on with its setup and `exec`.
    pub fn release(&mut self) -> Result<()> {
        self.go
            .write_all(b"G")
            .context("tell the container to go on")
    }

    /// Block until the child has become the command (`Ok`) or reported
    /// why it could not (`Err`, with the status the failure earns).
    pub fn wait_for_exec(&mut self) -> Result<()> {
        let mut report = String::new();
        self.report
            .read_to_string(&mut report)
            .context("read the container's report")?;
        if report.is_empty() {
            return Ok(());
        }
        let (status, line) = report.split_once(' ').unwrap_or(("", &report));
        let status = status.parse().unwrap_or(RUNTIME_FAILED);
        Err(Error::new(line).with_status(status))
    }
}

impl ChildEnd {
    /// Wait for the parent's go. False if the parent gave up or died.
    pub fn wait_for_go(&mut self) -> bool {
        // Our copy of the go pipe's write end would keep the pipe open:
        // a parent that gives up (drops its end) would leave us waiting,
        // and itself waiting for us, forever.
        for fd in self.parents_ends.take().into_iter().flatten() {
            // SAFETY: in the child, these numbers name our own copies of
            // the parent's ends (the file table is copied, not shared), and
            // nothing in the child uses them: the `ParentEnd` that owns
            // them is the parent's. `take()` closes them only once.
            drop(unsafe { OwnedFd::from_raw_fd(fd) });
        }
        let mut byte = [0u8];
        matches!(self.go.read(&mut byte), Ok(1))
    }

    /// Tell the parent why this process will not become the command.
    pub fn report(&mut self, error: &Error) {
        // If the parent is gone there is nobody left to tell.
        if let Some(report) = &mut self.report {
            let _ = write!(report, "{} {error}", error.status());
        } else {
            // After `report_ready` (lesson 11's `create`) the runtime that
            // listened has gone: the engine reads our stderr instead.
            eprintln!("{error}");
        }
    }

    /// Lesson 11's `create`: tell the parent the container is ready and
    /// will wait for `start` before `exec`, by closing the report pipe
    /// early, so that the parent reads end of file as after an `exec`.
    pub fn report_ready(&mut self) {
        self.report = None;
    }
}
