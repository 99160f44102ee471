//! Becoming the command: the last step of a container's child, and of
//! lesson 07's `exec` in a running container.

use nix::errno::Errno;

use crate::config::{CONTAINER_PATH, Config};
use crate::error::Error;
use crate::fault;
use crate::panics::lesson_code;
use crate::process::{Ending, Process};

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
    // Called as a raw system call: the libc crate wraps it for glibc only,
    // and the benchmarks build against musl.
    unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
}
// ANCHOR_END: close_inherited
