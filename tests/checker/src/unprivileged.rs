//! Proof that plain `cargo test` needs no privilege: build every test
//! executable as root, then run each one as `nobody`.
//!
//! `nobody` must be able to reach the checkout. If a directory above it
//! (typically /root, mode 0700) stops it, we add the search bit (o+x) for
//! the run and put the old mode back afterwards, whatever happens.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The uid and gid of `nobody` on Debian and Ubuntu.
const NOBODY: &str = "65534";

/// Directories whose mode we changed, with the mode to restore.
struct Reachable {
    restore: Vec<(PathBuf, u32)>,
}

impl Reachable {
    fn for_nobody(root: &Path) -> Result<Reachable, String> {
        let mut restore = Vec::new();
        for dir in root.ancestors() {
            let mode = std::fs::metadata(dir)
                .map_err(|e| format!("stat {}: {e}", dir.display()))?
                .permissions()
                .mode();
            if mode & 0o001 == 0 {
                println!(
                    "  (letting nobody search {} for this run: chmod o+x)",
                    dir.display()
                );
                set_mode(dir, mode | 0o001)?;
                restore.push((dir.to_path_buf(), mode));
            }
        }
        Ok(Reachable { restore })
    }
}

impl Drop for Reachable {
    fn drop(&mut self) {
        for (dir, mode) in &self.restore {
            if let Err(e) = set_mode(dir, *mode) {
                eprintln!(
                    "nslab-check: could not restore the mode of {}: {e}",
                    dir.display()
                );
            }
        }
    }
}

fn set_mode(dir: &Path, mode: u32) -> Result<(), String> {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("chmod {}: {e}", dir.display()))
}

/// The test executables of the workspace, built by `cargo test --no-run`.
fn test_executables(root: &Path) -> Result<Vec<PathBuf>, String> {
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .args(["test", "--workspace", "--quiet", "--no-run"])
        .arg("--message-format=json-render-diagnostics")
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Err("the tests do not build".into());
    }
    let mut executables: Vec<PathBuf> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .filter(|message| message["profile"]["test"] == true)
        .filter_map(|message| message["executable"].as_str().map(PathBuf::from))
        .collect();
    executables.sort();
    executables.dedup();
    Ok(executables)
}

/// Run every test executable as `nobody`; true if all passed.
pub fn run(root: &Path) -> Result<bool, String> {
    let executables = test_executables(root)?;
    let _reachable = Reachable::for_nobody(root)?;
    let mut all_passed = true;
    for executable in &executables {
        let name = executable.file_name().unwrap_or_default().to_string_lossy();
        let output = Command::new("setpriv")
            .args([&format!("--reuid={NOBODY}"), &format!("--regid={NOBODY}")])
            .arg("--clear-groups")
            .arg(executable)
            .arg("--quiet")
            .current_dir(root)
            // Never try to write snapshots as nobody.
            .env("CI", "true")
            .env("INSTA_UPDATE", "no")
            // insta finds the snapshots from the workspace's root, which it
            // asks `cargo metadata` for; nobody cannot run root's cargo.
            .env("INSTA_WORKSPACE_ROOT", root)
            .output()
            .map_err(|e| format!("cannot run setpriv: {e}"))?;
        let passed = output.status.success();
        println!(
            "  {} {name}, as nobody",
            if passed { "ok    " } else { "FAILED" }
        );
        if !passed {
            print!("{}", String::from_utf8_lossy(&output.stdout));
            eprint!("{}", String::from_utf8_lossy(&output.stderr));
        }
        all_passed &= passed;
    }
    Ok(all_passed)
}
