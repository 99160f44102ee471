//! Lesson 08: the resource limits a container may be given, parsed from
//! `--memory`, `--pids-limit` and `--cpus`, as Docker spells them.
//!
//! Only the shape and the range are checked here, with one line naming
//! the fix; whether this host has the controller is lesson 08's
//! `validate` (see [`crate::cgroup`]).

use std::fmt;
use std::str::FromStr;

/// The smallest `--memory` accepted: the kernel takes any number, but a
/// container cannot even `exec` its command in a few pages; Docker's
/// minimum is the same 6 MiB.
pub const MIN_MEMORY: u64 = 6 * MIB;
const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

/// The period `--cpus` is a share of, in microseconds: 100 ms, as Docker
/// and the kernel's default.
pub const CPU_PERIOD_US: u64 = 100_000;
/// The kernel refuses a quota under 1 ms per period.
pub const MIN_CPU_QUOTA_US: u64 = 1_000;
/// The kernel's highest PID (`PID_MAX_LIMIT` on 64-bit): a larger
/// `--pids-limit` could never be reached.
pub const MAX_PIDS: u64 = 4_194_304;

/// What a container may use; `None` is no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    /// `--memory`: bytes of memory (swap not included: none is allowed).
    pub memory: Option<Memory>,
    /// `--pids-limit`: processes and threads at once.
    pub pids: Option<Pids>,
    /// `--cpus`: CPU time per period.
    pub cpus: Option<Cpus>,
}

impl Limits {
    pub fn is_empty(&self) -> bool {
        *self == Limits::default()
    }

    /// The controllers these limits need, e.g. `["memory", "cpu"]`.
    pub fn controllers(&self) -> Vec<&'static str> {
        let mut needed = Vec::new();
        if self.memory.is_some() {
            needed.push("memory");
        }
        if self.pids.is_some() {
            needed.push("pids");
        }
        if self.cpus.is_some() {
            needed.push("cpu");
        }
        needed
    }
}

impl fmt::Display for Limits {
    /// `memory 64m, pids 100, cpus 0.5`, or `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(memory) = self.memory {
            parts.push(format!("memory {memory}"));
        }
        if let Some(pids) = self.pids {
            parts.push(format!("pids {}", pids.0));
        }
        if let Some(cpus) = self.cpus {
            parts.push(format!("cpus {cpus}"));
        }
        if parts.is_empty() {
            write!(f, "none")
        } else {
            write!(f, "{}", parts.join(", "))
        }
    }
}

/// `--memory`: a number of bytes, with an optional unit `b`, `k`, `m` or
/// `g` (powers of 1024, upper or lower case, `64mb` too), like Docker's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory(pub u64);

impl FromStr for Memory {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let shape = "expected a size like 64m, 1g or 67108864 (bytes)";
        let lower = text.trim().to_ascii_lowercase();
        let digits_end = lower
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(lower.len());
        let (number, unit) = lower.split_at(digits_end);
        let number: u64 = number
            .parse()
            .map_err(|_| format!("{text:?} is not a size: {shape}"))?;
        let unit = match unit.strip_suffix('b').filter(|u| !u.is_empty()) {
            Some(unit) => unit,
            None => unit,
        };
        let scale = match unit {
            "" | "b" => 1,
            "k" => KIB,
            "m" => MIB,
            "g" => GIB,
            _ => return Err(format!("unknown unit {unit:?}: {shape}")),
        };
        let bytes = number
            .checked_mul(scale)
            .ok_or_else(|| format!("{text} is more memory than a 64-bit number holds"))?;
        if bytes < MIN_MEMORY {
            return Err(format!(
                "{text} is below 6m, the least a container can start its command in"
            ));
        }
        Ok(Memory(bytes))
    }
}

impl fmt::Display for Memory {
    /// The largest unit that shows it exactly: `32m`, `1g`, `6291457`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.0;
        match [(GIB, "g"), (MIB, "m"), (KIB, "k")]
            .into_iter()
            .find(|(scale, _)| bytes.is_multiple_of(*scale))
        {
            Some((scale, unit)) => write!(f, "{}{unit}", bytes / scale),
            None => write!(f, "{bytes}"),
        }
    }
}

/// `--pids-limit`: how many processes and threads may exist at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pids(pub u64);

impl FromStr for Pids {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let range = format!("expected a whole number from 1 to {MAX_PIDS}");
        match text.trim().parse::<i64>() {
            Ok(n) if n >= 1 && n.unsigned_abs() <= MAX_PIDS => Ok(Pids(n.unsigned_abs())),
            Ok(n) if n < 1 => Err(format!(
                "{n} would let the container run no process at all: {range}"
            )),
            _ => Err(format!("{text:?}: {range}")),
        }
    }
}

/// `--cpus`: CPUs' worth of time, e.g. `0.5`; kept as the quota per
/// [`CPU_PERIOD_US`], in microseconds, which is what the kernel takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cpus {
    pub quota_us: u64,
}

impl Cpus {
    /// `--cpus` as a quota on this host, which has `online` CPUs.
    pub fn parse_for(text: &str, online: u64) -> Result<Cpus, String> {
        let range =
            format!("expected a number of CPUs from 0.01 to {online} (this host has {online})");
        let cpus: f64 = text
            .trim()
            .parse()
            .map_err(|_| format!("{text:?} is not a number: {range}"))?;
        if !cpus.is_finite() {
            return Err(format!("{text:?} is not a number: {range}"));
        }
        if cpus <= 0.0 {
            return Err(format!("{text} CPUs would never let it run: {range}"));
        }
        if cpus > online as f64 {
            return Err(format!("{text} CPUs is more than the host has: {range}"));
        }
        let quota_us = (cpus * CPU_PERIOD_US as f64).round() as u64;
        if quota_us < MIN_CPU_QUOTA_US {
            return Err(format!(
                "{text} is below 0.01 CPUs, the kernel's smallest quota (1 ms per 100 ms): {range}"
            ));
        }
        Ok(Cpus { quota_us })
    }
}

impl FromStr for Cpus {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Cpus::parse_for(text, online_cpus())
    }
}

impl fmt::Display for Cpus {
    /// `0.5`, `2`, `0.25`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cpus = self.quota_us as f64 / CPU_PERIOD_US as f64;
        write!(f, "{}", (cpus * 100.0).round() / 100.0)
    }
}

/// How many CPUs the host has online.
pub fn online_cpus() -> u64 {
    // SAFETY: sysconf only reads a system value.
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    u64::try_from(online).unwrap_or(1).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_sizes_read_like_dockers() {
        for (text, bytes) in [
            ("64m", 64 * MIB),
            ("64M", 64 * MIB),
            ("64mb", 64 * MIB),
            ("1g", GIB),
            ("8192k", 8 * MIB),
            ("67108864", 64 * MIB),
            ("67108864b", 64 * MIB),
        ] {
            assert_eq!(text.parse::<Memory>(), Ok(Memory(bytes)), "{text}");
        }
        assert_eq!(Memory(32 * MIB).to_string(), "32m");
        assert_eq!(Memory(GIB).to_string(), "1g");
        assert_eq!(Memory(MIN_MEMORY + 1).to_string(), "6291457");
    }

    #[test]
    fn memory_refusals_name_the_problem() {
        for (text, words) in [
            ("0", "below 6m"),
            ("1k", "below 6m"),
            ("5m", "below 6m"),
            ("lots", "not a size"),
            ("", "not a size"),
            ("-1m", "not a size"),
            ("64x", "unknown unit"),
            ("1.5g", "unknown unit"),
            ("99999999999999g", "64-bit"),
        ] {
            let error = text.parse::<Memory>().unwrap_err();
            assert!(error.contains(words), "{text}: {error}");
        }
    }

    #[test]
    fn pids_limits_are_at_least_one() {
        assert_eq!("10".parse::<Pids>(), Ok(Pids(10)));
        assert_eq!("4194304".parse::<Pids>(), Ok(Pids(MAX_PIDS)));
        for bad in ["0", "-3", "x", "4194305", "1.5"] {
            assert!(bad.parse::<Pids>().is_err(), "{bad}");
        }
        assert!("-3".parse::<Pids>().unwrap_err().contains("no process"));
    }

    #[test]
    fn cpus_become_a_quota_per_100_ms() {
        assert_eq!(Cpus::parse_for("0.5", 2), Ok(Cpus { quota_us: 50_000 }));
        assert_eq!(Cpus::parse_for("2", 2), Ok(Cpus { quota_us: 200_000 }));
        assert_eq!(Cpus::parse_for("0.01", 1), Ok(Cpus { quota_us: 1_000 }));
        assert_eq!(Cpus { quota_us: 20_000 }.to_string(), "0.2");
        for (bad, words) in [
            ("0", "never"),
            ("-1", "never"),
            ("NaN", "not a number"),
            ("inf", "not a number"),
            ("1e9", "more than the host has"),
            ("3", "more than the host has"),
            ("0.001", "smallest quota"),
            ("half", "not a number"),
        ] {
            let error = Cpus::parse_for(bad, 2).unwrap_err();
            assert!(error.contains(words), "{bad}: {error}");
        }
    }

    #[test]
    fn limits_say_what_they_need() {
        let limits = Limits {
            memory: Some(Memory(64 * MIB)),
            pids: None,
            cpus: Some(Cpus { quota_us: 50_000 }),
        };
        assert_eq!(limits.controllers(), ["memory", "cpu"]);
        assert_eq!(limits.to_string(), "memory 64m, cpus 0.5");
        assert_eq!(Limits::default().to_string(), "none");
        assert!(Limits::default().is_empty());
    }
}
