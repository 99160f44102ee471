//! The course is consistent with itself. These run unprivileged.

use std::path::Path;

use nslab_checker::book::{
    code_blocks, has_anchor, include, inline_code, link_targets, table_rows, without_code,
};
use nslab_checker::course::{Course, heading_id, headings, repo_root};
use nslab_checker::stub;

fn course() -> Course {
    Course::load(&repo_root()).expect("every lessons/NN-name/info.toml loads")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(repo_root().join(path))
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Every test of this binary, e.g. `lesson01::the_default_hostname_is_container`.
fn test_names() -> Vec<String> {
    let listed = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--list", "--include-ignored", "--format", "terse"])
        .output()
        .expect("list the checks");
    String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter_map(|line| line.strip_suffix(": test"))
        .map(str::to_string)
        .collect()
}

/// Every check has an entry in its lesson's info.toml, and every entry a check.
#[test]
fn every_check_has_a_hint_and_every_hint_a_check() {
    let tests: Vec<String> = test_names()
        .into_iter()
        .filter(|name| name.starts_with("lesson"))
        .collect();
    let mut hinted: Vec<String> = course()
        .lessons
        .iter()
        .flat_map(|lesson| {
            lesson
                .checks
                .iter()
                .map(move |check| format!("{}::{}", lesson.test_module(), check.name))
        })
        .collect();
    let mut tests = tests;
    tests.sort();
    hinted.sort();
    assert_eq!(
        tests, hinted,
        "tests/checks and the lessons' info.toml files disagree"
    );
}

/// A failed check sends the learner to a section; it must exist.
#[test]
fn every_hint_points_at_a_section_of_its_chapter() {
    for lesson in course().lessons {
        let chapter = headings(&read(&lesson.chapter()));
        for check in &lesson.checks {
            assert!(
                chapter.contains(&check.section),
                "{}::{} points at \"{}\", which is not a heading of {}",
                lesson.test_module(),
                check.name,
                check.section,
                lesson.chapter().display()
            );
        }
    }
}

/// Each lesson's stub is generated from its solution (`just stubs`; that
/// the committed stubs are fresh is checked by `just stubs --check` and the
/// checker's own tests). Here: the solution is complete, and each exercise
/// sends the learner to a section that exists.
#[test]
fn each_exercise_is_a_function_of_a_complete_solution_and_has_its_section() {
    for lesson in course().lessons {
        let solution = read(&lesson.solution());
        assert!(
            !stub::is_stub(&solution),
            "{} still has a todo!()",
            lesson.solution().display()
        );
        let chapter = headings(&read(&lesson.chapter()));
        for exercise in &lesson.exercises {
            assert!(
                chapter.contains(&exercise.section),
                "{}: {} points at \"{}\", which is not a heading of {}",
                lesson.info().display(),
                exercise.function,
                exercise.section,
                lesson.chapter().display()
            );
            stub::solution_function(&solution, exercise)
                .unwrap_or_else(|e| panic!("{}: {e}", lesson.solution().display()));
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rung {
    /// One of `just hint N`'s.
    Words,
    /// A check's, shown when it fails.
    Check,
}

/// The exact code comes only on the hints' last rungs, cut from the
/// solution ([`nslab_checker::hint`]): no worded hint, and no check's hint
/// (shown on the first failure of an untouched stub), may paste a line of a
/// solution's exercise body.
#[test]
fn no_written_hint_pastes_a_line_of_the_solution() {
    let mut problems = Vec::new();
    for lesson in course().lessons {
        let solution = read(&lesson.solution());
        let hints = lesson
            .hints
            .iter()
            .map(|hint| (Rung::Words, hint))
            .chain(lesson.checks.iter().map(|check| (Rung::Check, &check.hint)));
        let hints: Vec<(Rung, &String)> = hints.collect();
        for exercise in &lesson.exercises {
            let source = stub::solution_function(&solution, exercise).unwrap();
            // The body's statements: long enough to be code, not a name.
            let statements = source
                .lines()
                .skip(1)
                .map(|line| line.trim().trim_end_matches([';', ',', '?']))
                .filter(|line| line.len() >= 24 && !line.starts_with("//"));
            for statement in statements {
                for (rung, hint) in &hints {
                    // The worded hints' later rungs name the flags.
                    let is_call = statement.contains('(');
                    if hint.contains(statement) && (is_call || *rung == Rung::Check) {
                        problems.push(format!(
                            "{}: {rung:?} hint pastes `{statement}` from {}",
                            lesson.info().display(),
                            exercise.function
                        ));
                    }
                }
            }
        }
    }
    assert_no_problems(&problems, "hints that give the code away");
}

/// Every chapter of the book, by file name, with its text.
fn chapters() -> Vec<(String, String)> {
    let dir = repo_root().join("book/src");
    let mut chapters: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .map(|name| {
            let text = read(&Path::new("book/src").join(&name));
            (name, text)
        })
        .collect();
    chapters.sort();
    chapters
}

/// Fail once, listing every problem, so one run shows them all.
fn assert_no_problems(problems: &[String], what: &str) {
    assert!(problems.is_empty(), "{what}:\n  {}", problems.join("\n  "));
}

/// What the book may show only by `{{#include}}`ing a file of the project,
/// so that it never drifts from what is compiled and run: Rust, and the
/// formats of the project's own files (info.toml, cloud-init.yaml, ...).
/// Commands for the reader to type go in ```sh blocks, transcripts of real
/// runs and diagrams in ```text blocks; those are written out.
const INCLUDED_ONLY: &[&str] = &["rust", "toml", "yaml", "json", "c"];

#[test]
fn code_in_the_book_is_included_never_pasted() {
    let mut problems = Vec::new();
    for (chapter, text) in chapters() {
        for block in code_blocks(&text) {
            let place = format!("book/src/{chapter}:{}", block.line);
            if block.language.is_empty() {
                problems.push(format!(
                    "{place}: give the code block a language (```text for transcripts and \
                     diagrams, ```sh for commands to type, ```rust for included code)"
                ));
            } else if INCLUDED_ONLY.contains(&block.language.as_str()) {
                let pasted = block
                    .lines
                    .iter()
                    .filter(|line| !line.trim().is_empty())
                    .find(|line| include(line).is_none());
                if let Some(line) = pasted {
                    problems.push(format!(
                        "{place}: a ```{} block may only {{{{#include}}}} a file of the project, \
                         but has {:?}",
                        block.language,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert_no_problems(&problems, "code pasted into the book");
}

/// mdBook only warns about an include it cannot resolve, and shows the
/// directive as text; here it is an error.
#[test]
fn every_include_of_the_book_finds_its_file_and_anchor() {
    let mut problems = Vec::new();
    for (chapter, text) in chapters() {
        for (index, line) in text.lines().enumerate() {
            let Some(directive) = include(line) else {
                continue;
            };
            let place = format!("book/src/{chapter}:{}", index + 1);
            let file = repo_root().join("book/src").join(&directive.path);
            match (std::fs::read_to_string(&file), &directive.anchor) {
                (Err(e), _) => problems.push(format!("{place}: {}: {e}", directive.path)),
                (Ok(source), Some(anchor)) if !has_anchor(&source, anchor) => {
                    problems.push(format!(
                        "{place}: {} has no ANCHOR: {anchor} ... ANCHOR_END: {anchor}",
                        directive.path
                    ))
                }
                _ => {}
            }
        }
    }
    assert_no_problems(&problems, "includes that do not resolve");
}

/// Whether `target` (`01-uts.md#the-idea`, relative to book/src) leads to
/// a chapter of the book and, if it names one, a heading of it.
fn link_problem(target: &str) -> Option<String> {
    let (file, fragment) = match target.split_once('#') {
        Some((file, fragment)) => (file, Some(fragment)),
        None => (target, None),
    };
    let Ok(text) = std::fs::read_to_string(repo_root().join("book/src").join(file)) else {
        return Some(format!("{target}: there is no book/src/{file}"));
    };
    let fragment = fragment?;
    let found = headings(&text).iter().any(|h| heading_id(h) == fragment);
    (!found).then(|| format!("{target}: {file} has no heading with the id #{fragment}"))
}

/// mdbook-linkcheck2 checks that linked files exist; this checks that the
/// `#heading` of every link between chapters exists too.
#[test]
fn every_link_between_chapters_leads_to_a_heading() {
    let mut problems = Vec::new();
    for (chapter, text) in chapters() {
        for target in link_targets(&without_code(&text)) {
            let is_local = !target.contains("://") && !target.starts_with("mailto:");
            let target = if target.starts_with('#') {
                format!("{chapter}{target}")
            } else {
                target
            };
            if is_local && let Some(problem) = link_problem(&target) {
                problems.push(format!("book/src/{chapter}: {problem}"));
            }
        }
    }
    assert_no_problems(&problems, "links that lead nowhere");
}

/// The seeds appendix maps every fact and experiment of the source
/// articles to a section of the book and to a check. A row whose chapter
/// is still being written says `pending: `NN-name.md``; once that chapter
/// exists, the row must point at its section instead.
#[test]
fn every_seed_is_covered_or_honestly_pending() {
    let appendix = "seeds-coverage.md";
    let text = read(&Path::new("book/src").join(appendix));
    let tests = test_names();
    let mut problems = Vec::new();
    let mut ids = Vec::new();
    let rows = table_rows(&text);
    assert!(rows.len() >= 50, "book/src/{appendix} lost its table");
    for (line, cells) in rows {
        let place = format!("book/src/{appendix}:{line}");
        let [id, source, fact, covered, checked] = cells.as_slice() else {
            problems.push(format!("{place}: a row has five cells"));
            continue;
        };
        if [id, source, fact, covered, checked]
            .iter()
            .any(|cell| cell.is_empty())
        {
            problems.push(format!("{place}: a cell is empty"));
        }
        if ids.contains(id) {
            problems.push(format!("{place}: {id} is there twice"));
        }
        ids.push(id.clone());
        let links = link_targets(covered);
        let pending: Vec<String> = covered
            .split("pending:")
            .skip(1)
            .flat_map(|after| inline_code(after).into_iter().take(1))
            .collect();
        if links.is_empty() && pending.is_empty() {
            problems.push(format!(
                "{place}: {id} names no section and no pending chapter"
            ));
        }
        problems.extend(
            links
                .iter()
                .filter_map(|target| link_problem(target))
                .map(|p| format!("{place}: {p}")),
        );
        for chapter in &pending {
            if repo_root().join("book/src").join(chapter).exists() {
                problems.push(format!(
                    "{place}: {id} is pending for {chapter}, which exists now: link the \
                     section of {chapter} that covers it, and name its check"
                ));
            }
        }
        if checked == "pending" {
            if pending.is_empty() {
                problems.push(format!(
                    "{place}: {id}'s check is pending, but no chapter is"
                ));
            }
        } else if !checked.starts_with("not checked: ") {
            let names = inline_code(checked);
            if names.is_empty() {
                problems.push(format!(
                    "{place}: {id} should name its checks as `module::check`, or say \
                     \"not checked: why\", or \"pending\""
                ));
            }
            for name in names.iter().filter(|name| !tests.contains(name)) {
                problems.push(format!("{place}: {id} names {name}, which is not a check"));
            }
        }
    }
    assert_no_problems(&problems, "the seeds coverage table");
}
