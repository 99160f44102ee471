//! The command line, turned into a [`Config`] or a tool to run.
//!
//! Every binary knows every flag of the course, so that an earlier
//! lesson's binary can refuse a later lesson's flag by name instead of
//! calling it "unknown". The course manifest ([`crate::course::LESSONS`])
//! says which lesson brings which flag; `--help` only lists the ones this binary has.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::config::{self, Config, IdMap, NetMode, Subnet, Volume};
use crate::course::{Binary, Flavour, LESSONS, Part, describe_lesson};
use crate::error::{Error, Result};
use crate::limits::{Cpus, Limits, Memory, Pids};

mod plain;

/// Which lesson adds each flag and subcommand (by clap id), from the
/// course manifest.
pub fn introduced_in() -> impl Iterator<Item = (&'static str, u8)> {
    LESSONS
        .iter()
        .flat_map(|lesson| lesson.introduces.iter().map(move |&id| (id, lesson.number)))
}

#[derive(Parser, Debug)]
#[command(
    disable_version_flag = true,
    args_conflicts_with_subcommands = true,
    after_help = "Exit status: the command's own; 128+N if a signal N killed it; \
                  125 if the runtime failed; 126 if the command cannot be executed; \
                  127 if it was not found."
)]
struct Cli {
    #[command(subcommand)]
    tool: Option<Tool>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Do not narrate the container's life on stderr
    #[arg(short, long)]
    quiet: bool,
    /// The container's hostname, 1 to 64 bytes
    #[arg(long, value_name = "NAME", default_value = config::DEFAULT_HOSTNAME)]
    hostname: String,
    /// The container's NIS domain name, 1 to 64 bytes
    #[arg(long, value_name = "NAME")]
    domainname: Option<String>,
    /// Run a tiny init as PID 1 that reaps orphans and forwards signals
    #[arg(long)]
    init: bool,
    /// Directory to use as the container's root filesystem
    #[arg(long, value_name = "DIR")]
    rootfs: Option<PathBuf>,
    /// Bind-mount a host directory into the container (repeatable)
    #[arg(short, long, value_name = "HOST:CTR[:ro]")]
    volume: Vec<Volume>,
    /// Make the rootfs read-only for the container (its /tmp, /run and volumes stay writable)
    #[arg(long)]
    read_only: bool,
    /// Map container uids to host uids (repeatable) [default: 0 to your own uid, 0:UID:1]
    #[arg(long, value_name = "IN:OUT:LEN")]
    uid_map: Vec<IdMap>,
    /// Map container gids to host gids (repeatable) [default: 0 to your own gid, 0:GID:1]
    #[arg(long, value_name = "IN:OUT:LEN")]
    gid_map: Vec<IdMap>,
    /// Network: `none` (loopback only) or `bridge` (a veth on a host bridge)
    #[arg(long, value_name = "MODE", default_value = "none")]
    net: NetMode,
    /// The bridge network's subnet [default: 10.77.0.0/24]
    #[arg(long, value_name = "CIDR")]
    subnet: Option<Subnet>,
    /// Let the bridged container reach beyond the host (masquerade)
    #[arg(long)]
    nat: bool,
    /// Register the container under NAME for `ps`, `ns` and `exec`
    #[arg(long, value_name = "NAME", value_parser = config::parse_name)]
    name: Option<String>,
    /// Name the container's network namespace NAME for `ip netns exec`
    #[arg(long, value_name = "NAME", value_parser = config::parse_name)]
    keep_net: Option<String>,
    /// Limit the container's memory, e.g. 64m or 1g (no swap beyond it)
    #[arg(long, value_name = "SIZE")]
    memory: Option<Memory>,
    /// Limit how many processes and threads the container may have at once
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pids_limit: Option<Pids>,
    /// Limit the container's CPU time, in CPUs: 0.5 is half of one
    #[arg(long, value_name = "CPUS", allow_negative_numbers = true)]
    cpus: Option<Cpus>,
    /// Start the container's boot-time and monotonic clocks at SECONDS (`uptime` inside)
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true, value_parser = config::parse_uptime)]
    uptime: Option<u64>,
    /// Give the container a capability beyond Docker's default 14 (repeatable; ALL for every one)
    #[arg(long, value_name = "CAP")]
    cap_add: Vec<String>,
    /// Take a capability away from the container (repeatable; ALL for every one)
    #[arg(long, value_name = "CAP")]
    cap_drop: Vec<String>,
    /// `unconfined` turns the default seccomp filter off [default: the filter]
    #[arg(long, value_name = "PROFILE")]
    seccomp: Option<String>,
    /// The command to run, after `--` [default: /bin/sh]
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

/// Tools that work on running containers rather than starting one.
#[derive(Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum Tool {
    /// List the running named containers
    Ps,
    /// Show a container's namespaces beside the host's
    Ns {
        #[arg(value_parser = config::parse_name)]
        name: String,
    },
    /// Run a command inside a running container
    Exec {
        #[arg(value_parser = config::parse_name)]
        name: String,
        /// The command to run, after `--`
        #[arg(last = true, required = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Start a container (boxed: a `Config` is large beside a tool).
    Run(Box<Config>),
    /// Use a tool on running containers.
    Tool(Tool),
    /// Print this text on stdout and exit 0 (`--help`).
    Help(String),
}

/// Parse `args` (including the program name) for `binary`: a plain
/// command line directly ([`plain`]), anything else with clap.
pub fn parse(binary: Binary, args: impl IntoIterator<Item = OsString>) -> Result<Request> {
    let args: Vec<OsString> = args.into_iter().collect();
    match plain::read(binary, args.get(1..).unwrap_or_default()) {
        Some(run) => to_request(run),
        None => parse_with_clap(binary, args),
    }
}

/// Parse `args` (including the program name) for `binary` with clap.
fn parse_with_clap(binary: Binary, args: Vec<OsString>) -> Result<Request> {
    let name = binary.name();
    let mut command = Cli::command()
        .name(name.clone())
        .bin_name(name.clone())
        .about(format!(
            "A container runtime built in the nslab course, up to {}",
            describe_lesson(binary.level)
        ));
    // Later lessons' flags stay parseable (so we can name their lesson)
    // but are hidden from this binary's --help.
    for (id, lesson) in introduced_in().filter(|&(_, l)| l > binary.level) {
        if command.get_subcommands().any(|s| s.get_name() == id) {
            command = command.mut_subcommand(id, |s| s.hide(true));
        } else {
            command = command.mut_arg(id, |a| a.hide(true));
        }
        debug_assert!(lesson > binary.level);
    }
    // Lesson 11's OCI commands are parsed before clap (`crate::oci::cli`).
    let speaks_oci = LESSONS
        .iter()
        .take(usize::from(binary.level) + 1)
        .any(|lesson| lesson.adds.contains(&Part::Oci));
    if speaks_oci {
        let exit_statuses = command
            .get_after_help()
            .map(ToString::to_string)
            .unwrap_or_default();
        command = command.after_help(format!(
            "{exit_statuses}\n\nAlso the OCI runtime's commands, as podman and conmon call runc: \
             create, start, state, kill, delete, exec --process, features; and the \
             course's plan --bundle DIR and life-cycle (chapter 11)."
        ));
    }

    let matches = match command.try_get_matches_from_mut(args) {
        Ok(matches) => matches,
        Err(e) if !e.use_stderr() => return Ok(Request::Help(e.render().to_string())),
        Err(e) => return Err(one_line_clap_error(&e, &name)),
    };
    refuse_later_lessons(&matches, binary)?;

    let cli = Cli::from_arg_matches(&matches).map_err(|e| one_line_clap_error(&e, &name))?;
    match cli.tool {
        Some(tool) => Ok(Request::Tool(tool)),
        None => to_request(cli.run),
    }
}

/// A container's configuration from its flags.
fn to_request(mut run: RunArgs) -> Result<Request> {
    // The container starts in `/`, so relative paths are made absolute
    // here, from where the runtime was started.
    let absolute = |path: &mut PathBuf| {
        if let Ok(full) = std::path::absolute(&*path) {
            *path = full;
        }
    };
    run.rootfs.iter_mut().for_each(absolute);
    run.volume
        .iter_mut()
        .for_each(|volume| absolute(&mut volume.host));
    if run.read_only && run.rootfs.is_none() {
        return Err(Error::new(
            "--read-only makes the container's rootfs read-only, and there is no --rootfs",
        )
        .fix("add --rootfs DIR, or leave out --read-only"));
    }
    if let Some(arg) = run.command.iter().find(|arg| arg.contains('\0')) {
        return Err(Error::new(format!(
            "command argument {arg:?} contains a NUL byte"
        )));
    }
    Ok(Request::Run(Box::new(Config {
        quiet: run.quiet,
        hostname: run.hostname,
        domainname: run.domainname,
        init: run.init,
        rootfs: run.rootfs,
        volumes: run.volume,
        read_only_root: run.read_only,
        tmpfs: Vec::new(),
        uid_maps: run.uid_map,
        gid_maps: run.gid_map,
        net: run.net,
        subnet: run.subnet,
        nat: run.nat,
        name: run.name,
        keep_net: run.keep_net,
        limits: Limits {
            memory: run.memory,
            pids: run.pids_limit,
            cpus: run.cpus,
        },
        uptime: run.uptime,
        cap_add: run.cap_add,
        cap_drop: run.cap_drop,
        seccomp: run.seccomp,
        masked_paths: None,
        read_only_paths: None,
        command: if run.command.is_empty() {
            vec![config::DEFAULT_COMMAND.to_string()]
        } else {
            run.command
        },
        oci: None,
    })))
}

fn refuse_later_lessons(matches: &ArgMatches, binary: Binary) -> Result<()> {
    for (id, lesson) in introduced_in() {
        if lesson <= binary.level {
            continue;
        }
        let used = matches.subcommand_name() == Some(id)
            || matches
                .try_get_raw(id)
                .is_ok_and(|_| matches.value_source(id) == Some(ValueSource::CommandLine));
        if used {
            let shown = if matches.subcommand_name() == Some(id) {
                format!("`{id}`")
            } else {
                format!("--{}", id.replace('_', "-"))
            };
            return Err(Error::new(format!(
                "{shown} comes in {}; {} does not have it yet",
                describe_lesson(lesson),
                binary.name()
            ))
            .fix(format!(
                "use {} or {} or later",
                Binary::new(Flavour::Exercise, lesson),
                Binary::new(Flavour::Solution, lesson)
            )));
        }
    }
    Ok(())
}

/// Clap explains a mistake over several lines (error, usage, tips); we
/// keep the error and the tip on one line and point at `--help`.
fn one_line_clap_error(error: &clap::Error, program: &str) -> Error {
    let rendered = error.render().to_string();
    let mut lines = rendered
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("error:") || line.starts_with("tip:"))
        .map(|line| {
            line.trim_start_matches("error:")
                .trim_start_matches("tip:")
                .trim()
        });
    let what = lines.next().unwrap_or("invalid command line").to_string();
    let mut tips: Vec<String> = lines.map(str::to_string).collect();
    // A bare word where a flag was expected is almost always a command
    // typed without the `--` that must come before it.
    if let Some(ContextValue::String(arg)) = error.get(ContextKind::InvalidArg)
        && error.kind() == ErrorKind::UnknownArgument
        && !arg.starts_with('-')
    {
        tips.push(format!(
            "put the command after `--`, as in `{program} -- {arg}`"
        ));
    }
    // The container's names and its command are kept as text.
    if error.kind() == ErrorKind::InvalidUtf8 {
        tips.push("write every argument in UTF-8 (`iconv` converts a name)".to_string());
    }
    let fix = if tips.is_empty() {
        format!("see `{program} --help`")
    } else {
        format!("{}; see `{program} --help`", tips.join("; "))
    };
    Error::new(what).fix(fix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_at(level: u8, args: &[&str]) -> Result<Request> {
        let binary = Binary {
            flavour: Flavour::Solution,
            level,
        };
        parse(
            binary,
            std::iter::once("prog")
                .chain(args.iter().copied())
                .map(OsString::from),
        )
    }

    fn config_at(level: u8, args: &[&str]) -> Config {
        match parse_at(level, args) {
            Ok(Request::Run(config)) => *config,
            other => panic!("expected a run request, got {other:?}"),
        }
    }

    fn words(line: &[&str]) -> Vec<OsString> {
        line.iter().map(OsString::from).collect()
    }

    /// Command lines the plain reader must take, at the last lesson.
    const PLAIN: [&[&str]; 11] = [
        &[],
        &["--", "echo", "hi"],
        &["-q", "--", "true", "--quiet"],
        &[
            "--quiet",
            "--hostname",
            "box",
            "--domainname=example.org",
            "--",
        ],
        &[
            "--init",
            "--rootfs",
            "rel/dir",
            "-v",
            "/a:/b:ro",
            "--volume=/c:/d",
            "--read-only",
        ],
        // Read by both, refused by the same check after them.
        &["--read-only", "--", "true"],
        &[
            "--uid-map",
            "0:1000:1",
            "--gid-map=0:1000:1",
            "--uid-map",
            "1:100000:10",
        ],
        &[
            "--net",
            "bridge",
            "--subnet",
            "10.9.0.0/24",
            "--nat",
            "--name",
            "web",
            "--keep-net",
            "webnet",
        ],
        &[
            "--memory",
            "64m",
            "--pids-limit",
            "100",
            "--cpus",
            "0.5",
            "--",
            "sh",
            "-c",
            "x",
        ],
        &["--uptime", "3600", "--net=none"],
        &[
            "--cap-add",
            "NET_ADMIN",
            "--cap-drop=ALL",
            "--cap-add",
            "SYS_TIME",
            "--seccomp",
            "unconfined",
        ],
    ];

    /// Command lines only clap can answer: help, tools, mistakes.
    const FOR_CLAP: [&[&str]; 18] = [
        &["--help"],
        &["-h"],
        &["ps"],
        &["exec", "web", "--", "sh"],
        &["echo"],
        &["--hostname"],
        &["--hostname", "-q"],
        &["--hostname="],
        &["--quiet", "--quiet"],
        &["--quiet=yes"],
        &["-qv", "/a:/b"],
        &["--memory", "lots"],
        &["--pids-limit", "-1"],
        &["--name", "bad/name"],
        &["--no-such-flag"],
        &["--rootfs", "a", "--rootfs", "b"],
        &["--volume", "nocolon"],
        &["---quiet"],
    ];

    #[test]
    fn the_plain_reader_agrees_with_clap_and_leaves_it_the_rest() {
        for level in 0..=11 {
            let binary = Binary {
                flavour: Flavour::Solution,
                level,
            };
            for line in PLAIN.iter().chain(&FOR_CLAP) {
                let by_clap = parse_with_clap(
                    binary,
                    words(&["prog"]).into_iter().chain(words(line)).collect(),
                );
                match plain::read(binary, &words(line)) {
                    Some(run) => assert_eq!(
                        format!("{:?}", to_request(run)),
                        format!("{by_clap:?}"),
                        "{line:?} at lesson {level}"
                    ),
                    None => assert!(
                        level < 11 || FOR_CLAP.contains(line),
                        "the plain reader declined {line:?}"
                    ),
                }
                if FOR_CLAP.contains(line) {
                    assert!(plain::read(binary, &words(line)).is_none(), "{line:?}");
                }
            }
        }
    }

    #[test]
    fn defaults_follow_the_articles() {
        let config = config_at(7, &[]);
        assert_eq!(config.command, ["/bin/sh"]);
        assert_eq!(config.hostname, "container");
        assert_eq!(config.net, NetMode::None);
    }

    #[test]
    fn the_command_comes_after_a_double_dash() {
        let config = config_at(
            1,
            &["--quiet", "--hostname", "abc", "--", "sh", "-c", "echo hi"],
        );
        assert_eq!(config.command, ["sh", "-c", "echo hi"]);
        assert_eq!(config.hostname, "abc");
        assert!(config.quiet);
        let refused = parse_at(1, &["hostname"]).unwrap_err().to_string();
        assert!(refused.contains("'hostname'"), "{refused}");
        assert!(refused.contains("-- hostname"), "{refused}");
    }

    #[test]
    fn limits_parse_at_lesson_8_and_bad_ones_are_one_line() {
        let config = config_at(8, &["--memory=64m", "--pids-limit=100", "--cpus=0.5"]);
        assert_eq!(config.limits.to_string(), "memory 64m, pids 100, cpus 0.5");
        assert!(config_at(8, &[]).limits.is_empty());
        for (args, words) in [
            (&["--memory", "0"][..], "below 6m"),
            (&["--memory", "lots"][..], "not a size"),
            (&["--memory", "1k"][..], "below 6m"),
            (&["--pids-limit", "0"][..], "no process"),
            (&["--pids-limit", "-3"][..], "no process"),
            (&["--cpus", "0"][..], "never"),
            (&["--cpus", "1e9"][..], "more than the host has"),
        ] {
            let error = parse_at(8, args).unwrap_err();
            let text = error.to_string();
            assert!(
                !text.contains('\n') && text.contains(words),
                "{args:?}: {text}"
            );
            assert!(text.contains(args[0]), "{args:?}: {text}");
            assert_eq!(error.status(), 125);
        }
        let refused = parse_at(7, &["--memory", "64m"]).unwrap_err().to_string();
        assert!(refused.contains("lesson 08 (cgroup)"), "{refused}");
    }

    #[test]
    fn every_flag_of_the_contract_parses_at_lesson_7() {
        let config = config_at(
            7,
            &[
                "--hostname=box",
                "--domainname=lab",
                "--init",
                "--rootfs=/srv/root",
                "-v",
                "/a:/b:ro",
                "--uid-map=0:100000:65536",
                "--gid-map=0:100000:65536",
                "--net=bridge",
                "--subnet=10.88.0.0/24",
                "--nat",
                "--name=web",
                "--keep-net=web",
                "--",
                "true",
            ],
        );
        assert!(config.init && config.nat);
        assert_eq!(config.volumes.len(), 1);
        assert_eq!(config.uid_maps[0].count, 65536);
        assert_eq!(config.subnet.unwrap().prefix_len, 24);
        assert_eq!(config.name.as_deref(), Some("web"));
        assert_eq!(config.keep_net.as_deref(), Some("web"));
    }

    #[test]
    fn later_lessons_flags_are_refused_by_name() {
        for (args, lesson) in [
            (&["--hostname", "x"][..], "lesson 01 (uts)"),
            (&["--init"][..], "lesson 03 (pid)"),
            (&["--rootfs", "/x"][..], "lesson 04 (mount)"),
            (&["--uid-map", "0:0:1"][..], "lesson 05 (user)"),
            (&["--net", "bridge"][..], "lesson 06 (net)"),
            (&["ps"][..], "lesson 07 (join)"),
            (&["--keep-net", "web"][..], "lesson 07 (join)"),
            (&["--uptime", "0"][..], "lesson 09 (time)"),
        ] {
            let error = parse_at(0, args).unwrap_err();
            assert!(error.to_string().contains(lesson), "{error}");
            assert_eq!(error.status(), 125);
        }
    }

    #[test]
    fn every_gated_id_exists_and_every_option_is_gated() {
        let command = Cli::command();
        let mut ids: Vec<String> = command
            .get_arguments()
            .map(|a| a.get_id().to_string())
            .chain(command.get_subcommands().map(|s| s.get_name().to_string()))
            .filter(|id| !["quiet", "command", "help"].contains(&id.as_str()))
            .collect();
        ids.sort();
        let mut gated: Vec<String> = introduced_in().map(|(id, _)| id.to_string()).collect();
        gated.sort();
        assert_eq!(ids, gated);
    }

    #[test]
    fn the_help_names_the_default_subnet() {
        match parse_at(6, &["--help"]) {
            Ok(Request::Help(text)) => {
                let default = format!("[default: {}]", config::DEFAULT_SUBNET);
                assert!(text.contains(&default), "{text}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn help_is_a_request_not_an_error() {
        match parse_at(1, &["--help"]) {
            Ok(Request::Help(text)) => {
                assert!(text.contains("--hostname"));
                assert!(!text.contains("--rootfs"), "later lessons stay hidden");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn read_only_without_a_rootfs_is_one_line_that_names_the_fix() {
        let error = parse_at(4, &["--read-only", "--", "true"])
            .unwrap_err()
            .to_string();
        assert!(!error.contains('\n'), "{error}");
        assert!(
            error.contains("--read-only") && error.contains("--rootfs DIR"),
            "{error}"
        );
        let config = config_at(4, &["--read-only", "--rootfs", "/srv/root"]);
        assert!(config.read_only_root);
        assert!(!config_at(4, &["--rootfs", "/srv/root"]).read_only_root);
    }

    #[test]
    fn malformed_values_are_one_line_errors() {
        for args in [
            &["--uid-map", "0:0"][..],
            &["--subnet", "10.0.0.1/24"][..],
            &["--volume", "/a"][..],
            &["--net", "host"][..],
            &["--name", "-x"][..],
            &["--no-such-flag"][..],
            &["--uptime", "-1"][..],
            &["--uptime", "abc"][..],
        ] {
            let error = parse_at(crate::course::LAST_LESSON, args)
                .unwrap_err()
                .to_string();
            assert!(!error.contains('\n'), "{error}");
            assert!(error.contains("--help"), "{error}");
        }
    }
}
