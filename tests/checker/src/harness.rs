//! Building the checks and running them one at a time, so each gets its
//! own ✓ or ✗ and its own explanation.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The compiled `tests/checks` binary.
pub struct Checks {
    executable: PathBuf,
}

/// Which binary the checks run against, and up to which lesson.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// `"lesson"` or `"solution"`.
    pub flavour: &'static str,
    pub level: u8,
}

impl Target {
    pub fn binary(&self) -> String {
        format!("{}-{:02}", self.flavour, self.level)
    }
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
            .map(|executable| Checks { executable })
            .ok_or_else(|| "cargo built no `checks` test binary".to_string())
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

    /// Run one check against `target`.
    pub fn run(&self, test: &str, target: Target) -> Outcome {
        let output = Command::new(&self.executable)
            .args([test, "--exact", "--include-ignored", "--nocapture"])
            .args(["--test-threads", "1"])
            .env("NSLAB_FLAVOUR", target.flavour)
            .env("NSLAB_LEVEL", target.level.to_string())
            // Never write `.snap.new` files into the learner's tree.
            .env("INSTA_UPDATE", "no")
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
            explain_failure(&String::from_utf8_lossy(&output.stderr))
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
/// panicked, how to get a backtrace).
pub fn explain_failure(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|line| !(line.starts_with("thread '") && line.contains("panicked at")))
        .filter(|line| !line.starts_with("note: run with `RUST_BACKTRACE"))
        .collect();
    let text = lines.join("\n").trim().to_string();
    if text.is_empty() {
        "the check failed without saying why".to_string()
    } else {
        text
    }
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
            explain_failure(stderr),
            "`lesson-01 -- hostname` should print \"box\\n\"\n  exit status: 101"
        );
    }
}
