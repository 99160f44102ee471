//! Building the checks and running them one at a time, so each gets its
//! own ✓ or ✗ and its own explanation.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nslab_runtime::Binary;

/// The environment variable that tells the checks which binary to run,
/// by name (`lesson-04`); unset, each lesson's checks run its solution.
pub const BINARY_VARIABLE: &str = "NSLAB_BINARY";

/// Where the checks look for that binary, when not beside themselves
/// (`just mutants` builds each mistake in a scratch copy of the course).
pub const BINARY_DIR_VARIABLE: &str = "NSLAB_BINARY_DIR";

/// The compiled `tests/checks` binary.
pub struct Checks {
    executable: PathBuf,
    /// The directory of the binaries the checks run, if not cargo's own.
    binary_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub passed: bool,
    /// Why it failed, as the check explained it.
    pub explanation: String,
    /// Why it did not run here (it needs what this host lacks, e.g. cgroup
    /// v2), if it said so: a check that passed this way proves nothing,
    /// and is shown as skipped, never as passed.
    pub skipped: Option<String>,
}

/// How a check says it cannot run on this host, on a line of its own on
/// stderr (see `tests/checks/support/cgroup.rs`).
pub const SKIP_PREFIX: &str = "nslab-skip: ";

impl Checks {
    /// `cargo test --no-run` for the checks. Compiler errors go straight to
    /// the terminal, rendered as cargo renders them.
    pub fn build(root: &Path) -> Result<Checks, String> {
        let output = Command::new(env_or("CARGO", "cargo"))
            .current_dir(root)
            .args(["test", "--quiet", "--no-run", "--test", "checks"])
            .arg("--message-format=json-render-diagnostics")
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !output.status.success() {
            return Err("the code does not compile yet; the compiler's messages are above".into());
        }
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|message| message["reason"] == "compiler-artifact")
            .filter(|message| message["target"]["name"] == "checks")
            .find_map(|message| message["executable"].as_str().map(PathBuf::from))
            .map(|executable| Checks {
                executable,
                binary_dir: None,
            })
            .ok_or_else(|| "cargo built no `checks` test binary".to_string())
    }

    /// The same checks, run on the binaries in `dir` instead.
    pub fn with_binaries_in(&self, dir: &Path) -> Checks {
        Checks {
            executable: self.executable.clone(),
            binary_dir: Some(dir.to_path_buf()),
        }
    }

    /// Every test name, e.g. `lesson01::the_default_hostname_is_container`.
    pub fn list(&self) -> Result<Vec<String>, String> {
        let output = Command::new(&self.executable)
            .args(["--list", "--include-ignored", "--format", "terse"])
            .output()
            .map_err(|e| format!("cannot list the checks: {e}"))?;
        Ok(String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| line.strip_suffix(": test"))
            .map(str::to_string)
            .collect())
    }

    /// Run one check against `binary`.
    pub fn run(&self, test: &str, binary: Binary) -> Outcome {
        let mut command = Command::new(&self.executable);
        if let Some(dir) = &self.binary_dir {
            command.env(BINARY_DIR_VARIABLE, dir);
        }
        let output = command
            .args([test, "--exact", "--include-ignored", "--nocapture"])
            .args(["--test-threads", "1"])
            .env(BINARY_VARIABLE, binary.name())
            // Never write `.snap.new` files into the learner's tree; print
            // a failed snapshot as a diff, without colours, for
            // `explain_failure` to read.
            .env("INSTA_UPDATE", "no")
            .env("INSTA_OUTPUT", "diff")
            .env("CLICOLOR", "0")
            .env_remove("CLICOLOR_FORCE")
            .env("RUST_BACKTRACE", "0")
            .output();
        let output = match output {
            Ok(output) => output,
            Err(e) => {
                return Outcome {
                    passed: false,
                    explanation: format!("cannot run the check: {e}"),
                    skipped: None,
                };
            }
        };
        let stdout = String::from_utf8_lossy(&output.stdout);
        let ran = stdout.contains("1 passed") || stdout.contains("1 failed");
        let passed = output.status.success() && stdout.contains("1 passed");
        let explanation = if !ran {
            format!("the check {test} did not run; is the name right?")
        } else if passed {
            String::new()
        } else {
            explain_failure(&stdout, &String::from_utf8_lossy(&output.stderr))
        };
        let skipped = String::from_utf8_lossy(&output.stderr)
            .lines()
            .find_map(|line| line.strip_prefix(SKIP_PREFIX))
            .filter(|_| passed)
            .map(str::to_string);
        Outcome {
            passed,
            explanation,
            skipped,
        }
    }
}

/// Keep what the check said; drop the test harness's own lines (where it
/// panicked, how to get a backtrace). A failed snapshot says only
/// "snapshot assertion for 'NAME' failed in line N" on stderr: its diff,
/// which insta prints on stdout, takes that line's place.
pub fn explain_failure(stdout: &str, stderr: &str) -> String {
    let lines: Vec<String> = stderr
        .lines()
        .filter(|line| !(line.starts_with("thread '") && line.contains("panicked at")))
        .filter(|line| !line.starts_with("note: run with `RUST_BACKTRACE"))
        .map(|line| match snapshot_name(line) {
            Some(name) => snapshot_diff(name, stdout).unwrap_or_else(|| line.to_string()),
            None => line.to_string(),
        })
        .collect();
    let text = lines.join("\n").trim().to_string();
    if text.is_empty() {
        "the check failed without saying why".to_string()
    } else {
        text
    }
}

/// The snapshot's name in insta's "snapshot assertion for 'NAME' failed
/// in line N".
fn snapshot_name(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("snapshot assertion for '")?;
    let (name, rest) = rest.split_once('\'')?;
    rest.starts_with(" failed in line").then_some(name)
}

/// The diff insta printed on stdout for a failed snapshot, between the
/// lines `────┬────` and `────┴────`, one `OLD NEW │±text` per line, as
/// `- expected` / `+ got` lines.
fn snapshot_diff(name: &str, stdout: &str) -> Option<String> {
    let block: Vec<&str> = stdout
        .lines()
        .skip_while(|line| !line.starts_with("────────────┬"))
        .skip(1)
        .take_while(|line| !line.starts_with("────────────┴"))
        .collect();
    if block.is_empty() {
        return None;
    }
    let mut text = format!(
        "the output differs from the expected {name:?} (- expected, + what the check got):"
    );
    for line in block {
        let shown = match line.split_once('│') {
            Some((_, change)) => change.trim_end(),
            // insta's `┈┈┈┈┼┈┈┈┈` between the parts of a long diff.
            None => "  ...",
        };
        text.push_str("\n  ");
        text.push_str(shown);
    }
    Some(text)
}

/// The checks create namespaces: without root they cannot pass, so say
/// so once instead of failing every check.
pub fn require_root() -> Result<(), String> {
    if nix::unistd::geteuid().is_root() {
        Ok(())
    } else {
        Err(
            "the checks create namespaces, which needs root: run this as root in your \
             course VM (`sudo -i`, then the same command)"
                .into(),
        )
    }
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_explanations_keep_only_what_the_check_said() {
        let stderr = "thread 'lesson01::x' (123) panicked at tests/checks/lesson01.rs:9:5:\n\
                      `lesson-01 -- hostname` should print \"box\\n\"\n  exit status: 101\n\
                      note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";
        assert_eq!(
            explain_failure("", stderr),
            "`lesson-01 -- hostname` should print \"box\\n\"\n  exit status: 101"
        );
    }
}
