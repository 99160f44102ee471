//! Property tests for every value the command line parses: whatever the
//! input, a parser answers with a value or a one-line reason, never a
//! panic; and every value it accepts survives a round trip through its
//! printed form. The whole command line, and paths inside a rootfs, too.

use std::ffi::OsString;
use std::net::Ipv4Addr;
use std::path::Path;

use nslab_runtime::cli;
use nslab_runtime::config::{IdMap, Subnet, Volume, parse_name};
use nslab_runtime::paths::resolve_in_root;
use nslab_runtime::{Binary, Flavour};
use proptest::prelude::*;

/// Any text, with a bias towards the characters the shapes are made of.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9:/.a-z -]{0,40}",
        "[0-9]{1,11}:[0-9]{1,11}:[0-9]{1,11}",
    ]
}

proptest! {
    #[test]
    fn parsers_never_panic_and_refuse_in_one_line(input in text()) {
        let reasons = [
            input.parse::<IdMap>().err(),
            input.parse::<Volume>().err(),
            input.parse::<Subnet>().err(),
            parse_name(&input).err(),
        ];
        for reason in reasons.into_iter().flatten() {
            prop_assert!(!reason.is_empty());
            prop_assert!(!reason.contains('\n'), "{reason:?}");
        }
    }

    #[test]
    fn an_id_map_round_trips_through_the_kernels_format(
        inside in 0u32..u32::MAX, outside in 0u32..u32::MAX, count in 1u32..u32::MAX,
    ) {
        let text = format!("{inside}:{outside}:{count}");
        let fits = |start: u32| u64::from(start) + u64::from(count) <= u64::from(u32::MAX);
        match text.parse::<IdMap>() {
            Ok(map) => {
                prop_assert!(fits(inside) && fits(outside));
                prop_assert_eq!(map.to_string(), format!("{inside} {outside} {count}"));
            }
            Err(_) => prop_assert!(!fits(inside) || !fits(outside)),
        }
    }

    #[test]
    fn a_subnet_is_accepted_exactly_when_its_host_bits_are_zero(
        address in any::<u32>(), prefix_len in 0u8..=32,
    ) {
        let text = format!("{}/{prefix_len}", Ipv4Addr::from(address));
        let mask = u32::MAX.checked_shl(32 - u32::from(prefix_len)).unwrap_or(0);
        match text.parse::<Subnet>() {
            Ok(subnet) => {
                prop_assert_eq!(address & !mask, 0);
                prop_assert_eq!(subnet.to_string(), text);
                prop_assert!(subnet.contains(Ipv4Addr::from(address)));
            }
            Err(reason) => {
                prop_assert_ne!(address & !mask, 0);
                prop_assert!(reason.contains("host bits"), "{reason}");
            }
        }
    }

    #[test]
    fn a_volume_keeps_its_paths_and_mode(
        host in "/[a-z0-9_./-]{0,20}", container in "/[a-z0-9_./-]{0,20}",
        mode in prop_oneof![Just(""), Just(":ro"), Just(":rw")],
    ) {
        let volume: Volume = format!("{host}:{container}{mode}").parse().unwrap();
        prop_assert_eq!(volume.host.to_str(), Some(host.as_str()));
        prop_assert_eq!(volume.container.to_str(), Some(container.as_str()));
        prop_assert_eq!(volume.read_only, mode == ":ro");
    }

    #[test]
    fn a_name_is_accepted_exactly_as_docker_would(name in "[a-zA-Z0-9_.-]{0,70}") {
        let docker_would = name.len() <= 64
            && name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
        prop_assert_eq!(parse_name(&name).is_ok(), docker_would);
    }
}

/// A word of a command line: a flag of the course, a value, or noise.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "--",
            "-q",
            "--quiet",
            "--hostname",
            "--domainname",
            "--init",
            "--rootfs",
            "-v",
            "--volume",
            "--uid-map",
            "--gid-map",
            "--net",
            "--subnet",
            "--nat",
            "--name",
            "ps",
            "ns",
            "exec",
            "--help",
        ])
        .prop_map(str::to_string),
        text(),
    ]
}

proptest! {
    /// The whole command line, for every binary: whatever the words, the
    /// parser answers with a request or one line that says what to do
    /// (exit status 125), never a panic.
    #[test]
    fn any_command_line_is_a_request_or_one_line_with_a_fix(
        level in 0u8..=7, words in prop::collection::vec(word(), 0..8),
    ) {
        let binary = Binary { flavour: Flavour::Solution, level };
        let args = std::iter::once("solution".to_string()).chain(words).map(OsString::from);
        if let Err(error) = cli::parse(binary, args) {
            let line = error.to_string();
            prop_assert!(!line.contains('\n'), "{line}");
            prop_assert!(line.contains("(fix: "), "{line}");
            prop_assert_eq!(error.status(), 125);
        }
    }

    /// A container path, however it climbs or repeats itself, resolves to
    /// a place inside the rootfs or is refused with a reason.
    #[test]
    fn a_container_path_resolves_inside_the_rootfs_or_is_refused(
        parts in prop::collection::vec(prop_oneof![Just(".."), Just("."), Just("a"), Just("b")], 0..8),
    ) {
        let root = Path::new("/nonexistent-rootfs-for-proptest");
        let path = format!("/{}", parts.join("/"));
        match resolve_in_root(root, Path::new(&path)) {
            Ok(resolved) => prop_assert!(resolved.starts_with(root), "{path} -> {}", resolved.display()),
            Err(reason) => prop_assert!(reason.contains("climbs above"), "{path}: {reason}"),
        }
    }
}
