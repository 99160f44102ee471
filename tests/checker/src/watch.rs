//! `just watch N`: run lesson N's checks, then again each time a file of
//! `lessons/NN-name/` changes, until Ctrl-C.
//!
//! The kernel tells us about changes (inotify): nothing is polled, and an
//! idle watch costs nothing. An editor's save is a burst of events
//! (a temporary file, a rename, a swap file), so we wait until the
//! directory has been quiet for [`QUIET`] before running the checks.
//!
//! Ctrl-C: the signals that stop us are blocked and read from a
//! signalfd, so they arrive as one more event in the same `poll`. The
//! checks run in a child process, which Ctrl-C stops as usual (the whole
//! foreground process group gets SIGINT); we then see the signal and
//! leave cleanly, with status 0. Like a shell starting a job, we first
//! move into a process group of our own and make it the terminal's
//! foreground ([`Foreground`]): Ctrl-C then reaches only us and the checks,
//! and `just` does not report the recipe as "interrupted".

use std::ffi::OsStr;
use std::io::{IsTerminal, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::unistd::{Pid, getpgrp, setpgid, tcgetpgrp, tcsetpgrp};

use crate::course::Lesson;

/// How long the lesson's directory must stay quiet after a change before
/// the checks run: longer than an editor's save, shorter than a person.
pub const QUIET: Duration = Duration::from_millis(300);

/// What happened while we waited.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// These files changed (and then nothing for [`QUIET`]).
    Changed(Vec<PathBuf>),
    /// The stop descriptor became readable: Ctrl-C, or SIGTERM.
    Stop,
}

/// Every directory under one directory, watched with inotify.
pub struct Watcher {
    inotify: Inotify,
    directories: Vec<(WatchDescriptor, PathBuf)>,
}

/// The events that mean "a file here changed": written and closed, created,
/// moved in or out (editors save by renaming), deleted.
fn interesting() -> AddWatchFlags {
    AddWatchFlags::IN_CLOSE_WRITE
        | AddWatchFlags::IN_CREATE
        | AddWatchFlags::IN_MOVED_TO
        | AddWatchFlags::IN_MOVED_FROM
        | AddWatchFlags::IN_DELETE
}

impl Watcher {
    pub fn new(top: &Path) -> Result<Watcher, String> {
        let inotify = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK)
            .map_err(|e| format!("cannot start inotify: {e}"))?;
        let mut watcher = Watcher {
            inotify,
            directories: Vec::new(),
        };
        watcher.watch_tree(top)?;
        Ok(watcher)
    }

    fn watch_tree(&mut self, top: &Path) -> Result<(), String> {
        let mut pending = vec![top.to_path_buf()];
        while let Some(dir) = pending.pop() {
            let descriptor = self
                .inotify
                .add_watch(&dir, interesting())
                .map_err(|e| format!("cannot watch {}: {e}", dir.display()))?;
            self.directories.push((descriptor, dir.clone()));
            let entries = std::fs::read_dir(&dir)
                .map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
            pending.extend(
                entries
                    .flatten()
                    .filter(|entry| entry.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|entry| entry.path()),
            );
        }
        Ok(())
    }

    /// Wait for a change that is not editor noise, then for quiet; or for
    /// `stop` to become readable.
    pub fn next_change(&mut self, stop: BorrowedFd) -> Result<Event, String> {
        let mut changed: Vec<PathBuf> = Vec::new();
        loop {
            // Block until something happens; once something has changed,
            // wait only as long as the directory must stay quiet.
            let timeout = if changed.is_empty() {
                PollTimeout::NONE
            } else {
                PollTimeout::try_from(QUIET).map_err(|e| e.to_string())?
            };
            let mut fds = [
                PollFd::new(self.inotify.as_fd(), PollFlags::POLLIN),
                PollFd::new(stop, PollFlags::POLLIN),
            ];
            match poll(&mut fds, timeout) {
                Ok(0) => return Ok(Event::Changed(changed)),
                Ok(_) => {}
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(format!("poll: {e}")),
            }
            if fds[1].any().unwrap_or(false) {
                return Ok(Event::Stop);
            }
            for path in self.read_changes()? {
                if !changed.contains(&path) {
                    changed.push(path);
                }
            }
        }
    }

    /// The files named by the pending events, without editor noise; new
    /// directories are watched from now on.
    fn read_changes(&mut self) -> Result<Vec<PathBuf>, String> {
        let events = match self.inotify.read_events() {
            Ok(events) => events,
            Err(nix::errno::Errno::EAGAIN) => return Ok(Vec::new()),
            Err(e) => return Err(format!("reading inotify events: {e}")),
        };
        let mut changed = Vec::new();
        for event in events {
            let Some(name) = &event.name else { continue };
            let Some(dir) = self
                .directories
                .iter()
                .find(|(descriptor, _)| *descriptor == event.wd)
                .map(|(_, dir)| dir.clone())
            else {
                continue;
            };
            let path = dir.join(name);
            if event.mask.contains(AddWatchFlags::IN_ISDIR)
                && event.mask.contains(AddWatchFlags::IN_CREATE)
            {
                self.watch_tree(&path)?;
            }
            if !is_editor_noise(name) {
                changed.push(path);
            }
        }
        Ok(changed)
    }
}

/// Files that editors write beside the one being edited: vim's swap files
/// and its `4913` probe, backups ending in `~`, emacs's `#autosave#` and
/// `.#lock` files, and other hidden or temporary files.
pub fn is_editor_noise(name: &OsStr) -> bool {
    let name = name.to_string_lossy();
    name.starts_with('.')
        || name.starts_with('#')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".tmp")
        || name == "4913"
}

fn block(signals: &[Signal]) -> Result<SigSet, String> {
    let mut set = SigSet::empty();
    for signal in signals {
        set.add(*signal);
    }
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None)
        .map_err(|e| format!("cannot block {signals:?}: {e}"))?;
    Ok(set)
}

/// Block the signals that should stop the watch, and read them from a
/// signalfd instead. Children get an empty signal mask again (std's
/// `Command` resets it), so Ctrl-C still stops the checks.
fn stop_signals() -> Result<SignalFd, String> {
    let signals = block(&[Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP])?;
    SignalFd::with_flags(&signals, SfdFlags::SFD_CLOEXEC)
        .map_err(|e| format!("cannot create a signalfd: {e}"))
}

/// Our own process group in the terminal's foreground, while we watch;
/// the previous foreground group gets the terminal back when this drops.
struct Foreground {
    previous: Pid,
}

impl Foreground {
    /// Without a terminal on stdin there is no foreground to take, and
    /// nothing to gain: `None`.
    fn take() -> Option<Foreground> {
        let terminal = std::io::stdin();
        if !terminal.is_terminal() {
            return None;
        }
        let previous = tcgetpgrp(&terminal).ok()?;
        // A background group that sets the foreground gets SIGTTOU, which
        // would stop us: block it (it stays blocked, for the way back).
        block(&[Signal::SIGTTOU]).ok()?;
        setpgid(Pid::from_raw(0), Pid::from_raw(0)).ok()?;
        tcsetpgrp(&terminal, getpgrp()).ok()?;
        Some(Foreground { previous })
    }
}

impl Drop for Foreground {
    fn drop(&mut self) {
        let _ = tcsetpgrp(std::io::stdin(), self.previous);
    }
}

/// `just watch N`.
pub fn run(root: &Path, lesson: &Lesson) -> Result<bool, String> {
    let stop = stop_signals()?;
    let _foreground = Foreground::take();
    let mut watcher = Watcher::new(&root.join(lesson.dir()))?;
    let checker = std::env::current_exe().map_err(|e| format!("where am I? {e}"))?;
    let terminal = std::io::stdout().is_terminal();
    loop {
        if terminal {
            // Clear the screen and the scrollback, cursor to the top left.
            print!("\x1b[H\x1b[2J\x1b[3J");
        }
        let _ = std::io::stdout().flush();
        Command::new(&checker)
            .current_dir(root)
            .args(["check", &lesson.number.to_string()])
            .status()
            .map_err(|e| format!("cannot run the checks: {e}"))?;
        println!(
            "\nWatching {}/ for changes; Ctrl-C stops.",
            lesson.dir().display()
        );
        match watcher.next_change(stop.as_fd())? {
            Event::Changed(_) => continue,
            Event::Stop => {
                println!("Stopped watching.");
                return Ok(true);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::OwnedFd;
    use std::time::Instant;

    struct TempTree(PathBuf);

    impl Drop for TempTree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn temp_tree(name: &str) -> TempTree {
        let dir = std::env::temp_dir().join(format!("nslab-watch-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        TempTree(dir)
    }

    fn pipe() -> (OwnedFd, OwnedFd) {
        nix::unistd::pipe().unwrap()
    }

    #[test]
    fn a_burst_of_writes_is_one_change_after_the_quiet_time() {
        let tree = temp_tree("burst");
        let mut watcher = Watcher::new(&tree.0).unwrap();
        let (stop, _stop_writer) = pipe();
        let lib = tree.0.join("src/lib.rs");
        // What vim does on :w, roughly.
        std::fs::write(tree.0.join("src/4913"), "").unwrap();
        std::fs::write(tree.0.join("src/.lib.rs.swp"), "swap").unwrap();
        std::fs::write(tree.0.join("src/lib.rs~"), "old").unwrap();
        std::fs::write(&lib, "new").unwrap();
        std::fs::write(&lib, "newer").unwrap();
        let started = Instant::now();
        let event = watcher.next_change(stop.as_fd()).unwrap();
        assert_eq!(event, Event::Changed(vec![lib]));
        assert!(started.elapsed() >= QUIET);
    }

    #[test]
    fn directories_created_later_are_watched_too() {
        let tree = temp_tree("new-dir");
        let mut watcher = Watcher::new(&tree.0).unwrap();
        let (stop, _stop_writer) = pipe();
        std::fs::create_dir(tree.0.join("src/new")).unwrap();
        watcher.next_change(stop.as_fd()).unwrap();
        let file = tree.0.join("src/new/module.rs");
        std::fs::write(&file, "mod x;").unwrap();
        assert_eq!(
            watcher.next_change(stop.as_fd()).unwrap(),
            Event::Changed(vec![file])
        );
    }

    #[test]
    fn the_stop_descriptor_ends_the_wait() {
        let tree = temp_tree("stop");
        let mut watcher = Watcher::new(&tree.0).unwrap();
        let (stop, stop_writer) = pipe();
        nix::unistd::write(&stop_writer, b"x").unwrap();
        assert_eq!(watcher.next_change(stop.as_fd()).unwrap(), Event::Stop);
    }

    #[test]
    fn editor_noise_is_not_a_change() {
        for noise in [".lib.rs.swp", "lib.rs~", "4913", "#lib.rs#", ".#lib.rs"] {
            assert!(is_editor_noise(OsStr::new(noise)), "{noise}");
        }
        assert!(!is_editor_noise(OsStr::new("lib.rs")));
        assert!(!is_editor_noise(OsStr::new("info.toml")));
    }
}
