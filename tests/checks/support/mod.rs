//! What every check uses: which binary to run ([`target`]), how to run a
//! container and read what it printed ([`run`]), the guard that fails a
//! check which changed the host ([`host`]), the host's view of processes
//! ([`procs`]), System V IPC objects made on the host ([`ipc`]), the
//! root filesystems and mount tables of lesson 04 ([`mounts`]), the
//! host's side of lesson 06's network ([`net`]), lesson 07's named
//! containers ([`join`]), lesson 08's cgroups ([`cgroup`]), lesson 09's
//! clocks ([`clocks`]) and killing the runtime on purpose ([`faults`]).

pub mod cgroup;
pub mod clocks;
pub mod faults;
pub mod host;
pub mod ipc;
pub mod join;
pub mod mounts;
pub mod net;
pub mod oci;
pub mod procs;
pub mod run;
pub mod target;

pub use host::HostGuard;
pub use run::{Container, NOBODY, Outcome, User};

/// A step a check takes to prepare itself (write a file, plant a symlink,
/// copy the rootfs). When one fails, the machine or the check is at
/// fault, never the learner's code, and the message says so plainly
/// instead of in Rust's debug text.
pub trait Prepare<T> {
    /// The value, or a panic that says "the check could not STEP: WHY
    /// (not your code)".
    fn prepared(self, step: &str) -> T;
}

impl<T, E: std::fmt::Display> Prepare<T> for Result<T, E> {
    fn prepared(self, step: &str) -> T {
        self.unwrap_or_else(|why| panic!("{}", setup_failure(step, why)))
    }
}

/// What a check says when it could not prepare `step`; the checker shows
/// it without a hint about the learner's code.
pub fn setup_failure(step: &str, why: impl std::fmt::Display) -> String {
    format!("the check could not {step}: {why} (not your code)")
}

/// Copy the program `from` to `to`, to be run from there. By `cp`, not
/// `fs::copy`: while this process holds a file open for writing, every
/// other check thread that forks hands the open file to its child until
/// that child execs, and running the copy meanwhile fails with "Text file
/// busy" (ETXTBSY). In `cp` the file is only ever open in `cp`.
pub fn copy_program(from: &std::path::Path, to: &std::path::Path) -> Result<(), String> {
    let status = std::process::Command::new("cp")
        .arg("--preserve=mode")
        .arg(from)
        .arg(to)
        .status()
        .map_err(|e| format!("run cp: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cp {} {}: {status}", from.display(), to.display()))
    }
}

/// A directory under /tmp that is removed even if the check fails.
#[derive(Debug)]
pub struct TempDir {
    pub path: std::path::PathBuf,
}

impl TempDir {
    pub fn new() -> TempDir {
        let path = std::env::temp_dir().join(format!("nslab-check-{}", random_hex(6)));
        std::fs::create_dir(&path).prepared("create a temporary directory");
        TempDir { path }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Build the C helper `tests/checks/support/NAME.c` into `dir` and return
/// its path. Linked statically: the rootfs has no C library.
pub fn static_helper(name: &str, dir: &std::path::Path) -> std::path::PathBuf {
    let source = format!(
        "{}/tests/checks/support/{name}.c",
        env!("CARGO_MANIFEST_DIR")
    );
    let helper = dir.join(name);
    let helper_arg = helper.display().to_string();
    let built = Outcome::of_host_command("cc", &["-static", "-Os", "-o", &helper_arg, &source]);
    if built.status != Some(0) {
        panic!(
            "{}",
            setup_failure(
                &format!("build its static helper {name}.c (setup.sh installs gcc and libc6-dev)"),
                built.stderr.trim()
            )
        );
    }
    helper
}

/// A short random hex string, so that every run uses fresh names.
pub fn random_hex(bytes: usize) -> String {
    use std::io::Read;
    let mut buffer = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut buffer))
        .prepared("read /dev/urandom");
    buffer.iter().map(|b| format!("{b:02x}")).collect()
}

/// Privileged checks call this first, so that without root they fail at
/// once with one line that says what to do.
pub fn require_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "this check needs root: run `just test` (or `cargo test -- --ignored`) as root in your VM"
    );
}

/// What `readlink /proc/self/ns/KIND` says on the host, e.g. `uts:[4026531838]`.
pub fn host_namespace(kind: &str) -> String {
    namespace_of("self", kind)
}

/// What `readlink /proc/PROCESS/ns/KIND` says on the host, for a PID or
/// `self`.
pub fn namespace_of(process: &str, kind: &str) -> String {
    let link = format!("/proc/{process}/ns/{kind}");
    std::fs::read_link(&link)
        .unwrap_or_else(|e| panic!("readlink {link}: {e}"))
        .to_string_lossy()
        .into_owned()
}

/// `readlink /proc/self/ns/KIND` inside `container` must name a namespace
/// of that kind other than the host's.
pub fn expect_a_namespace_of_its_own(container: &Container, kind: &str) {
    let outcome = container.run(&["readlink", &format!("/proc/self/ns/{kind}")]);
    outcome.expect_success();
    let inside = outcome.stdout.trim();
    let host = host_namespace(kind);
    if !inside.starts_with(&format!("{kind}:[")) || inside == host {
        let name = kind.to_uppercase();
        outcome.fail(&format!(
            "should print a new {name} namespace, not the host's {host}"
        ));
    }
}
