//! The top of the runtime: `main` reads the command line and hands it to
//! the container's life ([`crate::container::run`]) or to one of lesson
//! 07's tools ([`crate::join::run_tool`]), or, from lesson 11 on, to the
//! OCI commands ([`crate::oci::main`]). Nothing below imports this.

use std::process::ExitCode;

use crate::cli::{self, Request};
use crate::container::{self, Parts};
use crate::panics;
use crate::run::Run;
use crate::state;
use crate::{join, leftovers, oci, transcript};

/// The whole program: parse the command line, run the container or the
/// tool, exit with the status it earns.
pub fn main(parts: Parts) -> ExitCode {
    panics::install_hook();
    let program = parts.binary.name();
    // Lesson 11 on: the OCI commands an engine calls (`create ID --bundle`),
    // always in UTF-8. Any other command line, one that is not UTF-8
    // included, goes to clap, which refuses what it cannot read in one line.
    if parts.oci.is_some()
        && let Some(args) = utf8_arguments()
        && oci::cli::is_oci(&args)
    {
        return ExitCode::from(oci::main(&parts, args, leftovers::UNDO_KINDS));
    }
    let outcome = match cli::parse(parts.binary, std::env::args_os()) {
        Ok(Request::Help(text)) => {
            println!("{}", text.trim_end());
            Ok(0)
        }
        Ok(Request::Run(config)) => {
            transcript::set_quiet(config.quiet);
            container::run(&parts, &Run::new(*config), leftovers::UNDO_KINDS)
        }
        Ok(Request::Tool(tool)) => join::run_tool(
            tool,
            &state::root(),
            parts.join,
            parts.process,
            parts.binary.has_flag("memory"),
            &parts.namespaces,
        ),
        Err(error) => Err(error),
    };
    ExitCode::from(outcome.unwrap_or_else(|error| {
        eprintln!("{program}: {error}");
        error.status()
    }))
}

/// The arguments after the program's name, if every one is UTF-8.
fn utf8_arguments() -> Option<Vec<String>> {
    std::env::args_os()
        .skip(1)
        .map(|arg| arg.into_string().ok())
        .collect()
}
