// ANCHOR: life
//! The life of a container, top to bottom.
//!
//! ```text
//!  parent (the runtime, on the host)          child (becomes the container)
//!  ─────────────────────────────────          ─────────────────────────────
//!  1. parse the command line
//!  2. every lesson validates the config
//!  3. block forwarded signals, make pipes
//!  4. clone(2) with every lesson's flags ───► a. default signals, die with parent
//!  5. state directory, in_parent hooks        b. wait for "go"
//!  6. "go" ─────────────────────────────────► c. lessons' first_in_child, in_child hooks
//!  7. wait for the report: exec or error ◄─── d. exec the command (or report why not)
//!  8. wait for the child to end
//!  9. lessons' cleanup hooks, in reverse; remove the state directory
//! 10. exit with the command's status
//! ```
//!
//! Lesson 00 decides how to clone, exec and wait ([`Process`]); every later
//! lesson adds a [`Namespace`]. This file only decides *when*.
// ANCHOR_END: life

use std::process::ExitCode;

use nix::errno::Errno;
use nix::sched::CloneFlags;
use nix::sys::prctl;
use nix::sys::signal::{SigSet, Signal, kill};
use nix::sys::wait::waitpid;
use nix::unistd::{Pid, chdir, gethostname};

use crate::cli::{self, Request};
use crate::config::{CONTAINER_PATH, Config};
use crate::course::Binary;
use crate::error::{Context, Error, LESSON_PANICKED, RUNTIME_FAILED, Result};
use crate::fault;
use crate::join::{self, Join};
use crate::namespace::Namespace;
use crate::panics::{self, lesson_code};
use crate::process::{Ending, Process};
use crate::signals::{self, Forwarding};
use crate::state;
use crate::sync::{self, ChildEnd};
use crate::transcript;

/// A runtime assembled from lessons: one [`Process`], the namespaces in
/// lesson order, and from lesson 07 on the way into a running container.
pub struct Parts {
    pub binary: Binary,
    pub process: &'static dyn Process,
    pub namespaces: Vec<&'static dyn Namespace>,
    pub join: Option<&'static dyn Join>,
}

/// The whole program: parse the command line, run the container, exit.
pub fn main(parts: Parts) -> ExitCode {
    panics::install_hook();
    let program = parts.binary.name();
    let outcome = match cli::parse(parts.binary, std::env::args_os()) {
        Ok(Request::Help(text)) => {
            println!("{}", text.trim_end());
            Ok(0)
        }
        Ok(Request::Run(config)) => {
            transcript::set_quiet(config.quiet);
            run(&parts, &config)
        }
        Ok(Request::Tool(tool)) => join::run_tool(&parts, tool),
        Err(error) => Err(error),
    };
    ExitCode::from(outcome.unwrap_or_else(|error| {
        eprintln!("{program}: {error}");
        error.status()
    }))
}

/// Run one container to the end and return the exit status it earns.
pub fn run(parts: &Parts, config: &Config) -> Result<u8> {
    // 2. Refuse what cannot work while nothing exists yet, so a refusal
    //    leaves nothing behind.
    for namespace in &parts.namespaces {
        lesson_code(|| namespace.validate(config))?;
    }
    let flags = lesson_code(|| {
        Ok(parts
            .namespaces
            .iter()
            .fold(CloneFlags::empty(), |flags, ns| flags | ns.clone_flags()))
    })?;
    transcript::parent(format_args!("starting container with {}", describe(flags)));
    fault::step("validated");

    // 3. Signals sent to us from now on wait until we know whom to forward
    //    them to.
    let (mut parent_end, child_end) = sync::channel()?;
    let forwarding = Forwarding::prepare()?;
    let mask_before = forwarding.mask_before();
    // This container's directory on the host, named after our PID: fixed
    // now, so that the child, a copy of us, finds the same one.
    let container_dir = state::container_dir();

    // ANCHOR: spawn_call
    // 4. The child gets copies of everything the closure owns; the parent's
    //    copy of the closure (and so of the child's pipe ends) is dropped
    //    as soon as `spawn` returns.
    let mut child_end = child_end;
    let child_main = Box::new(move || child(parts, config, &mut child_end, &mask_before));
    let spawned = lesson_code(|| {
        parts
            .process
            .spawn(flags, child_main)
            .context("clone the container process")
            .map_err(|e| e.fix(clone_fix()))
    });
    forwarding.start(spawned.as_ref().ok().copied());
    let child = spawned?;
    // ANCHOR_END: spawn_call
    transcript::parent(format_args!("container is pid {child} on the host"));
    fault::step("cloned");

    // 5-7. The container's state directory (files the lessons make for
    //    it), our half of the setup, then let the child go and see it exec.
    //    A parent hook that panics (a `todo!()` not written yet) does not
    //    hold the container back: it starts without that part, so that the
    //    learner sees what is missing (lesson 05: no id maps), and the run
    //    fails afterwards with the panic's line.
    let mut unfinished = None;
    let mut set_up = || {
        state::create_container_dir(container_dir)?;
        for (k, namespace) in parts.namespaces.iter().enumerate() {
            match lesson_code(|| namespace.in_parent(config, child)) {
                Err(panicked) if panicked.status() == LESSON_PANICKED => {
                    transcript::parent(format_args!(
                        "a parent hook panicked; the container starts without the rest of it"
                    ));
                    unfinished.get_or_insert(panicked);
                }
                done => done?,
            }
            fault::step_after("in_parent", k);
        }
        parent_end.release()?;
        fault::step("released");
        parent_end.wait_for_exec()?;
        fault::step("running");
        Ok(())
    };
    let started: Result<()> = set_up();
    // If setup failed, closing our end tells the waiting child to give up.
    drop(parent_end);

    // 8. Wait, then 9. clean up whatever happened before.
    let ended = wait_for(parts.process, child);
    forwarding.stop();
    fault::step("waited");
    let cleaned = parts
        .namespaces
        .iter()
        .enumerate()
        .rev()
        .map(|(k, namespace)| {
            let cleaned = lesson_code(|| namespace.cleanup(config, child));
            fault::step_after("cleanup", k);
            cleaned
        })
        .fold(Ok(()), Result::and)
        .and(state::remove_container_dir(container_dir));

    // 10. The first thing that went wrong is the one to report.
    if let Some(panicked) = unfinished {
        return Err(panicked);
    }
    started?;
    let ending = ended?;
    let status = lesson_code(|| Ok(parts.process.exit_status(ending)))?;
    transcript::parent(format_args!(
        "container {}, status {status}",
        narrate(ending)
    ));
    cleaned?;
    Ok(status)
}

// ANCHOR: child
/// The child's whole life until `exec`; it only returns on failure, with
/// the exit status the failure earns.
fn child(parts: &Parts, config: &Config, channel: &mut ChildEnd, mask_before: &SigSet) -> isize {
    signals::reset_in_child(mask_before);
    die_with_the_runtime();
    if !channel.wait_for_go() {
        return RUNTIME_FAILED.into();
    }
    fault::step("child-released");
    let error = match set_up_inside(parts, config) {
        Ok(()) => become_the_command(parts.process, config),
        Err(error) => error,
    };
    channel.report(&error);
    error.status().into()
}
// ANCHOR_END: child

/// If the runtime dies (even by SIGKILL), take the container with it.
fn die_with_the_runtime() {
    let _ = prctl::set_pdeathsig(Signal::SIGKILL);
}

fn set_up_inside(parts: &Parts, config: &Config) -> Result<()> {
    // The container starts at its root, as with `docker run`, and none of
    // its processes keeps a directory of the host as its working
    // directory: lesson 03's init forks during the hooks and stays, and
    // lesson 04's pivot_root moves only those at the old root.
    chdir("/").context("change to the root directory")?;
    // Files the runtime left for us in our state directory must stay
    // readable after lesson 04's pivot_root (lesson 06's address lease).
    state::hold_container_dir();
    // Who the child is comes before what it does: lesson 05 becomes root
    // of its user namespace here, so that the container's root, not the
    // caller, makes every mount and is lesson 03's init.
    for namespace in &parts.namespaces {
        lesson_code(|| namespace.first_in_child(config))?;
    }
    // Changing credentials clears the parent-death signal: ask again.
    die_with_the_runtime();
    for (k, namespace) in parts.namespaces.iter().enumerate() {
        lesson_code(|| namespace.in_child(config))?;
        fault::step_after("in_child", k);
    }
    let hostname = gethostname().map_or_else(|_| "?".into(), |h| h.to_string_lossy().into_owned());
    transcript::container(format_args!(
        "hostname {hostname}, running {}",
        config.command.join(" ")
    ));
    Ok(())
}

/// `exec` the command; only returns if that failed. Lesson 07's `exec`
/// uses it too, in the process it forks inside a running container.
pub fn become_the_command(process: &dyn Process, config: &Config) -> Error {
    // execvp* search the PATH of the *calling* process, not the one in
    // the environment they pass on, so the search must follow the
    // container's PATH, never the host's.
    // SAFETY: the child is single-threaded, so nothing can read the
    // environment while it changes.
    unsafe { std::env::set_var("PATH", CONTAINER_PATH) };
    close_inherited_descriptors();
    fault::step("child-exec");
    let (argv, env) = (config.argv(), config.environment());
    let outcome = lesson_code(|| {
        let errno = process.exec(&argv, &env);
        let status = process.exit_status(Ending::NotStarted(errno));
        Ok((errno, status))
    });
    let (errno, status) = match outcome {
        Ok(outcome) => outcome,
        Err(error) => return error,
    };
    let command = &config.command[0];
    let fix = match errno {
        Errno::ENOENT => format!("check the command's name; PATH inside is {CONTAINER_PATH}"),
        Errno::EACCES => {
            "make the file executable (chmod +x), on a filesystem not mounted noexec".into()
        }
        _ => "check that the file is a program for this machine".into(),
    };
    Error::new(format!("cannot run {command:?}"))
        .because(errno)
        .fix(fix)
        .with_status(status)
}

// ANCHOR: close_inherited
/// The command gets stdin, stdout and stderr, nothing else: a descriptor
/// the runtime inherited from whoever started it (a shell's, a
/// supervisor's) or opened without close-on-exec would otherwise reach the
/// container, and with it a file, socket or pipe of the host. Marked
/// close-on-exec rather than closed, so the report pipe stays open until
/// `exec` succeeds.
fn close_inherited_descriptors() {
    // SAFETY: close_range only sets a flag on descriptors; no Rust object
    // is closed under its owner's feet.
    unsafe {
        libc::close_range(
            3,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC as libc::c_int,
        )
    };
}
// ANCHOR_END: close_inherited

/// Wait with the lesson's `wait`. If that fails, kill the child rather
/// than leave it running, and reap it ourselves.
fn wait_for(process: &dyn Process, child: Pid) -> Result<Ending> {
    let waited = lesson_code(|| process.wait(child).context("wait for the container"));
    let ending = waited.and_then(|status| {
        Ending::from_wait_status(status).ok_or_else(|| {
            Error::new(format!(
                "wait returned {status:?}, which is not how a process ends"
            ))
        })
    });
    if ending.is_err() {
        let _ = kill(child, Signal::SIGKILL);
        let _ = waitpid(child, None);
    }
    ending
}

fn describe(flags: CloneFlags) -> String {
    let names: Vec<&str> = flags.iter_names().map(|(name, _)| name).collect();
    if names.is_empty() {
        "no new namespaces".to_string()
    } else {
        names.join(" | ")
    }
}

fn narrate(ending: Ending) -> String {
    match ending {
        Ending::Exited(code) => format!("exited with code {code}"),
        Ending::Killed(signal) => format!("was killed by {signal}"),
        Ending::NotStarted(errno) => format!("could not start: {errno}"),
    }
}

fn clone_fix() -> &'static str {
    if nix::unistd::geteuid().is_root() {
        "check that this kernel supports the namespace (see `just doctor`)"
    } else {
        "run as root (sudo), or add a user namespace (lesson 05)"
    }
}
