//! `just mutants-explore N` (maintainers): mistakes nobody thought of.
//! cargo-mutants generates its mutants of lesson N's solution (`cargo
//! mutants --list --json`); those inside the functions the learner writes
//! (info.toml's `[[exercises]]`) are made one at a time in the scratch copy
//! of [`crate::mutants`], and every check of the lesson runs against each,
//! in order, until one fails. What no check catches is listed at the end:
//! a candidate for the catalogue, and for a new check if it is a plausible
//! mistake. cargo-mutants' own test runs are not used: they would build
//! every binary per mutant, and its tests cannot start containers.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use serde::Deserialize;

use crate::course::{Course, Lesson};
use crate::harness::{Checks, require_root};
use crate::mutants::{Scratch, kept_namespaces, tidy_host};

/// What we read of one mutant in cargo-mutants' JSON list.
#[derive(Debug, Deserialize)]
struct Mutant {
    name: String,
    diff: String,
    function: Option<Function>,
}

#[derive(Debug, Deserialize)]
struct Function {
    function_name: String,
}

/// `just mutants-explore N`.
pub fn run(root: &Path, number: u8) -> Result<bool, String> {
    let course = Course::load(root)?;
    require_root()?;
    let lesson = course.lesson(number)?;
    let solution_path = lesson.solution();
    let solution = std::fs::read_to_string(root.join(&solution_path))
        .map_err(|e| format!("cannot read {}: {e}", solution_path.display()))?;
    let mutants: Vec<Mutant> = list_mutants(root, lesson)?
        .into_iter()
        .filter(|mutant| in_an_exercise(lesson, mutant))
        .collect();
    let started = Instant::now();
    let scratch = Scratch::new(root);
    scratch.copy_course(&course)?;
    let checks = Checks::build(root)?.with_binaries_in(&scratch.binaries());
    println!(
        "Lesson {:02}: {} mutants of cargo-mutants inside the exercises",
        lesson.number,
        mutants.len()
    );
    let mut missed = Vec::new();
    for mutant in &mutants {
        let Some(mutated) = apply_diff(&solution, &mutant.diff) else {
            println!("  ? {} (its diff does not apply)", mutant.name);
            continue;
        };
        let kept_before = kept_namespaces();
        let binary = match scratch.build(lesson, &mutated)? {
            Ok(binary) => binary,
            Err(_) => {
                println!("  - {} (does not compile)", mutant.name);
                continue;
            }
        };
        let caught = lesson
            .checks
            .iter()
            .find(|check| !checks.run(&lesson.test_name(&check.name), binary).passed);
        tidy_host(&kept_before, &scratch);
        match caught {
            Some(check) => println!("  ✓ {}: caught by {}", mutant.name, check.name),
            None => {
                println!("  ✗ {}: MISSED", mutant.name);
                missed.push(mutant.name.clone());
            }
        }
    }
    scratch.restore(lesson, &solution)?;
    println!(
        "\n{} mutants in {} s; no check catches {}:",
        mutants.len(),
        started.elapsed().as_secs(),
        missed.len()
    );
    missed.iter().for_each(|name| println!("  {name}"));
    Ok(true)
}

fn list_mutants(root: &Path, lesson: &Lesson) -> Result<Vec<Mutant>, String> {
    let package = format!("solution-{}", lesson.slug());
    let output = Command::new("cargo")
        .current_dir(root)
        .args([
            "mutants",
            "--list",
            "--json",
            "--package",
            &package,
            "--file",
        ])
        .arg(lesson.solution())
        .output()
        .map_err(|e| format!("cannot run cargo mutants: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo mutants --list failed (is cargo-mutants installed? `just mutants-explore` \
             installs it): {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("cannot read cargo mutants' list: {e}"))
}

/// Whether the mutant changes a function the learner writes: cargo-mutants
/// names a method `<impl Namespace for MountNamespace>::validate`,
/// info.toml `MountNamespace::validate`.
fn in_an_exercise(lesson: &Lesson, mutant: &Mutant) -> bool {
    let Some(function) = &mutant.function else {
        return false;
    };
    let name = match function.function_name.rsplit_once(">::") {
        Some((owner, method)) => {
            let owner = owner.rsplit(' ').next().unwrap_or(owner);
            format!("{owner}::{method}")
        }
        None => function.function_name.clone(),
    };
    lesson
        .exercises
        .iter()
        .any(|exercise| exercise.function == name)
}

/// The solution with the one hunk of a unified diff applied: the hunk's
/// old side (context and `-` lines) must occur exactly once.
fn apply_diff(text: &str, diff: &str) -> Option<String> {
    let hunk = diff
        .lines()
        .skip_while(|line| !line.starts_with("@@"))
        .skip(1);
    let (mut old, mut new) = (String::new(), String::new());
    for line in hunk {
        let (mark, rest) = line.split_at(line.len().min(1));
        match mark {
            " " | "" => {
                old.push_str(rest);
                old.push('\n');
                new.push_str(rest);
                new.push('\n');
            }
            "-" => {
                old.push_str(rest);
                old.push('\n');
            }
            "+" => {
                new.push_str(rest);
                new.push('\n');
            }
            _ => {}
        }
    }
    (text.matches(&old).count() == 1).then(|| text.replacen(&old, &new, 1))
}

#[cfg(test)]
mod tests {
    use super::apply_diff;

    #[test]
    fn a_hunk_applies_where_its_old_side_is() {
        let diff = "--- a\n+++ b\n@@ -1,3 +1,3 @@\n one\n-two\n+2\n three\n";
        assert_eq!(
            apply_diff("zero\none\ntwo\nthree\n", diff).as_deref(),
            Some("zero\none\n2\nthree\n")
        );
        assert_eq!(apply_diff("one\nthree\n", diff), None);
    }
}
