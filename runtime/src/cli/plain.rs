//! A plain command line, read without clap.
//!
//! Almost every start is a few flags and a command after `--`. Building
//! clap's command tree for it (every flag of the course with its help,
//! the tools, the lessons' gates) took about 0.3 ms of a 2 ms start on the
//! course VM, more than the kernel's `clone` (issue 20). So [`read`] takes
//! a command line made only of flags this binary has, each well formed
//! and given no more often than clap allows, then `--` and the command.
//! For anything else (`--help`, a tool, a later lesson's flag, a mistake)
//! it answers `None` and clap reads the line instead, so every message
//! and the help stay clap's. A test holds both readers to the same
//! answers.

use std::ffi::OsString;

use super::RunArgs;
use crate::config::{self, DEFAULT_HOSTNAME};
use crate::course::Binary;

/// The flags that take no value: `--quiet` alone, never `--quiet=yes`.
const SWITCHES: [&str; 4] = ["quiet", "init", "read_only", "nat"];

/// The flags clap lets a command line repeat; the others it refuses twice.
const REPEATABLE: [&str; 5] = ["volume", "uid_map", "gid_map", "cap_add", "cap_drop"];

/// `args` (without the program's name) as `RunArgs`, or `None` if clap
/// must read them.
pub(super) fn read(binary: Binary, args: &[OsString]) -> Option<RunArgs> {
    let mut run = RunArgs {
        quiet: false,
        hostname: DEFAULT_HOSTNAME.to_string(),
        domainname: None,
        init: false,
        rootfs: None,
        volume: Vec::new(),
        read_only: false,
        uid_map: Vec::new(),
        gid_map: Vec::new(),
        net: "none".parse().ok()?,
        subnet: None,
        nat: false,
        name: None,
        keep_net: None,
        memory: None,
        pids_limit: None,
        cpus: None,
        uptime: None,
        cap_add: Vec::new(),
        cap_drop: Vec::new(),
        seccomp: None,
        command: Vec::new(),
    };
    let mut seen: Vec<&str> = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let arg = arg.to_str()?;
        if arg == "--" {
            run.command = args
                .map(|arg| arg.to_str().map(str::to_string))
                .collect::<Option<_>>()?;
            break;
        }
        let (id, attached) = flag(arg)?;
        let available = id == "quiet" || binary.has_flag(id);
        if !available || (seen.contains(&id) && !REPEATABLE.contains(&id)) {
            return None;
        }
        seen.push(id);
        if SWITCHES.contains(&id) {
            if attached.is_some() {
                return None;
            }
            *switch(&mut run, id)? = true;
            continue;
        }
        let value = match attached {
            Some(value) => value,
            None => args.next()?.to_str()?,
        };
        // clap reads `--hostname -q` as a missing value and an empty one
        // as a mistake of its own: its message, not ours.
        if value.is_empty() || value.starts_with('-') {
            return None;
        }
        set(&mut run, id, value)?;
    }
    Some(run)
}

/// `--long-name[=VALUE]` or `-q` / `-v` as clap's id (`long_name`) and the
/// value written into the same argument.
fn flag(arg: &str) -> Option<(&'static str, Option<&str>)> {
    let (name, attached) = match arg.strip_prefix("--") {
        Some(long) => match long.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (long, None),
        },
        None => match arg {
            "-q" => ("quiet", None),
            "-v" => ("volume", None),
            _ => return None,
        },
    };
    let id = ID_OF_LONG
        .iter()
        .find(|(long, _)| *long == name)
        .map(|&(_, id)| id)?;
    Some((id, attached))
}

/// Each long flag and its clap id, the field of `RunArgs` it fills.
const ID_OF_LONG: [(&str, &str); 21] = [
    ("quiet", "quiet"),
    ("hostname", "hostname"),
    ("domainname", "domainname"),
    ("init", "init"),
    ("rootfs", "rootfs"),
    ("volume", "volume"),
    ("read-only", "read_only"),
    ("uid-map", "uid_map"),
    ("gid-map", "gid_map"),
    ("net", "net"),
    ("subnet", "subnet"),
    ("nat", "nat"),
    ("name", "name"),
    ("keep-net", "keep_net"),
    ("memory", "memory"),
    ("pids-limit", "pids_limit"),
    ("cpus", "cpus"),
    ("uptime", "uptime"),
    ("cap-add", "cap_add"),
    ("cap-drop", "cap_drop"),
    ("seccomp", "seccomp"),
];

fn switch<'a>(run: &'a mut RunArgs, id: &str) -> Option<&'a mut bool> {
    match id {
        "quiet" => Some(&mut run.quiet),
        "init" => Some(&mut run.init),
        "read_only" => Some(&mut run.read_only),
        "nat" => Some(&mut run.nat),
        _ => None,
    }
}

/// Store `value` for `id`, parsed as clap would; `None` if it does not
/// parse (clap then says why).
fn set(run: &mut RunArgs, id: &str, value: &str) -> Option<()> {
    match id {
        "hostname" => run.hostname = value.to_string(),
        "domainname" => run.domainname = Some(value.to_string()),
        "rootfs" => run.rootfs = Some(value.into()),
        "volume" => run.volume.push(value.parse().ok()?),
        "uid_map" => run.uid_map.push(value.parse().ok()?),
        "gid_map" => run.gid_map.push(value.parse().ok()?),
        "net" => run.net = value.parse().ok()?,
        "subnet" => run.subnet = Some(value.parse().ok()?),
        "name" => run.name = Some(config::parse_name(value).ok()?),
        "keep_net" => run.keep_net = Some(config::parse_name(value).ok()?),
        "memory" => run.memory = Some(value.parse().ok()?),
        "pids_limit" => run.pids_limit = Some(value.parse().ok()?),
        "cpus" => run.cpus = Some(value.parse().ok()?),
        "uptime" => run.uptime = Some(config::parse_uptime(value).ok()?),
        "cap_add" => run.cap_add.push(value.to_string()),
        "cap_drop" => run.cap_drop.push(value.to_string()),
        "seccomp" => run.seccomp = Some(value.to_string()),
        _ => return None,
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use clap::{ArgAction, CommandFactory};

    use super::*;
    use crate::cli::Cli;

    #[test]
    fn the_reader_knows_every_flag_of_clap_as_clap_does() {
        let command = Cli::command();
        let flags = command
            .get_arguments()
            .filter(|arg| !["help", "command"].contains(&arg.get_id().as_str()));
        let mut known = 0;
        for arg in flags {
            let id = arg.get_id().as_str();
            let long = arg.get_long().unwrap_or_default();
            assert!(
                ID_OF_LONG.contains(&(long, id)),
                "--{long} ({id}) is not in ID_OF_LONG"
            );
            assert_eq!(
                SWITCHES.contains(&id),
                !arg.get_action().takes_values(),
                "--{long}: SWITCHES is wrong"
            );
            assert_eq!(
                REPEATABLE.contains(&id),
                matches!(arg.get_action(), ArgAction::Append),
                "--{long}: REPEATABLE is wrong"
            );
            if let Some(short) = arg.get_short() {
                assert_eq!(flag(&format!("-{short}")), Some((id, None)));
            }
            known += 1;
        }
        assert_eq!(
            known,
            ID_OF_LONG.len(),
            "ID_OF_LONG has a flag clap does not"
        );
        for short in ('a'..='z').chain('A'..='Z') {
            let clap_has_it = command
                .get_arguments()
                .any(|arg| arg.get_short() == Some(short));
            if !clap_has_it || short == 'h' {
                assert_eq!(
                    flag(&format!("-{short}")),
                    None,
                    "-{short} is not a flag of clap's"
                );
            }
        }
    }
}
