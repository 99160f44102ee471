//! The host's view of processes, from `/proc/*/stat`: which processes a
//! container has, what state each is in, and waiting (with a deadline) for
//! something about them to become true. The checks look from the host, so
//! they see the truth whatever the container's own `/proc` shows.

use std::fmt;
use std::thread;
use std::time::{Duration, Instant};

/// One process, as the host sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub pid: i32,
    pub parent: i32,
    /// The command name (`comm`), e.g. `sleep`.
    pub name: String,
    /// `R` running, `S` sleeping, `Z` zombie, ... (see proc(5)).
    pub state: char,
    /// Clock ticks after boot when it started: with `pid`, this names one
    /// process for good, even if its PID is later reused.
    pub start_time: u64,
}

impl Process {
    /// The process `pid`, if it exists.
    pub fn read(pid: i32) -> Option<Process> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The name is in parentheses and may hold spaces or ')': the
        // fields after it start after the last ')'.
        let (head, rest) = stat.rsplit_once(')')?;
        let name = head.split_once('(')?.1.to_string();
        let fields: Vec<&str> = rest.split_whitespace().collect();
        Some(Process {
            pid,
            name,
            state: fields.first()?.chars().next()?,
            parent: fields.get(1)?.parse().ok()?,
            start_time: fields.get(19)?.parse().ok()?,
        })
    }

    pub fn is_zombie(&self) -> bool {
        self.state == 'Z'
    }

    /// Whether this very process still exists (a zombie still does).
    pub fn exists(&self) -> bool {
        Process::read(self.pid).is_some_and(|now| now.start_time == self.start_time)
    }
}

impl fmt::Display for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pid {} ({}), parent {}, state {}",
            self.pid, self.name, self.parent, self.state
        )?;
        if self.is_zombie() {
            write!(f, " (a zombie: it ended, and its parent has not reaped it)")?;
        }
        Ok(())
    }
}

/// Every process on the host.
pub fn all() -> Vec<Process> {
    std::fs::read_dir("/proc")
        .expect("read /proc")
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
        .filter_map(Process::read)
        .collect()
}

/// PIDs whose parent is `parent`.
pub fn children_of(parent: i32) -> Vec<i32> {
    all()
        .into_iter()
        .filter(|process| process.parent == parent)
        .map(|process| process.pid)
        .collect()
}

/// Every process below `ancestor` (children, their children, ...).
pub fn descendants_of(ancestor: i32) -> Vec<Process> {
    let everyone = all();
    let mut found: Vec<Process> = Vec::new();
    let mut parents = vec![ancestor];
    while let Some(parent) = parents.pop() {
        for process in everyone.iter().filter(|p| p.parent == parent) {
            parents.push(process.pid);
            found.push(process.clone());
        }
    }
    found.sort_by_key(|process| process.pid);
    found
}

/// One line per process, for a failure message.
pub fn describe(processes: &[Process]) -> String {
    if processes.is_empty() {
        return "  (none)".to_string();
    }
    processes
        .iter()
        .map(|process| format!("  {process}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Ask `probe` again and again until it says `Ok`, or `timeout` has
/// passed; then return its last answer. For things that happen soon but
/// not at once (a reap, a kill), without guessing how long they take.
pub fn eventually<T>(
    timeout: Duration,
    mut probe: impl FnMut() -> Result<T, String>,
) -> Result<T, String> {
    let deadline = Instant::now() + timeout;
    loop {
        let answer = probe();
        if answer.is_ok() || Instant::now() > deadline {
            return answer;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Processes a check started that must not outlive it: killed on drop if
/// they still exist (when the check failed because they survived).
pub struct KillOnDrop(pub Vec<Process>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        for process in self.0.iter().filter(|p| p.exists()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(process.pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}
