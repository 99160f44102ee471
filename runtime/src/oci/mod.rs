//! Lesson 11: the runtime speaks the OCI runtime interface, so that a
//! container engine (podman, through conmon) runs it in place of runc.
//!
//! One concept per module, importing downwards only:
//! [`cli`] (the command line) → [`lifecycle`] (the commands) →
//! [`bundle`] (config.json onto the lessons) and [`state`] (the
//! container's directory and status) → [`inside`] (the container's side:
//! joined namespaces, process settings, the wait for `start`), which
//! `container.rs` also calls.

pub mod bundle;
pub mod cli;
pub mod contract;
pub mod inside;
pub mod lifecycle;
pub mod seccomp;
pub mod state;

pub use contract::{Oci, Operation, Plan, Seen, in_bundle};

use std::fs::OpenOptions;
use std::io::Write;

use crate::container::Parts;
use crate::error::Error;
use crate::state::Undo;
use crate::transcript;

/// The exit status of a failed OCI command, as runc's.
pub const OCI_FAILED: u8 = 1;

/// `main` for an OCI command line (`args` without the program's name);
/// `undo` knows every kind of undo record, for `delete`.
pub fn main(parts: &Parts, args: Vec<String>, undo: &[&dyn Undo]) -> u8 {
    let program = parts.binary.name();
    // The transcript would go to the container's stderr: the engine's log.
    transcript::set_quiet(true);
    let (globals, outcome) = match cli::parse(args) {
        Ok((globals, command)) => {
            let root = lifecycle::root_or_default(globals.root.clone());
            let outcome = lifecycle::run(parts, &root, command, undo);
            (Some(globals), outcome)
        }
        Err(error) => (None, Err(error)),
    };
    match outcome {
        Ok(status) => status,
        Err(error) => {
            report(&program, globals.as_ref(), &error);
            OCI_FAILED
        }
    }
}

/// One line on stderr and, with `--log`, in the log file (JSON lines with
/// `--log-format json`, which podman reads back for its error message).
fn report(program: &str, globals: Option<&cli::Globals>, error: &Error) {
    eprintln!("{program}: {error}");
    let Some(globals) = globals else { return };
    let Some(log) = &globals.log else { return };
    let line = if globals.log_json {
        serde_json::json!({ "level": "error", "msg": error.to_string() }).to_string()
    } else {
        format!("{program}: {error}")
    };
    if let Ok(mut file) = OpenOptions::new().create(true).append(true).open(log) {
        let _ = writeln!(file, "{line}");
    }
}
