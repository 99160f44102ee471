//! Property tests of the reference solutions' own validation (the core's
//! parsers have theirs in runtime/tests/parsers.rs). Unprivileged.

use nslab_runtime::cgroup::v1_writes;
use nslab_runtime::limits::{
    CPU_PERIOD_US, Cpus, Limits, MIN_CPU_QUOTA_US, MIN_MEMORY, Memory, Pids,
};
use nslab_runtime::{Config, IdMap, Namespace, Run};
use proptest::prelude::*;
use solution_01_uts::{MAX_NAME_LEN, UtsNamespace};
use solution_05_user::{Ids, MAX_MAP_LINES, Writer, check_maps};
use solution_08_cgroup::limit_files;
use solution_09_time::{Clock, MAX_UPTIME, TimeNamespace, offset_to};

proptest! {
    /// Any hostname and domain name of 1 to 64 bytes is taken, anything
    /// else refused in one line that names the flag: the kernel's limit
    /// is in bytes, so multibyte characters must count as bytes.
    #[test]
    fn names_are_taken_exactly_when_they_have_1_to_64_bytes(
        hostname in "\\PC{0,40}", domainname in proptest::option::of("\\PC{0,40}"),
    ) {
        let config = Config { hostname: hostname.clone(), domainname: domainname.clone(), ..Config::default() };
        let fits = |name: &str| (1..=MAX_NAME_LEN).contains(&name.len());
        let acceptable = fits(&hostname) && domainname.as_deref().is_none_or(fits);
        match UtsNamespace.validate(&Run::new(config)) {
            Ok(()) => prop_assert!(acceptable),
            Err(error) => {
                prop_assert!(!acceptable);
                let line = error.to_string();
                prop_assert!(!line.contains('\n'));
                prop_assert!(line.contains("--hostname") || line.contains("--domainname"), "{line}");
            }
        }
    }
}

/// `count` lines that map one id each, none overlapping.
fn separate_lines(count: usize) -> Vec<IdMap> {
    (0..count as u32)
        .map(|id| IdMap {
            inside: id,
            outside: 1000 + id,
            count: 1,
        })
        .collect()
}

proptest! {
    /// Maps are taken exactly when the kernel would take them: from a
    /// privileged writer, lines that do not overlap on either side; from
    /// any other, one line that maps its own id, once. A refusal is one
    /// line that names the flag.
    #[test]
    fn maps_are_taken_exactly_when_the_kernel_would_take_them(
        lines in proptest::collection::vec((0u32..60, 0u32..60, 1u32..20), 1..5),
        own_id in 0u32..60,
        may_map_any in any::<bool>(),
        ids in prop_oneof![Just(Ids::User), Just(Ids::Group)],
    ) {
        let maps: Vec<IdMap> = lines
            .iter()
            .map(|&(inside, outside, count)| IdMap { inside, outside, count })
            .collect();
        let apart = |a: u32, b: u32, count_a: u32, count_b: u32| a + count_a <= b || b + count_b <= a;
        let no_overlap = maps.iter().enumerate().all(|(at, first)| {
            maps[at + 1..].iter().all(|second| {
                apart(first.inside, second.inside, first.count, second.count)
                    && apart(first.outside, second.outside, first.count, second.count)
            })
        });
        let acceptable = if may_map_any {
            no_overlap
        } else {
            matches!(maps.as_slice(), [only] if only.outside == own_id && only.count == 1)
        };
        match check_maps(ids, &maps, Writer { own_id, may_map_any }) {
            Ok(()) => prop_assert!(acceptable, "{maps:?} was taken"),
            Err(error) => {
                prop_assert!(!acceptable, "{maps:?} was refused: {error}");
                let line = error.to_string();
                prop_assert!(!line.contains('\n'));
                prop_assert!(line.contains(ids.flag()), "{line}");
            }
        }
    }

    /// A privileged writer may give as many lines as the kernel takes,
    /// 340, and no more.
    #[test]
    fn a_map_has_at_most_340_lines(count in 330usize..350) {
        let writer = Writer { own_id: 0, may_map_any: true };
        let taken = check_maps(Ids::User, &separate_lines(count), writer).is_ok();
        prop_assert_eq!(taken, count <= MAX_MAP_LINES);
    }
}

proptest! {
    /// Lesson 08, without a kernel: any limits become exactly their v2
    /// files (memory.max and memory.swap.max 0, pids.max, cpu.max as
    /// "QUOTA PERIOD"), and the core's v1 table turns those into the v1
    /// files with the same numbers.
    #[test]
    fn limits_become_their_v2_files_and_the_same_numbers_in_v1(
        memory in proptest::option::of(MIN_MEMORY..(1u64 << 40)),
        pids in proptest::option::of(1u64..4_194_304),
        quota in proptest::option::of(MIN_CPU_QUOTA_US..(64 * CPU_PERIOD_US)),
    ) {
        let limits = Limits {
            memory: memory.map(Memory),
            pids: pids.map(Pids),
            cpus: quota.map(|quota_us| Cpus { quota_us }),
        };
        let files = limit_files(&limits);
        let value = |name: &str| files.iter().find(|(file, _)| file == name).map(|(_, v)| v.clone());
        prop_assert_eq!(value("memory.max"), memory.map(|m| m.to_string()));
        prop_assert_eq!(value("memory.swap.max"), memory.map(|_| "0".to_string()));
        prop_assert_eq!(value("pids.max"), pids.map(|p| p.to_string()));
        prop_assert_eq!(value("cpu.max"), quota.map(|q| format!("{q} {CPU_PERIOD_US}")));
        prop_assert_eq!(files.len(), 2 * usize::from(memory.is_some()) + usize::from(pids.is_some()) + usize::from(quota.is_some()));

        let v1 = v1_writes(&files).unwrap();
        let v1_value = |name: &str| v1.iter().find(|(_, file, _)| *file == name).map(|(_, _, v)| v.clone());
        prop_assert_eq!(v1_value("memory.limit_in_bytes"), memory.map(|m| m.to_string()));
        prop_assert_eq!(v1_value("memory.memsw.limit_in_bytes"), memory.map(|m| m.to_string()));
        prop_assert_eq!(v1_value("pids.max"), pids.map(|p| p.to_string()));
        prop_assert_eq!(v1_value("cpu.cfs_quota_us"), quota.map(|q| q.to_string()));
        prop_assert_eq!(v1_value("cpu.cfs_period_us"), quota.map(|_| CPU_PERIOD_US.to_string()));
    }
}

proptest! {
    /// Whatever a clock reads, the offset makes it read the uptime asked
    /// for, to the nanosecond, in the kernel's form: nanoseconds from 0 to
    /// 999999999, the sign in the seconds.
    #[test]
    fn a_clock_plus_its_offset_reads_the_uptime_asked_for(
        seconds in 0i64..10_000_000_000, nanoseconds in 0i64..1_000_000_000, uptime in 0..=MAX_UPTIME,
    ) {
        let now = nix::sys::time::TimeSpec::new(seconds, nanoseconds);
        let offset = offset_to(Clock::Boottime, uptime, now);
        prop_assert!((0..1_000_000_000).contains(&offset.nanoseconds), "{offset:?}");
        let total = i128::from(seconds + offset.seconds) * 1_000_000_000 + i128::from(nanoseconds + offset.nanoseconds);
        prop_assert_eq!(total, i128::from(uptime) * 1_000_000_000);
    }

    /// `--uptime` is taken up to the kernel's limit (KTIME_SEC_MAX / 2,
    /// 4611686018 s) and refused above it, in one line naming the flag.
    #[test]
    fn uptimes_are_taken_up_to_the_kernels_limit(uptime in prop_oneof![0..=MAX_UPTIME, MAX_UPTIME + 1..]) {
        prop_assert_eq!(MAX_UPTIME, 4_611_686_018);
        let config = Config { uptime: Some(uptime), ..Config::default() };
        match TimeNamespace.validate(&Run::new(config)) {
            Ok(()) => prop_assert!(uptime <= MAX_UPTIME),
            Err(error) => {
                let line = error.to_string();
                prop_assert!(uptime > MAX_UPTIME && !line.contains('\n') && line.contains("--uptime"), "{line}");
            }
        }
    }
}
