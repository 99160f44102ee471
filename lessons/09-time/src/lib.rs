//! Lesson 09: time.
//!
//! A time namespace moves two clocks: `CLOCK_MONOTONIC` (time since some
//! moment at boot, what timers and timeouts use) and `CLOCK_BOOTTIME`
//! (the same, counting suspend: what `uptime` and `/proc/uptime` show).
//! Each has an offset, added to the host's clock for every process in
//! the namespace. The wall clock, `CLOCK_REALTIME`, is not namespaced:
//! `date` inside is the host's date, and setting it sets the host's.
//!
//! With `--uptime SECONDS` the container gets a time namespace whose two
//! clocks read SECONDS when it starts, a freshly booted machine, the way
//! CRIU gives a restored container back the clocks it had. The offsets
//! can be written only while no process is in the namespace, so the
//! route is: create it (for our future children), write the offsets,
//! then enter it ourselves. Without `--uptime` there is no time
//! namespace: an empty one would show the host's clocks, for good.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use nix::sched::{setns, unshare};
use nix::sys::time::TimeSpec;
use nix::time::{ClockId, clock_gettime};
use nslab_runtime::sys::CLONE_NEWTIME;
use nslab_runtime::{CloneFlags, Context, Error, Namespace, Result, Run, transcript};

/// The largest `--uptime`: the kernel refuses an offset that would take a
/// clock past `KTIME_SEC_MAX / 2` seconds (`ERANGE`), about 146 years,
/// half of what its 64-bit nanosecond counter can hold.
pub const MAX_UPTIME: u64 = (i64::MAX as u64 / 1_000_000_000) / 2;

/// Where a process sets the offsets of the time namespace its children
/// will be in (`/proc/PID/ns/time_for_children`).
pub const OFFSETS: &str = "/proc/self/timens_offsets";

const NANOS_PER_SECOND: i128 = 1_000_000_000;

pub struct TimeNamespace;

/// A clock a time namespace moves, as `timens_offsets` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    Monotonic,
    Boottime,
}

impl Clock {
    /// The two clocks a time namespace moves, in the order
    /// `timens_offsets` lists them.
    pub const SHIFTED: [Clock; 2] = [Clock::Monotonic, Clock::Boottime];

    /// Its name in `timens_offsets`.
    pub fn name(self) -> &'static str {
        match self {
            Clock::Monotonic => "monotonic",
            Clock::Boottime => "boottime",
        }
    }

    /// What it reads now, in our time namespace.
    pub fn now(self) -> Result<TimeSpec> {
        let id = match self {
            Clock::Monotonic => ClockId::CLOCK_MONOTONIC,
            Clock::Boottime => ClockId::CLOCK_BOOTTIME,
        };
        clock_gettime(id).with_context(|| format!("read the {} clock", self.name()))
    }
}

/// How far one clock moves, as the kernel takes it: whole seconds (which
/// may be negative) and nanoseconds from 0 to 999999999, so that -1.5 s
/// is -2 s and 500000000 ns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offset {
    pub clock: Clock,
    pub seconds: i64,
    pub nanoseconds: i64,
}

impl Offset {
    /// The offset in seconds, for people: -2884.180 for -2885 s and
    /// 820000000 ns.
    pub fn as_seconds(&self) -> f64 {
        self.seconds as f64 + self.nanoseconds as f64 / 1e9
    }
}

impl Namespace for TimeNamespace {
    // ANCHOR: validate
    /// Refuse an uptime the kernel's clocks cannot show, or a kernel
    /// without time namespaces, before anything exists.
    fn validate(&self, run: &Run) -> Result<()> {
        let Some(uptime) = run.config.uptime else {
            return Ok(());
        };
        if uptime > MAX_UPTIME {
            return Err(Error::new(format!(
                "--uptime {uptime} is more than the kernel's clocks can show \
                 (at most {MAX_UPTIME} seconds, about 146 years)"
            ))
            .fix(format!("give --uptime a number from 0 to {MAX_UPTIME}")));
        }
        if !Path::new("/proc/self/ns/time").exists() {
            return Err(Error::new("this kernel has no time namespaces")
                .fix("use Linux 5.6 or later, or leave out --uptime"));
        }
        Ok(())
    }
    // ANCHOR_END: validate

    // ANCHOR: clone_flags
    fn clone_flags(&self) -> CloneFlags {
        // Book: chapter 09, "Exercise: clone_flags". The flags this lesson adds
        // to clone(2). A time namespace's clocks can be set only before any
        // process is in it, and a child cloned into one is in it from its first
        // instruction; clone(2) itself reads the lowest byte of its flags as
        // the child's exit signal.
        todo!("which clone flags does this lesson add?")
    }
    // ANCHOR_END: clone_flags

    // ANCHOR: first_in_child
    /// Before any lesson's `in_child` (lesson 03's init forks there): a
    /// time namespace whose clocks read `--uptime`, which this process
    /// enters, and so every process of the container after it.
    fn first_in_child(&self, run: &Run) -> Result<()> {
        let Some(uptime) = run.config.uptime else {
            return Ok(());
        };
        create_time_namespace()?;
        let offsets = Clock::SHIFTED
            .into_iter()
            .map(|clock| Ok(offset_to(clock, uptime, clock.now()?)))
            .collect::<Result<Vec<Offset>>>()?;
        write_offsets(&offsets)?;
        enter_time_namespace()?;
        transcript::container(format_args!(
            "own time namespace: uptime {uptime}s, offsets {}",
            offsets
                .iter()
                .map(|o| format!("{} {:+.3}s", o.clock.name(), o.as_seconds()))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        Ok(())
    }
    // ANCHOR_END: first_in_child
}

// ANCHOR: create_time_namespace
/// A new time namespace, for the children we make from now on (and for
/// us at our next `execve`). We stay where we are, so nobody is in it
/// yet and its clocks can still be set.
fn create_time_namespace() -> Result<()> {
    // Book: chapter 09, "Exercise: create_time_namespace". A new time namespace
    // must exist for the processes we start from now on, while we stay in ours:
    // nobody is in it yet, so its clocks can still be set.
    todo!("make a time namespace for our children")
}
// ANCHOR_END: create_time_namespace

// ANCHOR: offset_to
/// The offset that makes `clock`, which reads `now`, read `uptime`
/// seconds instead.
pub fn offset_to(clock: Clock, uptime: u64, now: TimeSpec) -> Offset {
    // Book: chapter 09, "Exercise: offset_to". The offset that makes `clock`,
    // which reads `now`, read `uptime` seconds: whole seconds, negative when
    // the clock moves back, and nanoseconds from 0 to 999999999, as the kernel
    // takes them.
    todo!("how far must this clock move?")
}
// ANCHOR_END: offset_to

// ANCHOR: write_offsets
/// Set the clocks of the namespace our children will be in: one line
/// per clock, `NAME SECONDS NANOSECONDS`, in a single write.
fn write_offsets(offsets: &[Offset]) -> Result<()> {
    // Book: chapter 09, "Exercise: write_offsets". The namespace made for our
    // children must have its clocks moved by `offsets`, before anyone enters
    // it: the kernel freezes them at the first entry.
    todo!("set the namespace's clocks")
}
// ANCHOR_END: write_offsets

// ANCHOR: enter_time_namespace
/// Enter the namespace we made for our children, now that its clocks
/// are set: from here on our clocks are the container's, and so are
/// those of every process we start (lesson 03's init included).
fn enter_time_namespace() -> Result<()> {
    // Book: chapter 09, "Exercise: enter_time_namespace". We must now be in the
    // namespace we made, with its clocks: lesson 03's init never execs, so it
    // would otherwise stay on the host's clocks, and lesson 07's `exec`, which
    // joins the namespaces of the container's first process, would too.
    todo!("enter the time namespace")
}
// ANCHOR_END: enter_time_namespace
