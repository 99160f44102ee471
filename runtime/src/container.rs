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
//!  5. state directory (if the run keeps       b. wait for "go"
//!     files there), in_parent hooks
//!  6. "go" ─────────────────────────────────► c. lessons' first_in_child, in_child hooks
//!  7. wait for the report: exec or error ◄─── d. exec the command (or report why not)
//!     and mark the container ready (lesson 07: `exec` may enter it now)
//!  8. wait for the child to end
//!  9. lessons' cleanup hooks, in reverse; undo what they forgot; remove
//!     the state directory
//! 10. exit with the command's status
//! ```
//!
//! Lesson 00 decides how to clone, exec and wait ([`Process`]); every later
//! lesson adds a [`Namespace`]. This file only decides *when*; how a hook
//! is called (panics, fault steps) is in [`crate::hooks`].
// ANCHOR_END: life

use nix::errno::Errno;
use nix::sched::CloneFlags;
use nix::sys::prctl;
use nix::sys::signal::{SigSet, Signal, kill};
use nix::sys::wait::waitpid;
use nix::unistd::{Pid, chdir, gethostname};

use crate::command::become_the_command;
use crate::course::Binary;
use crate::error::{Context, Error, RUNTIME_FAILED, Result};
use crate::fault;
use crate::hooks::{self, Lessons, Makers};
use crate::join::Join;
use crate::namespace::Namespace;
use crate::oci::contract::Oci;
use crate::oci::inside::{self, StartGate};
use crate::panics::lesson_code;
use crate::process::{Ending, Process};
use crate::registry;
use crate::run::Run;
use crate::signals::{self, Forwarding};
use crate::state::{self, Undo};
use crate::sync::{self, ChildEnd, ParentEnd};
use crate::transcript;

/// A runtime assembled from lessons: one [`Process`], the namespaces in
/// lesson order, from lesson 07 on the way into a running container, and
/// from lesson 11 on the OCI runtime interface.
pub struct Parts {
    pub binary: Binary,
    pub process: &'static dyn Process,
    pub namespaces: Vec<&'static dyn Namespace>,
    pub join: Option<&'static dyn Join>,
    pub oci: Option<&'static dyn Oci>,
}

/// Run one container to the end and return the exit status it earns.
/// `undo` knows every kind of undo record a lesson may leave.
pub fn run(parts: &Parts, run: &Run, undo: &[&dyn Undo]) -> Result<u8> {
    let lessons = Lessons {
        namespaces: &parts.namespaces,
    };
    let (child, mut parent_end, forwarding) = clone_container(parts, run, &lessons)?;

    // 5-7. The container's state directory (files the lessons make for
    //    it, and their undo records) if the run keeps any, our half of
    //    the setup, then let the child go and see it exec.
    let (mut makers, mut unfinished) = (Makers::default(), None);
    let keeps_files = run.keeps_files();
    let mut set_up = || {
        if keeps_files {
            state::create_container_dir(&run.container_dir)?;
        }
        lessons.in_parent(run, child, &mut makers, &mut unfinished)?;
        parent_end.release()?;
        fault::step("released");
        parent_end.wait_for_exec()?;
        // Only now may `exec` enter it (lesson 07): before, it was half
        // built. A run without a directory has no name to enter it by.
        if keeps_files {
            registry::mark_ready(&run.container_dir)?;
        }
        fault::step("running");
        Ok(())
    };
    let started: Result<()> = set_up();
    // If setup failed, closing our end tells the waiting child to give up.
    drop(parent_end);

    // 8. Wait, then 9. clean up whatever happened before: every lesson's
    //    cleanup, then what they forgot. A directory with records the core
    //    could not undo stays for `just clean`.
    let ended = wait_for(parts.process, child);
    forwarding.stop();
    fault::step("waited");
    let cleaned = lessons
        .cleanup(run, child)
        .and(hooks::undo_forgotten(run, &makers, undo));
    let cleaned = if state::records(&run.container_dir).is_empty() {
        cleaned.and(state::remove_container_dir(&run.container_dir))
    } else {
        cleaned
    };

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

/// Steps 2 to 4 of [`run`], and of lesson 11's [`create`]: refuse what
/// cannot work, make the pipes, hold back signals, clone. Returns the
/// child, the parent's end of the pipes, and the forwarding of signals to
/// the child, started.
fn clone_container(
    parts: &Parts,
    run: &Run,
    lessons: &Lessons,
) -> Result<(Pid, ParentEnd, Forwarding)> {
    // 2. Refuse what cannot work while nothing exists yet, so a refusal
    //    leaves nothing behind.
    let flags = lessons.validate(run)?;
    transcript::parent(format_args!("starting container with {}", describe(flags)));
    fault::step("validated");

    // 3. Signals sent to us from now on wait until we know whom to forward
    //    them to.
    let (parent_end, child_end) = sync::channel()?;
    let forwarding = Forwarding::prepare()?;
    let mask_before = forwarding.mask_before();

    // ANCHOR: spawn_call
    // 4. The child gets copies of everything the closure owns; the parent's
    //    copy of the closure (and so of the child's pipe ends) is dropped
    //    as soon as `spawn` returns.
    let mut child_end = child_end;
    let child_main = Box::new(move || child(parts, run, &mut child_end, &mask_before));
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
    Ok((child, parent_end, forwarding))
}

/// Lesson 11's `create`: steps 2 to 7 of [`run`], except that the child
/// reports that it waits at its exec FIFO for `start` rather than that it
/// has `exec`'d. Returns the container's PID; the runtime then exits, and
/// the container becomes the engine's (conmon's) child. A failure leaves
/// nothing: the child is killed and every lesson cleans up.
/// `cloned` is told the child's PID as soon as its directory exists.
pub fn create(
    parts: &Parts,
    run: &Run,
    undo: &[&dyn Undo],
    cloned: &dyn Fn(Pid) -> Result<()>,
) -> Result<Pid> {
    let lessons = Lessons {
        namespaces: &parts.namespaces,
    };
    let (child, mut parent_end, forwarding) = clone_container(parts, run, &lessons)?;

    let (mut makers, mut unfinished) = (Makers::default(), None);
    let mut set_up = || {
        state::create_container_dir(&run.container_dir)?;
        cloned(child)?;
        inside::make_exec_fifo(&run.container_dir)?;
        lessons.in_parent(run, child, &mut makers, &mut unfinished)?;
        parent_end.release()?;
        fault::step("released");
        parent_end.wait_for_exec()?;
        fault::step("created");
        Ok(())
    };
    let created: Result<()> = set_up();
    drop(parent_end);
    forwarding.stop();
    let created = match unfinished {
        Some(panicked) => Err(panicked),
        None => created,
    };
    if let Err(error) = created {
        let _ = kill(child, Signal::SIGKILL);
        let _ = wait_for(parts.process, child);
        let _ = lessons.cleanup(run, child);
        let _ = hooks::undo_forgotten(run, &makers, undo);
        if state::records(&run.container_dir).is_empty() {
            let _ = state::remove_container_dir(&run.container_dir);
        }
        return Err(error);
    }
    Ok(child)
}

// ANCHOR: child
/// The child's whole life until `exec`; it only returns on failure, with
/// the exit status the failure earns.
fn child(parts: &Parts, run: &Run, channel: &mut ChildEnd, mask_before: &SigSet) -> isize {
    signals::reset_in_child(mask_before);
    die_with_the_runtime();
    if !channel.wait_for_go() {
        return RUNTIME_FAILED.into();
    }
    fault::step("child-released");
    let error = match set_up_inside(parts, run) {
        Ok(None) => become_the_command(parts.process, &run.config),
        Ok(Some(gate)) => {
            // Lesson 11's `create`: the runtime is about to exit, and the
            // container must outlive it; it waits for `start` instead.
            let _ = prctl::set_pdeathsig(None);
            channel.report_ready();
            match gate
                .wait()
                .and_then(|()| inside::install_seccomp(&run.config))
            {
                Ok(()) => become_the_command(parts.process, &run.config),
                Err(error) => error,
            }
        }
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

/// The child's setup; with lesson 11's `create`, also the gate it waits
/// at for `start`.
fn set_up_inside(parts: &Parts, run: &Run) -> Result<Option<StartGate>> {
    // The container starts at its root, as with `docker run`, and none of
    // its processes keeps a directory of the host as its working
    // directory: lesson 03's init forks during the hooks and stays, and
    // lesson 04's pivot_root moves only those at the old root.
    chdir("/").context("change to the root directory")?;
    // Files the runtime left for us in our state directory must stay
    // readable after lesson 04's pivot_root (lesson 06's address lease).
    run.hold_dir();
    // Lesson 11: namespaces an OCI bundle names by path are joined before
    // any lesson's hook, as if the lesson had made them.
    if let Some(oci) = &run.config.oci {
        inside::join_namespaces(oci)?;
    }
    // Who the child is comes before what it does: lesson 05 becomes root
    // of its user namespace in first_in_child, so that the container's
    // root, not the caller, makes every mount and is lesson 03's init.
    // Changing credentials clears the parent-death signal: ask again.
    let lessons = Lessons {
        namespaces: &parts.namespaces,
    };
    lessons.in_child(run, || {
        die_with_the_runtime();
        match &run.config.oci {
            Some(oci) => inside::before_the_lessons(oci),
            None => Ok(()),
        }
    })?;
    let gate = match &run.config.oci {
        Some(oci) => {
            // Only `create` runs a bundle's container, and it always waits
            // for `start`. The gate first: the bundle's user may not open it.
            let gate = StartGate::open(run)?;
            inside::after_the_lessons(oci)?;
            Some(gate)
        }
        None => None,
    };
    let hostname = gethostname().map_or_else(|_| "?".into(), |h| h.to_string_lossy().into_owned());
    transcript::container(format_args!(
        "hostname {hostname}, running {}",
        run.config.command.join(" ")
    ));
    Ok(gate)
}

/// Wait with the lesson's `wait`. If that fails, kill the child rather
/// than leave it running, and reap it ourselves.
fn wait_for(process: &dyn Process, child: Pid) -> Result<Ending> {
    let waited = lesson_code(|| match process.wait(child) {
        // A child that is not ours to wait for, though we cloned it: its
        // exit signal is not SIGCHLD. clone(2) reads the flags' low byte
        // as that signal, so a flag there (CLONE_NEWTIME is 0x80) changes
        // it instead of making a namespace.
        Err(Errno::ECHILD) => Err(Error::new("wait for the container")
            .because(Errno::ECHILD)
            .fix(
                "clone(2) takes the low byte of its flags as the exit signal: does a \
                 lesson's clone_flags return a flag clone(2) cannot take, such as CLONE_NEWTIME?",
            )),
        waited => waited.context("wait for the container"),
    });
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
