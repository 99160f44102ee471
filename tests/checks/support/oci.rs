//! Lesson 11's helpers: the runtime on its OCI command line, podman
//! driving it (or runc, the reference), and bundles made on the spot.

use std::path::{Path, PathBuf};

use super::mounts::shared_rootfs;
use super::run::Outcome;
use super::target;
use super::{TempDir, random_hex};

/// The reference runtime podman runs ours against.
pub const RUNC: &str = "/usr/sbin/runc";

/// The lesson that brings the OCI commands.
pub const LESSON: u8 = 11;

/// The binary under test that speaks OCI: `lesson-11` with `just lesson
/// 11`, the reference otherwise.
pub fn ours() -> PathBuf {
    target::path(&target::for_check(LESSON))
}

/// `ours plan --bundle DIR` for a bundle whose `config.json` is `config`:
/// what the lesson makes of it, one `what: value` line each, with the
/// bundle's directory shown as `<bundle>`.
pub fn plan_of(config: &str) -> Outcome {
    let bundle = Bundle::new(config);
    let mut outcome = bundle.oci(&["plan", "--bundle", "{bundle}"]);
    let dir = bundle.dir.path.to_string_lossy().into_owned();
    outcome.stdout = outcome.stdout.replace(&dir, "<bundle>");
    outcome
}

/// podman 4.3's own `config.json` for `podman run --network none --rootfs
/// rootfs sh -c 'exit 42'`, as recorded (the runtime's unit tests use it
/// too), with `edit` applied to its text.
pub fn podmans_config(edit: impl Fn(&str) -> String) -> String {
    edit(include_str!(
        "../../../runtime/src/oci/testdata/podman-config.json"
    ))
}

/// `podman --runtime RUNTIME run --rm` with no network, this host's
/// limits (podman's default `nofile` is above what root may set here
/// without `CAP_SYS_RESOURCE`), then `extra` flags, the shared busybox
/// rootfs and `command`. Flags must come before `--rootfs`: everything
/// after its path is the command, `--` included.
pub fn podman_run(runtime: &Path, extra: &[&str], command: &[&str]) -> Outcome {
    let limits = host_limits();
    let rootfs = shared_rootfs();
    let runtime = runtime.to_string_lossy();
    let mut args = vec!["--runtime", &runtime, "run", "--network", "none"];
    for limit in &limits {
        args.extend(["--ulimit", limit.as_str()]);
    }
    args.extend(extra);
    args.extend(["--rootfs", rootfs.to_str().expect("a UTF-8 rootfs path")]);
    args.extend(command);
    in_scratch("podman", &args)
}

/// `program ARGS` started in a directory of its own, removed after: conmon
/// writes a file `oom` into its working directory when the container is
/// killed by the OOM killer (lesson 08's limit through podman).
fn in_scratch(program: &str, args: &[&str]) -> Outcome {
    let scratch = TempDir::new();
    Outcome::of_host_command_in(&scratch.path, program, args)
}

/// A detached podman container, named before it exists, so that it is
/// removed (`podman rm -f`) even when a check fails halfway.
pub struct Detached {
    pub name: String,
    runtime: PathBuf,
}

impl Detached {
    /// `podman run -d --name NAME` with [`podman_run`]'s flags.
    pub fn start(runtime: &Path, command: &[&str]) -> (Detached, Outcome) {
        let detached = Detached::named(runtime);
        let started = podman_run(runtime, &["-d", "--name", &detached.name], command);
        (detached, started)
    }

    /// A fresh name for a container podman will run with `runtime`; the
    /// container of that name is removed when this is dropped.
    pub fn named(runtime: &Path) -> Detached {
        Detached {
            name: format!("nslab-check-{}", random_hex(4)),
            runtime: runtime.to_path_buf(),
        }
    }
}

impl Drop for Detached {
    fn drop(&mut self) {
        let _ = podman(&self.runtime, &["rm", "-f", "--ignore", &self.name]);
    }
}

/// `podman --runtime RUNTIME ARGS...`.
pub fn podman(runtime: &Path, args: &[&str]) -> Outcome {
    let runtime = runtime.to_string_lossy();
    let mut all = vec!["--runtime", &runtime];
    all.extend(args);
    in_scratch("podman", &all)
}

/// `--ulimit nofile=H:H` and `nproc=H:H` at this process's hard limits.
fn host_limits() -> Vec<String> {
    [
        ("nofile", libc::RLIMIT_NOFILE),
        ("nproc", libc::RLIMIT_NPROC),
    ]
    .into_iter()
    .map(|(name, resource)| {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit fills one plain struct we own.
        unsafe { libc::getrlimit(resource, &mut limit) };
        // Not above 20000: podman itself may run with lower limits
        // than this process (nproc), and the runtime inherits those.
        let hard = limit.rlim_max.min(20_000);
        format!("{name}={hard}:{hard}")
    })
    .collect()
}

/// A bundle in a temporary directory, and a state root of its own.
pub struct Bundle {
    pub dir: TempDir,
    pub id: String,
}

impl Bundle {
    /// A bundle whose `config.json` is `config` (see [`config_json`]).
    pub fn new(config: &str) -> Bundle {
        let dir = TempDir::new();
        std::fs::write(dir.path.join("config.json"), config).expect("write config.json");
        Bundle {
            dir,
            id: format!("nslab-{}", random_hex(4)),
        }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path.join("state")
    }

    /// `ours --root ROOT ARGS...`, with `{id}` and `{bundle}` replaced.
    /// Its stdout and stderr are files, not pipes: after `create` the
    /// container holds them open (as it holds conmon's), and a reader of
    /// a pipe would wait for the container's end.
    pub fn oci(&self, args: &[&str]) -> Outcome {
        let root = self.root();
        let bundle = self.dir.path.to_string_lossy().into_owned();
        let args: Vec<String> = args
            .iter()
            .map(|a| a.replace("{id}", &self.id).replace("{bundle}", &bundle))
            .collect();
        let (out, err) = (self.dir.path.join("stdout"), self.dir.path.join("stderr"));
        let file = |path: &Path| std::fs::File::create(path).expect("create an output file");
        let status = std::process::Command::new(ours())
            .arg("--root")
            .arg(&root)
            .args(&args)
            .stdin(std::process::Stdio::null())
            .stdout(file(&out))
            .stderr(file(&err))
            .status()
            .expect("run the runtime");
        let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
        Outcome {
            invocation: format!(
                "{} --root {} {}",
                ours().display(),
                root.display(),
                args.join(" ")
            ),
            status: status.code(),
            signal: std::os::unix::process::ExitStatusExt::signal(&status),
            stdout: read(&out),
            stderr: read(&err),
        }
    }

    /// Whatever is left under the state root: nothing, after a refusal or
    /// a delete.
    pub fn leftovers(&self) -> Vec<String> {
        std::fs::read_dir(self.root())
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    }
}

/// A minimal `config.json` for the shared rootfs running `args` (a JSON
/// array's inside), with `process_extra` and `linux_extra` added to those
/// objects and `top_extra` at the top.
pub fn config_json(args: &str, version: &str, namespaces: &str, top_extra: &str) -> String {
    let rootfs = shared_rootfs();
    format!(
        r#"{{"ociVersion": "{version}",
  "root": {{"path": "{}"}},
  "hostname": "oci",
  "process": {{"args": [{args}], "cwd": "/", "user": {{"uid": 0, "gid": 0}},
               "env": ["PATH=/bin:/sbin:/usr/bin"]}},
  "linux": {{"namespaces": [{namespaces}]}}{top_extra}}}"#,
        rootfs.display()
    )
}

/// The namespaces podman asks for with `--network none`, all new here.
pub const NAMESPACES: &str =
    r#"{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}"#;
