//! Lesson 09's material: the clocks as the host and a container read
//! them, and the helper (`clocks.c`) that reads the monotonic clock,
//! which no tool in the rootfs prints.

use std::path::Path;

use nix::time::{ClockId, clock_gettime};

use super::{Outcome, Prepare, static_helper};

/// The boot-time clock, in seconds, from the first field of
/// `/proc/uptime` (`2112.58 725.54`: uptime, then idle time).
pub fn uptime_of(proc_uptime: &str) -> Option<f64> {
    proc_uptime.split_whitespace().next()?.parse().ok()
}

/// The host's three clocks now, read as `clocks.c` reads them.
pub fn host_clocks() -> Clocks {
    let read = |id| {
        let now = clock_gettime(id).prepared("read the host's clocks");
        now.tv_sec() as f64 + now.tv_nsec() as f64 / 1e9
    };
    Clocks {
        monotonic: read(ClockId::CLOCK_MONOTONIC),
        boottime: read(ClockId::CLOCK_BOOTTIME),
        realtime: read(ClockId::CLOCK_REALTIME),
    }
}

/// Build `clocks` into `dir` and return its path.
pub fn clocks_helper(dir: &Path) -> String {
    static_helper("clocks", dir).display().to_string()
}

/// What `clocks` printed: the monotonic, boot-time and wall clocks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clocks {
    pub monotonic: f64,
    pub boottime: f64,
    pub realtime: f64,
}

impl Clocks {
    /// Read `clocks`' three lines (`monotonic 2313.068966334`, ...).
    pub fn parse(output: &str) -> Option<Clocks> {
        let value = |name: &str| {
            output
                .lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))?
                .parse::<f64>()
                .ok()
        };
        Some(Clocks {
            monotonic: value("monotonic")?,
            boottime: value("boottime")?,
            realtime: value("realtime")?,
        })
    }

    /// From an outcome of running `clocks`, or fail the check.
    pub fn of(outcome: &Outcome) -> Clocks {
        outcome.expect_success();
        Clocks::parse(&outcome.stdout).unwrap_or_else(|| {
            outcome.fail("should print three lines, monotonic, boottime and realtime (clocks.c)")
        })
    }
}

/// `/proc/self/timens_offsets` read back: `(clock, seconds, nanoseconds)`.
pub fn offsets_of(text: &str) -> Vec<(String, i64, i64)> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let clock = fields.next()?.to_string();
            let seconds = fields.next()?.parse().ok()?;
            let nanoseconds = fields.next()?.parse().ok()?;
            Some((clock, seconds, nanoseconds))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_and_offsets_are_read_back() {
        assert_eq!(uptime_of("2112.58 725.54\n"), Some(2112.58));
        let clocks = Clocks::parse("monotonic 1.5\nboottime 2.25\nrealtime 3\n").unwrap();
        assert_eq!(
            (clocks.monotonic, clocks.boottime, clocks.realtime),
            (1.5, 2.25, 3.0)
        );
        assert_eq!(Clocks::parse("monotonic 1\n"), None);
        assert_eq!(
            offsets_of("monotonic      -2112 420000000\nboottime  0 0\n"),
            [
                ("monotonic".into(), -2112, 420_000_000),
                ("boottime".into(), 0, 0)
            ]
        );
    }
}
