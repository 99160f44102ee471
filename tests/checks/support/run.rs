//! Running a container binary as a subprocess and reading what the real
//! tools inside it printed. Never clone or unshare in the test process
//! itself: it is multithreaded, and the runtime is not.
//!
//! Every failed expectation panics with a message written for a learner:
//! the command line, what was expected, and what actually came out.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

use nix::sys::signal::Signal;
use nix::sys::wait::{Id, WaitPidFlag, waitid};
use nix::unistd::Pid;

use nslab_runtime::course::LESSONS;

use super::host::state_root;
use super::procs::{KillOnDrop, children_of, descendants_of};
use super::target::{self, Binary, Flavour};
use super::{Prepare, TempDir};

/// Long enough for any check; short enough that a hung container fails
/// the check instead of hanging the whole run.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// A user of the host to run the runtime as, instead of the check's own
/// (root): `setpriv --reuid=UID --regid=GID` and its groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct User {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups; none is `--clear-groups`.
    pub groups: &'static [u32],
}

/// `nobody`, the unprivileged user of Debian and Ubuntu, with no groups.
pub const NOBODY: User = User {
    uid: 65534,
    gid: 65534,
    groups: &[],
};

/// Running as another user: who, and the copy of the binary they run.
#[derive(Debug, Clone)]
struct RunAs {
    user: User,
    /// The checkout may be closed to others (under /root, 0700).
    copy: Arc<TempDir>,
}

/// A container to run: a binary and its flags, before the `--`, and who
/// runs it.
#[derive(Debug, Clone)]
pub struct Container {
    target: Binary,
    flags: Vec<String>,
    run_as: Option<RunAs>,
}

impl Container {
    /// The binary for the checks of `lesson`, with `--quiet`, so stdout and
    /// stderr hold only what the command printed.
    pub fn for_lesson(lesson: u8) -> Container {
        Container::of(target::for_check(lesson))
    }

    /// A given binary, with `--quiet`.
    pub fn of(target: Binary) -> Container {
        Container {
            target,
            flags: vec!["--quiet".into()],
            run_as: None,
        }
    }

    /// Run as `nobody`, without a single capability, as a normal user
    /// would (lesson 05).
    pub fn by_nobody(self) -> Container {
        self.by_user(NOBODY)
    }

    /// Run as `user`, through `setpriv`, on a copy of the binary in a
    /// directory anyone may read. Its state directory is then
    /// `/tmp/nslab-UID` (see `host::state_root`).
    pub fn by_user(mut self, user: User) -> Container {
        self.run_as = Some(RunAs {
            user,
            copy: Arc::new(readable_copy(&self.target.name())),
        });
        self
    }

    /// The reference binary `solution-NN`, whatever the checker asks for:
    /// for checks of the runtime as a whole (the reliability suite), which
    /// no lesson grades.
    pub fn solution(level: u8) -> Container {
        Container::of(Binary::new(Flavour::Solution, level))
    }

    /// Keep the parent/container transcript on stderr.
    pub fn narrated(mut self) -> Container {
        self.flags.retain(|flag| flag != "--quiet");
        self
    }

    /// For a check of an earlier lesson whose probe needs what lesson 10
    /// takes away on purpose (mounting inside, every capability, reading
    /// `/proc/1/root` of an init that holds more capabilities): from
    /// lesson 10 on, ask for it back with `--cap-add ALL --seccomp
    /// unconfined`; before, nothing changes.
    pub fn unhardened(self) -> Container {
        let hardened = LESSONS
            .iter()
            .find(|lesson| lesson.slug == "harden")
            .is_some_and(|harden| self.target.level >= harden.number);
        if hardened {
            self.flag("--cap-add")
                .flag("ALL")
                .flag("--seccomp")
                .flag("unconfined")
        } else {
            self
        }
    }

    pub fn flag(mut self, flag: impl Into<String>) -> Container {
        self.flags.push(flag.into());
        self
    }

    /// Whether the runtime is given `flag` (as a word of its own).
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|given| given == flag)
    }

    pub fn target(&self) -> &Binary {
        &self.target
    }

    /// Run `command` in the container to the end.
    pub fn run(&self, command: &[&str]) -> Outcome {
        let output = assert_cmd::Command::from_std(self.command(command))
            .timeout(TIMEOUT)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "could not start {}: {e}",
                    target::path(&self.target).display()
                )
            });
        Outcome::from_output(self.invocation(command), &output)
    }

    /// Start `command`, which prints a line `ready` once it is set up; then
    /// send `signal` to the runtime and return how the run ended, killing
    /// it if it has not ended after `timeout`.
    pub fn signal_when_ready(
        &self,
        command: &[&str],
        signal: nix::sys::signal::Signal,
        timeout: Duration,
    ) -> Outcome {
        let mut running = self.start_until_ready(command);
        running.signal_runtime(signal);
        running.finish_within(timeout)
    }

    /// Start `command`, and return once it has printed the line `ready`.
    pub fn start_until_ready(&self, command: &[&str]) -> Running {
        let mut running = self.start(command);
        running.lines_until("ready");
        running
    }

    /// Start `command` in the container and return while it runs.
    pub fn start(&self, command: &[&str]) -> Running {
        self.start_process(self.command(command), self.invocation(command))
    }

    /// Start one of the binary's tools (`exec NAME -- CMD`) and return
    /// while it runs.
    pub fn start_tool(&self, args: &[&str]) -> Running {
        let arguments: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
        self.start_process(
            self.process(arguments.clone()),
            self.invocation_of(arguments),
        )
    }

    fn start_process(&self, mut process: Command, invocation: String) -> Running {
        let mut child = process
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "could not start {}: {e}",
                    target::path(&self.target).display()
                )
            });
        let lines = read_lines(child.stdout.take().expect("piped stdout"));
        let mut stderr = child.stderr.take().expect("piped stderr");
        let stderr = thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        Running {
            invocation,
            state_root: self.state_root(),
            _copy: self.run_as.as_ref().map(|run_as| Arc::clone(&run_as.copy)),
            child,
            lines,
            stdout_so_far: String::new(),
            stderr: Some(stderr),
        }
    }

    /// The command line that runs `command` in this container, with the
    /// binary's full path, quoted for `sh -c`.
    pub fn shell_command(&self, command: &[&str]) -> String {
        let (program, arguments) = self.program_and_arguments(command);
        std::iter::once(program)
            .chain(arguments)
            .map(shell_quote)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The runtime's state directory on the host, for its user.
    pub fn state_root(&self) -> PathBuf {
        state_root(self.run_as.as_ref().map_or(0, |run_as| run_as.user.uid))
    }

    /// The runtime's command line that runs `command`, to start as the
    /// caller sees fit (with an environment of its own, say).
    pub fn command(&self, command: &[&str]) -> Command {
        self.process(self.runtime_arguments(command))
    }

    /// Run one of the binary's tools (lesson 07: `ps`, `ns NAME`,
    /// `exec NAME -- CMD`) to the end, as this container's user.
    pub fn tool(&self, args: &[&str]) -> Outcome {
        let arguments: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
        let output = assert_cmd::Command::from_std(self.process(arguments.clone()))
            .timeout(TIMEOUT)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "could not start {}: {e}",
                    target::path(&self.target).display()
                )
            });
        Outcome::from_output(self.invocation_of(arguments), &output)
    }

    /// The binary, as this container's user, with `arguments`.
    fn process(&self, arguments: Vec<String>) -> Command {
        let (program, arguments) = self.program_with(arguments);
        let mut process = Command::new(program);
        process.args(arguments);
        if self.run_as.is_some() {
            // So that the runtime's state directory is `state_root`'s.
            process.env_remove("XDG_RUNTIME_DIR").env("TMPDIR", "/tmp");
        }
        process
    }

    /// The program to start, and its arguments.
    fn program_and_arguments(&self, command: &[&str]) -> (String, Vec<String>) {
        self.program_with(self.runtime_arguments(command))
    }

    /// The program that runs the binary with `runtime_arguments`, as this
    /// container's user, and its arguments.
    fn program_with(&self, runtime_arguments: Vec<String>) -> (String, Vec<String>) {
        match &self.run_as {
            None => (
                target::path(&self.target).display().to_string(),
                runtime_arguments,
            ),
            Some(run_as) => {
                let copy = run_as.copy.path.join(self.target.name());
                let mut arguments = run_as.user.setpriv_arguments();
                arguments.push(copy.display().to_string());
                arguments.extend(runtime_arguments);
                ("setpriv".to_string(), arguments)
            }
        }
    }

    /// The runtime's flags, `--` and the command.
    fn runtime_arguments(&self, command: &[&str]) -> Vec<String> {
        let mut arguments = self.flags.clone();
        arguments.push("--".into());
        arguments.extend(command.iter().map(|s| s.to_string()));
        arguments
    }

    /// The command line as a learner would type it.
    pub fn invocation(&self, command: &[&str]) -> String {
        self.invocation_of(self.runtime_arguments(command))
    }

    /// The same, for the binary with `runtime_arguments`.
    fn invocation_of(&self, runtime_arguments: Vec<String>) -> String {
        let mut words = match &self.run_as {
            None => Vec::new(),
            Some(run_as) => {
                let mut setpriv = vec!["setpriv".to_string()];
                setpriv.extend(run_as.user.setpriv_arguments());
                setpriv
            }
        };
        words.push(self.target.name());
        words.extend(abbreviated(runtime_arguments));
        words
            .into_iter()
            .map(shell_quote)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl User {
    /// `setpriv`'s options that make a process this user.
    fn setpriv_arguments(&self) -> Vec<String> {
        let groups = if self.groups.is_empty() {
            "--clear-groups".to_string()
        } else {
            let list: Vec<String> = self.groups.iter().map(u32::to_string).collect();
            format!("--groups={}", list.join(","))
        };
        vec![
            format!("--reuid={}", self.uid),
            format!("--regid={}", self.gid),
            groups,
        ]
    }
}

/// A copy of the binary `name` in a directory anyone may read: the
/// checkout may be closed to others (under /root, 0700).
fn readable_copy(name: &str) -> TempDir {
    let dir = TempDir::new();
    super::copy_program(&target::path(&target::by_name(name)), &dir.path.join(name))
        .prepared("copy the binary for another user");
    std::fs::set_permissions(&dir.path, std::fs::Permissions::from_mode(0o755))
        .prepared("let others read the copy of the binary");
    dir
}

/// Run the binary `name` (e.g. `solution-01`) with exactly `args`, no
/// `--quiet` and no `--` added, to the end.
pub fn run_binary(name: &str, args: &[&str]) -> Outcome {
    let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    run_binary_with(name, &args)
}

/// `run_binary` with arguments that need not be UTF-8.
pub fn run_binary_with(name: &str, args: &[&OsStr]) -> Outcome {
    let output = assert_cmd::Command::new(target::path(&target::by_name(name)))
        .args(args)
        .timeout(TIMEOUT)
        .output()
        .expect("run the binary");
    let shown: Vec<_> = args.iter().map(|arg| arg.to_string_lossy()).collect();
    Outcome::from_output(format!("{name} {}", shown.join(" ")), &output)
}

/// A shell script that prints `ready`, then waits until `signal` (e.g.
/// `TERM`) comes and exits with `status`: it has a handler for the signal.
pub fn trapping(signal: &str, status: u8) -> String {
    format!("trap 'exit {status}' {signal}; echo ready; while :; do sleep 0.05; done")
}

/// `arguments`, with a long run of the same `--flag=...` (lesson 05's
/// 341 `--uid-map`s) shortened to its first and last, so that a failure
/// message stays readable.
fn abbreviated(arguments: Vec<String>) -> Vec<String> {
    let flag = |word: &String| word.split_once('=').map(|(flag, _)| flag.to_string());
    let mut shown = Vec::new();
    let mut words = arguments.into_iter().peekable();
    while let Some(first) = words.next() {
        let mut run = vec![first];
        while let Some(next) =
            words.next_if(|next| flag(next).is_some() && flag(next) == flag(&run[0]))
        {
            run.push(next);
        }
        if run.len() > 4 {
            let hidden = run.len() - 2;
            let last = run.pop();
            shown.push(run.swap_remove(0));
            shown.push(format!("...and-{hidden}-more..."));
            shown.extend(last);
        } else {
            shown.extend(run);
        }
    }
    shown
}

pub fn shell_quote(word: String) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn read_lines(stdout: ChildStdout) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

/// How a container run ended, and what it printed.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub invocation: String,
    /// The exit status, if the runtime exited by itself.
    pub status: Option<i32>,
    /// The signal that killed the runtime, if one did.
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// How a finished program ended; `invocation` is its command line as
    /// a learner would type it.
    pub fn from_output(invocation: String, output: &std::process::Output) -> Outcome {
        Outcome {
            invocation,
            status: output.status.code(),
            signal: output.status.signal(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Run a program on the host (not in a container) to the end.
    pub fn of_host_command(program: &str, args: &[&str]) -> Outcome {
        Outcome::of_host_command_in(Path::new("."), program, args)
    }

    /// The same, started in the directory `dir`.
    pub fn of_host_command_in(dir: &Path, program: &str, args: &[&str]) -> Outcome {
        let output = assert_cmd::Command::new(program)
            .current_dir(dir)
            .args(args)
            .timeout(TIMEOUT)
            .output()
            .unwrap_or_else(|e| panic!("could not run {program} on the host: {e}"));
        let invocation = std::iter::once(program.to_string())
            .chain(args.iter().map(|arg| shell_quote(arg.to_string())))
            .collect::<Vec<_>>()
            .join(" ");
        Outcome::from_output(format!("(on the host) {invocation}"), &output)
    }

    pub fn expect_status(&self, expected: i32) -> &Outcome {
        if self.status != Some(expected) {
            self.fail(&format!("should exit with status {expected}"));
        }
        self
    }

    pub fn expect_success(&self) -> &Outcome {
        self.expect_status(0)
    }

    /// Exactly this on stdout.
    pub fn expect_stdout(&self, expected: &str) -> &Outcome {
        if self.stdout != expected {
            self.fail(&format!("should print {expected:?}"));
        }
        self
    }

    /// Exactly this on stderr.
    pub fn expect_stderr(&self, expected: &str) -> &Outcome {
        if self.stderr != expected {
            self.fail(&format!("should print {expected:?} on stderr"));
        }
        self
    }

    /// A command that failed, saying `error` on stderr (e.g. "Permission
    /// denied"); `expectation` says why it should.
    pub fn expect_failure_saying(&self, error: &str, expectation: &str) -> &Outcome {
        if self.status == Some(0) || !self.stderr.contains(error) {
            self.fail(expectation);
        }
        self
    }

    /// The runtime's refusal: exactly one line on stderr that mentions
    /// every word in `words`, and exit status `status`.
    pub fn expect_one_error_line(&self, status: i32, words: &[&str]) -> &Outcome {
        let lines: Vec<&str> = self.stderr.lines().collect();
        let missing: Vec<&&str> = words
            .iter()
            .filter(|word| !self.stderr.to_lowercase().contains(&word.to_lowercase()))
            .collect();
        if lines.len() != 1 || !missing.is_empty() || self.status != Some(status) {
            self.fail(&format!(
                "should exit with status {status} and print exactly one error line on stderr \
                 that mentions {words:?}"
            ));
        }
        self
    }

    /// Panic with everything a learner needs to see what went wrong.
    pub fn fail(&self, expectation: &str) -> ! {
        panic!("{}", self.explain(expectation));
    }

    pub fn explain(&self, expectation: &str) -> String {
        let mut message = format!("`{}` {expectation}", self.invocation);
        let status = match (self.status, self.signal) {
            (Some(code), _) => code.to_string(),
            // The check itself stops a runtime that ran out of time, or
            // that it has seen enough of to fail.
            (None, Some(9)) => "none: the check stopped the runtime with SIGKILL (it ran for too long, or had already failed)".to_string(),
            (None, Some(signal)) => format!("none: the runtime was killed by signal {signal}"),
            _ => "unknown".to_string(),
        };
        let _ = write!(message, "\n  exit status: {status}");
        let _ = write!(message, "\n  stdout: {:?}", self.stdout);
        let _ = write!(message, "\n  stderr: {:?}", self.stderr);
        message
    }
}

/// A container that is still running.
pub struct Running {
    invocation: String,
    /// Where the runtime keeps its state, to clean up if it is killed.
    state_root: PathBuf,
    /// The copy of the binary another user runs, kept while it runs.
    _copy: Option<Arc<TempDir>>,
    child: Child,
    lines: mpsc::Receiver<String>,
    stdout_so_far: String,
    stderr: Option<thread::JoinHandle<String>>,
}

impl Running {
    /// The next line the container prints, waiting for it. Fails the
    /// check if the container ends or goes quiet first.
    pub fn next_line(&mut self) -> String {
        match self.lines.recv_timeout(TIMEOUT) {
            Ok(line) => {
                self.stdout_so_far.push_str(&line);
                self.stdout_so_far.push('\n');
                line
            }
            Err(_) => self.fail("should have printed another line"),
        }
    }

    /// The next line must be `expected`.
    pub fn expect_line(&mut self, expected: &str) {
        let line = self.next_line();
        if line != expected {
            self.fail(&format!(
                "should print {expected:?} as its next line, not {line:?}"
            ));
        }
    }

    /// Stop the container and fail the check, showing everything it printed.
    pub fn fail(&mut self, expectation: &str) -> ! {
        self.kill_all();
        let outcome = self.collect();
        outcome.fail(expectation)
    }

    /// The lines the container prints, up to and without the line `last`.
    pub fn lines_until(&mut self, last: &str) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = self.next_line();
            if line == last {
                return lines;
            }
            lines.push(line);
        }
    }

    /// The runtime's PID on the host.
    pub fn runtime_pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// The container's PID on the host: the runtime's only child.
    pub fn container_pid(&mut self) -> i32 {
        let runtime = self.runtime_pid();
        match children_of(runtime).as_slice() {
            [pid] => *pid,
            [] => self.fail(&format!(
                "should be running a container, but the runtime (pid {runtime}) has no child process"
            )),
            more => self.fail(&format!(
                "should run one container process, but the runtime (pid {runtime}) has {} children: {more:?}",
                more.len()
            )),
        }
    }

    /// Send `signal` to the container's process, from the host.
    pub fn signal_container(&mut self, signal: Signal) {
        let pid = self.container_pid();
        self.send(signal, pid, "the container");
    }

    /// Send `signal` to the runtime.
    pub fn signal_runtime(&mut self, signal: Signal) {
        self.send(signal, self.runtime_pid(), "the runtime");
    }

    fn send(&mut self, signal: Signal, pid: i32, whom: &str) {
        if let Err(e) = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal) {
            self.fail(&format!(
                "should still be running when the check sends {signal} to {whom} (pid {pid}), \
                 but kill failed: {e}"
            ));
        }
    }

    /// Wait for the runtime to exit and return how it ended.
    pub fn finish(self) -> Outcome {
        self.finish_within(TIMEOUT)
    }

    /// The same, but kill the runtime if it has not exited after `timeout`
    /// (the outcome then says it was killed by signal 9).
    pub fn finish_within(mut self, timeout: Duration) -> Outcome {
        let deadline = std::time::Instant::now() + timeout;
        while self.child.try_wait().ok().flatten().is_none() {
            if std::time::Instant::now() > deadline {
                self.kill_all();
                break;
            }
            thread::sleep(Duration::from_millis(10));
        }
        self.collect()
    }

    /// Kill the runtime and every process below it. The runtime's death
    /// takes the container with it (PR_SET_PDEATHSIG), and a PID namespace
    /// takes every process inside with its PID 1; but a lesson that is not
    /// finished may have neither, and a process left behind would keep the
    /// container's stdout open.
    ///
    /// A runtime killed like this cannot clean up after itself, so we do
    /// what `just clean` would (its state directory; from lesson 06 its
    /// veth pair, and the bridge and NAT rule if it was the last to use
    /// them; from lesson 07 its name and its kept network namespace):
    /// after it has died, but before it is reaped, so that no host
    /// guard ever sees a dead runtime's directory that is not a real leak
    /// (see `host::state_dir`).
    fn kill_all(&mut self) {
        let _below = KillOnDrop(descendants_of(self.runtime_pid()));
        let _ = self.child.kill();
        let runtime = Pid::from_raw(self.runtime_pid());
        let _ = waitid(
            Id::Pid(runtime),
            WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT,
        );
        let _ = nslab_runtime::leftovers::clean_up_after(&self.state_root, runtime);
    }

    fn collect(&mut self) -> Outcome {
        let status = self.child.wait().expect("wait for the runtime");
        let rest: Vec<String> = self.lines.iter().collect();
        for line in rest {
            self.stdout_so_far.push_str(&line);
            self.stdout_so_far.push('\n');
        }
        let stderr = self
            .stderr
            .take()
            .and_then(|reader| reader.join().ok())
            .unwrap_or_default();
        Outcome {
            invocation: self.invocation.clone(),
            status: status.code(),
            signal: status.signal(),
            stdout: std::mem::take(&mut self.stdout_so_far),
            stderr,
        }
    }
}

impl Drop for Running {
    /// A check that fails half-way must not leave a container behind.
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            self.kill_all();
            let _ = self.child.wait();
        }
    }
}
