//! The course manifest (`runtime/src/course.rs`) is the only list of
//! lessons: everything that repeats it because it cannot be derived
//! agrees with it, and a disagreement names exactly what to add or remove.
//! These run unprivileged.

use std::collections::BTreeSet;

use nslab_checker::course::{Course, repo_root};
use nslab_runtime::course::{LESSONS, Lesson};

use crate::support::target::{self, Binary, Flavour};

const MANIFEST: &str = "runtime/src/course.rs";

/// The names in `dir` (relative to the repository) that end in `suffix`,
/// without it.
fn names_in(dir: &str, suffix: &str) -> BTreeSet<String> {
    let path = repo_root().join(dir);
    std::fs::read_dir(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter_map(|name| name.strip_suffix(suffix).map(str::to_string))
        .collect()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path))
        .unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// What `found` has that `expected` lacks and the other way round, as
/// sentences.
fn differences(
    found: &BTreeSet<String>,
    expected: &BTreeSet<String>,
    missing: impl Fn(&str) -> String,
    extra: impl Fn(&str) -> String,
) -> Vec<String> {
    let mut problems: Vec<String> = expected.difference(found).map(|n| missing(n)).collect();
    problems.extend(found.difference(expected).map(|n| extra(n)));
    problems
}

fn assert_no_problems(problems: &[String]) {
    assert!(
        problems.is_empty(),
        "the course disagrees with its manifest, {MANIFEST}:\n  {}",
        problems.join("\n  ")
    );
}

/// `lessons/` and `solutions/` hold one crate per lesson of the manifest,
/// named after it; each lesson has its chapter, its checks and an
/// info.toml whose title is the manifest's.
#[test]
fn every_lesson_of_the_manifest_has_its_files_and_no_other_lesson_exists() {
    let mut problems = Vec::new();
    let dir_names: BTreeSet<String> = LESSONS.iter().map(Lesson::dir_name).collect();
    for kind in ["lessons", "solutions"] {
        let found: BTreeSet<String> = names_in(kind, "")
            .into_iter()
            .filter(|name| name.as_bytes().first().is_some_and(u8::is_ascii_digit))
            .collect();
        problems.extend(differences(
            &found,
            &dir_names,
            |name| format!("{kind}/{name} is missing"),
            |name| format!("{kind}/{name} is not a lesson of the manifest: add it there"),
        ));
    }
    match Course::load(&repo_root()) {
        Ok(course) => {
            for (lesson, loaded) in LESSONS.iter().zip(&course.lessons) {
                if loaded.title != lesson.title {
                    problems.push(format!(
                        "lessons/{}/info.toml has the title {:?}, the manifest {:?}",
                        lesson.dir_name(),
                        loaded.title,
                        lesson.title
                    ));
                }
            }
        }
        Err(problem) => problems.push(problem),
    }
    for lesson in LESSONS {
        let dir = lesson.dir_name();
        for kind in ["lesson", "solution"] {
            let package = format!("name = \"{kind}-{dir}\"");
            let cargo = format!("{kind}s/{dir}/Cargo.toml");
            let has_name = std::fs::read_to_string(repo_root().join(&cargo))
                .is_ok_and(|text| text.lines().any(|line| line.trim() == package));
            if !has_name {
                problems.push(format!("{cargo} should say {package}"));
            }
        }
        let chapter = format!("book/src/{dir}.md");
        if !repo_root().join(&chapter).exists() {
            problems.push(format!("{chapter} is missing"));
        }
        if !read("book/src/SUMMARY.md").contains(&format!("]({dir}.md)")) {
            problems.push(format!("book/src/SUMMARY.md does not link {dir}.md"));
        }
        let module = format!("lesson{:02}", lesson.number);
        if !repo_root()
            .join(format!("tests/checks/{module}.rs"))
            .exists()
        {
            problems.push(format!("tests/checks/{module}.rs (its checks) is missing"));
        }
        if !read("tests/checks/main.rs").contains(&format!("mod {module};")) {
            problems.push(format!("tests/checks/main.rs lacks `mod {module};`"));
        }
    }
    assert_no_problems(&problems);
}

/// Every binary of the course is a file in its flavour's `src/bin/`, all
/// alike, which cargo builds (autobins): one per flavour and lesson.
#[test]
fn src_bin_holds_exactly_the_binaries_of_the_manifest() {
    let model = "src/bin/solution-00.rs";
    let model_text = read(model);
    let mut problems = Vec::new();
    let dirs: BTreeSet<&str> = Flavour::ALL.iter().map(|f| f.bin_dir()).collect();
    for dir in dirs {
        let expected: BTreeSet<String> = Binary::all()
            .filter(|binary| binary.flavour.bin_dir() == dir)
            .map(|binary| binary.name())
            .collect();
        let found = names_in(dir, ".rs");
        problems.extend(differences(
            &found,
            &expected,
            |name| format!("{dir}/{name}.rs is missing: copy {model}"),
            |name| format!("{dir}/{name}.rs is not a binary of the manifest: remove it"),
        ));
        for name in found.intersection(&expected) {
            if read(&format!("{dir}/{name}.rs")) != model_text {
                problems.push(format!(
                    "{dir}/{name}.rs differs from {model}: every binary's file is the same, \
                     its name says which"
                ));
            }
        }
    }
    // Cargo builds the root package's binaries before these checks run.
    for binary in Binary::all().filter(|b| b.flavour.package() == env!("CARGO_PKG_NAME")) {
        let path = target::path(&binary);
        if !path.exists() {
            problems.push(format!("cargo did not build {}", path.display()));
        }
    }
    assert_no_problems(&problems);
}

/// The root package depends on each lesson's two crates and on no other.
#[test]
fn the_root_package_depends_on_every_lessons_two_crates() {
    let cargo = read("Cargo.toml");
    let lines: BTreeSet<String> = cargo
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("lesson-") || line.starts_with("solution-"))
        .map(str::to_string)
        .collect();
    let expected: BTreeSet<String> = LESSONS
        .iter()
        .flat_map(|lesson| {
            let dir = lesson.dir_name();
            ["lesson", "solution"]
                .map(|kind| format!("{kind}-{dir} = {{ path = \"{kind}s/{dir}\" }}"))
        })
        .collect();
    let problems = differences(
        &lines,
        &expected,
        |line| format!("Cargo.toml's [dependencies] lacks `{line}`"),
        |line| format!("Cargo.toml's `{line}` is not a lesson of the manifest"),
    );
    assert_no_problems(&problems);
}
