//! Lesson 11: the OCI runtime command line, as runc has it and conmon and
//! podman call it (see the book's chapter 11 for a recorded session):
//!
//! ```text
//! RUNTIME [--root DIR] [--log FILE] [--log-format text|json] COMMAND ...
//!   create ID --bundle DIR [--pid-file FILE]
//!   start ID            state ID            kill ID [SIGNAL]
//!   delete [--force] ID
//!   exec --process FILE [--detach] [--pid-file FILE] ID
//!   features
//!   plan --bundle DIR   life-cycle          (the course's own: what your
//!                                            lesson 11 decides, printed)
//! ```
//!
//! Every option is known or refused with one line: an option silently
//! ignored is a container that is not what the engine asked for.

use std::path::PathBuf;

use crate::error::{Error, Result};

/// The options before the command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Globals {
    /// Where the containers' state lives (`--root`).
    pub root: Option<PathBuf>,
    /// Where errors go as well as stderr (`--log`), and in which format.
    pub log: Option<PathBuf>,
    pub log_json: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Create {
        id: String,
        bundle: PathBuf,
        pid_file: Option<PathBuf>,
    },
    Start {
        id: String,
    },
    State {
        id: String,
    },
    Kill {
        id: String,
        signal: String,
    },
    Delete {
        id: String,
        force: bool,
    },
    Exec {
        id: String,
        process: PathBuf,
        detach: bool,
        pid_file: Option<PathBuf>,
    },
    Features,
    /// The course's own: what the lesson makes of a bundle, without
    /// making anything.
    Plan {
        bundle: PathBuf,
    },
    /// The course's own: the lesson's status for every combination of
    /// what can be seen, and its verdict on every command in every state.
    LifeCycle,
}

/// The commands; a command line that starts with one of them, or with a
/// global option, is an OCI command line.
pub const COMMANDS: [&str; 9] = [
    "create",
    "start",
    "state",
    "kill",
    "delete",
    "exec",
    "features",
    "plan",
    "life-cycle",
];

const GLOBALS: [&str; 5] = [
    "--root",
    "--log",
    "--log-format",
    "--systemd-cgroup",
    "--debug",
];

/// Whether `args` (without the program's name) are an OCI command line.
pub fn is_oci(args: &[String]) -> bool {
    // Lesson 07's `exec NAME -- CMD` is not the OCI `exec`, which always
    // gives its process in a file.
    if args.first().is_some_and(|first| first == "exec") {
        return args
            .iter()
            .any(|a| a == "--process" || a == "-p" || a.starts_with("--process="));
    }
    args.first().is_some_and(|first| {
        COMMANDS.contains(&first.as_str())
            || GLOBALS
                .iter()
                .any(|g| first == g || first.starts_with(&format!("{g}=")))
    })
}

/// The options of one command: which take a value, which are flags.
struct Options<'a> {
    args: std::iter::Peekable<std::vec::IntoIter<String>>,
    command: &'a str,
}

enum Arg {
    /// `--name` or `--name=value` (the value is `Some` then).
    Option(String, Option<String>),
    Positional(String),
}

impl Options<'_> {
    fn next(&mut self) -> Option<Arg> {
        let arg = self.args.next()?;
        if let Some(option) = arg.strip_prefix("--") {
            return Some(match option.split_once('=') {
                Some((name, value)) => Arg::Option(format!("--{name}"), Some(value.into())),
                None => Arg::Option(arg.clone(), None),
            });
        }
        if arg.len() == 2 && arg.starts_with('-') {
            return Some(Arg::Option(arg, None));
        }
        Some(Arg::Positional(arg))
    }

    /// The value of `name`: after `=`, or the next argument.
    fn value(&mut self, name: &str, inline: Option<String>) -> Result<String> {
        inline.or_else(|| self.args.next()).ok_or_else(|| {
            Error::new(format!("{} {name} needs a value", self.command))
                .fix(format!("write {name} VALUE"))
        })
    }

    fn unknown(&self, name: &str) -> Error {
        Error::new(format!("{}: unknown option {name}", self.command))
            .fix("this runtime knows the options conmon and podman pass; see `features`")
    }
}

/// Parse an OCI command line (without the program's name).
pub fn parse(args: Vec<String>) -> Result<(Globals, Command)> {
    let mut globals = Globals {
        root: None,
        log: None,
        log_json: false,
    };
    let mut options = Options {
        args: args.into_iter().peekable(),
        command: "runtime",
    };
    let command = loop {
        match options.next() {
            None => {
                return Err(Error::new("no command given")
                    .fix(format!("give one of: {}", COMMANDS.join(", "))));
            }
            Some(Arg::Positional(command)) => break command,
            Some(Arg::Option(name, inline)) => match name.as_str() {
                "--root" => globals.root = Some(options.value(&name, inline)?.into()),
                "--log" => globals.log = Some(options.value(&name, inline)?.into()),
                "--log-format" => match options.value(&name, inline)?.as_str() {
                    "json" => globals.log_json = true,
                    "text" => globals.log_json = false,
                    other => {
                        return Err(Error::new(format!("--log-format {other:?} is not known"))
                            .fix("give --log-format text or --log-format json"));
                    }
                },
                "--systemd-cgroup" => {
                    return Err(Error::new("--systemd-cgroup is not supported")
                        .fix("run the engine with the cgroupfs manager (podman --cgroup-manager cgroupfs)"));
                }
                "--debug" => {}
                _ => return Err(options.unknown(&name)),
            },
        }
    };
    let command_name = command.clone();
    options.command = &command_name;
    let mut positional = Vec::new();
    let (mut bundle, mut pid_file, mut process) = (None, None, None);
    let (mut force, mut detach) = (false, false);
    while let Some(arg) = options.next() {
        let (name, inline) = match arg {
            Arg::Positional(value) => {
                positional.push(value);
                continue;
            }
            Arg::Option(name, inline) => (name, inline),
        };
        match (command.as_str(), name.as_str()) {
            ("create" | "plan", "--bundle" | "-b") => bundle = Some(options.value(&name, inline)?),
            ("create" | "exec", "--pid-file") => pid_file = Some(options.value(&name, inline)?),
            ("create" | "exec", "--console-socket") | ("exec", "--tty" | "-t") => {
                return Err(
                    Error::new(format!("{command}: a terminal ({name}) is not supported"))
                        .fix("run the container without -t"),
                );
            }
            ("delete", "--force" | "-f") => force = true,
            ("exec", "--process" | "-p") => process = Some(options.value(&name, inline)?),
            ("exec", "--detach" | "-d") => detach = true,
            _ => return Err(options.unknown(&name)),
        }
    }
    let id = |positional: &[String], wanted: usize| -> Result<String> {
        if positional.len() != wanted {
            return Err(Error::new(format!(
                "{command_name} takes {wanted} argument{}, got {}",
                if wanted == 1 { "" } else { "s" },
                positional.len()
            ))
            .fix(format!("write {command_name} ID")));
        }
        Ok(positional[0].clone())
    };
    let parsed =
        match command.as_str() {
            "create" => Command::Create {
                id: id(&positional, 1)?,
                bundle: bundle.unwrap_or_else(|| ".".into()).into(),
                pid_file: pid_file.map(PathBuf::from),
            },
            "start" => Command::Start {
                id: id(&positional, 1)?,
            },
            "state" => Command::State {
                id: id(&positional, 1)?,
            },
            "kill" => {
                let signal = match positional.len() {
                    1 => "SIGTERM".to_string(),
                    2 => positional[1].clone(),
                    _ => {
                        return Err(Error::new("kill takes an ID and a signal")
                            .fix("write kill ID [SIGNAL]"));
                    }
                };
                Command::Kill {
                    id: positional[0].clone(),
                    signal,
                }
            }
            "delete" => Command::Delete {
                id: id(&positional, 1)?,
                force,
            },
            "exec" => Command::Exec {
                id: id(&positional, 1)?,
                process: process
                    .ok_or_else(|| {
                        Error::new("exec needs --process FILE")
                            .fix("give the process as JSON in a file, as conmon does")
                    })?
                    .into(),
                detach,
                pid_file: pid_file.map(PathBuf::from),
            },
            "features" if positional.is_empty() => Command::Features,
            "life-cycle" if positional.is_empty() => Command::LifeCycle,
            "features" | "life-cycle" => {
                return Err(Error::new(format!("{command} takes no arguments"))
                    .fix(format!("write {command}")));
            }
            "plan" if positional.is_empty() => Command::Plan {
                bundle: bundle.unwrap_or_else(|| ".".into()).into(),
            },
            "plan" => return Err(Error::new("plan takes no ID").fix("write plan --bundle DIR")),
            other => {
                return Err(Error::new(format!("unknown command {other:?}"))
                    .fix(format!("give one of: {}", COMMANDS.join(", "))));
            }
        };
    Ok((globals, parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn conmons_create_parses() {
        let (globals, command) = parse(args(
            "--log-format=json --log /x/oci-log create --bundle /b --pid-file /p/pidfile abc",
        ))
        .unwrap();
        assert!(globals.log_json);
        assert_eq!(globals.log, Some("/x/oci-log".into()));
        assert_eq!(
            command,
            Command::Create {
                id: "abc".into(),
                bundle: "/b".into(),
                pid_file: Some("/p/pidfile".into())
            }
        );
    }

    #[test]
    fn conmons_exec_and_podmans_kill_and_delete_parse() {
        let (_, exec) = parse(args(
            "exec --pid-file /e/pid --process /e/proc --detach abc",
        ))
        .unwrap();
        assert!(matches!(exec, Command::Exec { detach: true, .. }));
        let (_, kill) = parse(args("kill abc 15")).unwrap();
        assert_eq!(
            kill,
            Command::Kill {
                id: "abc".into(),
                signal: "15".into()
            }
        );
        let (_, delete) = parse(args("delete --force abc")).unwrap();
        assert_eq!(
            delete,
            Command::Delete {
                id: "abc".into(),
                force: true
            }
        );
    }

    #[test]
    fn unknown_options_are_refused_by_name() {
        let error = parse(args("create --bundle /b --no-pivot abc")).unwrap_err();
        assert!(error.to_string().contains("--no-pivot"), "{error}");
        let error = parse(args("--systemd-cgroup create abc")).unwrap_err();
        assert!(error.to_string().contains("--systemd-cgroup"), "{error}");
    }

    #[test]
    fn only_oci_command_lines_are_taken_for_oci() {
        assert!(is_oci(&args("--root /r state x")));
        assert!(is_oci(&args("create x")));
        assert!(!is_oci(&args("--hostname h -- sh")));
        assert!(!is_oci(&args("ps")));
        assert!(!is_oci(&args("exec web -- sh")));
        assert!(is_oci(&args("exec --process /p x")));
    }
}
