//! `just mutants [N]`: the lesson's mistake catalogue
//! (`lessons/NN-name/mistakes.toml`) made one mistake at a time, to prove
//! that a check catches each and that what the learner then reads names
//! the fix.
//!
//! Each mistake is a textual patch of the lesson's solution. It is never
//! applied to the learner's tree: a scratch copy of the course
//! (`target/mutants/tree`, every exercise file its solution) gets the
//! mutated solution as lesson N's exercise, cargo builds `lesson-NN` alone
//! into `target/mutants/build` (incrementally: only the lesson's crate and
//! the link change between mistakes), and the checks, built once in the
//! real tree as `just lesson N` builds them, run only the checks the entry
//! names against that binary (`NSLAB_BINARY_DIR`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use nslab_runtime::{Binary, Flavour};
use serde::Deserialize;

use crate::course::{Course, Lesson};
use crate::harness::{Checks, Outcome, require_root};
use crate::report::Style;

/// A lesson has at least this many mistakes catalogued, and at most
/// [`MOST`]: fewer leaves its pitfalls untested, more costs CI time.
pub const FEWEST: usize = 8;
pub const MOST: usize = 15;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Catalogue {
    mistakes: Vec<Mistake>,
}

/// One plausible learner mistake, as a patch of the solution.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mistake {
    /// snake_case, unique in the lesson.
    pub name: String,
    /// The mistake and what it breaks, in one line.
    pub says: String,
    /// Exact text of the solution, replaced by `replace`.
    pub find: String,
    /// What the learner wrote instead (may be empty).
    pub replace: String,
    /// Which occurrence of `find` (1-based) when it occurs more than once;
    /// then it must occur at least that often, else exactly once.
    pub occurrence: Option<usize>,
    /// The checks (names in `tests/checks/lessonNN.rs`) expected to catch it.
    pub caught_by: Vec<String>,
    /// Words the failing check's output (its message or its hint) must
    /// contain, case-insensitively: the fix, named.
    pub fix_words: Vec<String>,
    /// More edits of the same mistake, applied in order after the first
    /// (a call moved is one removed and one added).
    #[serde(default)]
    pub also: Vec<Edit>,
    /// A host feature without which no check can catch it (free text, e.g.
    /// "cgroup v2"): not caught there is a warning, not a failure.
    pub needs: Option<String>,
}

/// One more edit of a mistake, with the same rules as its own.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edit {
    pub find: String,
    pub replace: String,
    pub occurrence: Option<usize>,
}

/// `lessons/NN-name/mistakes.toml`.
pub fn catalogue_path(lesson: &Lesson) -> PathBuf {
    lesson.dir().join("mistakes.toml")
}

/// The lesson's catalogue.
pub fn load(root: &Path, lesson: &Lesson) -> Result<Vec<Mistake>, String> {
    let path = root.join(catalogue_path(lesson));
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let catalogue: Catalogue =
        toml::from_str(&text).map_err(|e| format!("{} is malformed: {e}", path.display()))?;
    Ok(catalogue.mistakes)
}

/// The solution with `mistake` made, or why one of its `find`s does not
/// fit the solution any more (a stale catalogue must fail loudly).
pub fn apply(solution: &str, mistake: &Mistake) -> Result<String, String> {
    let first = Edit {
        find: mistake.find.clone(),
        replace: mistake.replace.clone(),
        occurrence: mistake.occurrence,
    };
    std::iter::once(&first)
        .chain(&mistake.also)
        .try_fold(solution.to_string(), |text, edit| {
            edit_once(&text, edit).map_err(|why| format!("{}: {why}", mistake.name))
        })
}

/// `text` with the occurrence of `edit.find` it names replaced: exactly
/// one occurrence without `occurrence`; with it, more than one and at
/// least that many.
fn edit_once(text: &str, edit: &Edit) -> Result<String, String> {
    let count = text.matches(&edit.find).count();
    let fits = match edit.occurrence {
        None => count == 1,
        Some(n) => n >= 1 && count >= n.max(2),
    };
    if !fits {
        let expected = match edit.occurrence {
            None => "exactly once".to_string(),
            Some(n) => format!("more than once and at least {n} times (occurrence = {n})"),
        };
        return Err(format!(
            "its `find` {:?} occurs {count} time(s) in the solution, not {expected}",
            edit.find
        ));
    }
    let (start, _) = text
        .match_indices(&edit.find)
        .nth(edit.occurrence.unwrap_or(1) - 1)
        .expect("counted above");
    Ok(format!(
        "{}{}{}",
        &text[..start],
        edit.replace,
        &text[start + edit.find.len()..]
    ))
}

/// What is wrong with a catalogue without running anything: its size,
/// names, checks, and every `find` against the solution.
pub fn problems(lesson: &Lesson, mistakes: &[Mistake], solution: &str) -> Vec<String> {
    let mut found = Vec::new();
    let file = catalogue_path(lesson);
    let file = file.display();
    if !(FEWEST..=MOST).contains(&mistakes.len()) {
        found.push(format!(
            "{file} has {} mistakes; a lesson catalogues {FEWEST} to {MOST}",
            mistakes.len()
        ));
    }
    for (i, mistake) in mistakes.iter().enumerate() {
        if mistakes[..i].iter().any(|m| m.name == mistake.name) {
            found.push(format!("{file}: {} is named twice", mistake.name));
        }
        if mistake.caught_by.is_empty() || mistake.fix_words.is_empty() {
            found.push(format!(
                "{file}: {} needs a `caught_by` check and `fix_words`",
                mistake.name
            ));
        }
        for check in &mistake.caught_by {
            if lesson.check(check).is_none() {
                found.push(format!(
                    "{file}: {} is caught_by {check}, which is not a check of {}",
                    mistake.name,
                    lesson.info().display()
                ));
            }
        }
        if let Err(stale) = apply(solution, mistake) {
            found.push(format!("{file}: {stale}"));
        }
    }
    found
}

/// What became of one mistake.
#[derive(Debug)]
enum Verdict {
    /// Caught by `check`, whose output names the fix (or not: the words missing).
    Caught {
        check: String,
        missing_words: Vec<String>,
        /// What the check said, shown when it does not name the fix.
        output: String,
    },
    NotCaught,
    DoesNotCompile(String),
}

/// `just mutants [N...]`: every mistake of the lessons given (all without
/// any), one table per lesson; false if any mistake got through.
pub fn run(root: &Path, numbers: &[u8]) -> Result<bool, String> {
    let course = Course::load(root)?;
    require_root()?;
    let numbers: Vec<u8> = if numbers.is_empty() {
        course.lessons.iter().map(|l| l.number).collect()
    } else {
        numbers.to_vec()
    };
    let style = Style::detect();
    let started = Instant::now();
    let scratch = Scratch::new(root);
    scratch.copy_course(&course)?;
    let checks = Checks::build(root)?.with_binaries_in(&scratch.binaries());
    let mut failures = Vec::new();
    let mut total = 0;
    for number in numbers {
        let lesson = course.lesson(number)?;
        let mistakes = load(root, lesson)?;
        let solution = std::fs::read_to_string(root.join(lesson.solution()))
            .map_err(|e| format!("cannot read {}: {e}", lesson.solution().display()))?;
        let stale = problems(lesson, &mistakes, &solution);
        if !stale.is_empty() {
            failures.extend(stale);
            continue;
        }
        println!(
            "{}",
            style.bold(&format!(
                "Lesson {:02} ({}): {} mistakes",
                lesson.number,
                lesson.name,
                mistakes.len()
            ))
        );
        let width = mistakes.iter().map(|m| m.name.len()).max().unwrap_or(0);
        for mistake in &mistakes {
            total += 1;
            let kept_before = kept_namespaces();
            let mutated = apply(&solution, mistake)?;
            let verdict = match scratch.build(lesson, &mutated)? {
                Err(compiler) => Verdict::DoesNotCompile(compiler),
                Ok(binary) => judge(&checks, lesson, mistake, binary),
            };
            let (line, ok) = row(&style, mistake, &verdict, width);
            println!("{line}");
            for tidied in tidy_host(&kept_before, &scratch) {
                println!("      (then, as `just clean` would: {tidied})");
            }
            if !ok {
                failures.push(format!("{:02} {}: {}", lesson.number, mistake.name, {
                    match &verdict {
                        Verdict::Caught { missing_words, .. } => {
                            format!("the output does not name {}", missing_words.join(", "))
                        }
                        Verdict::NotCaught => format!("no check of {:?} fails", mistake.caught_by),
                        Verdict::DoesNotCompile(why) => format!("does not compile: {why}"),
                    }
                }));
            }
        }
        scratch.restore(lesson, &solution)?;
    }
    println!(
        "\n{total} mistakes made and checked in {} s.",
        started.elapsed().as_secs()
    );
    if failures.is_empty() {
        println!("Every catalogued mistake is caught by a check whose output names the fix.");
        Ok(true)
    } else {
        println!("{} problem(s):", failures.len());
        failures.iter().for_each(|f| println!("  - {f}"));
        Ok(false)
    }
}

/// Run the entry's checks, in order, until one fails.
fn judge(checks: &Checks, lesson: &Lesson, mistake: &Mistake, binary: Binary) -> Verdict {
    let mut first_caught = None;
    for name in &mistake.caught_by {
        let outcome = checks.run(&lesson.test_name(name), binary);
        if outcome.passed {
            continue;
        }
        let missing_words = missing_words(mistake, &outcome, lesson, name);
        let verdict = Verdict::Caught {
            check: name.clone(),
            missing_words,
            output: outcome.explanation,
        };
        if matches!(&verdict, Verdict::Caught { missing_words, .. } if missing_words.is_empty()) {
            return verdict;
        }
        first_caught.get_or_insert(verdict);
    }
    first_caught.unwrap_or(Verdict::NotCaught)
}

/// The fix words the learner would not read: neither in what the check
/// said nor in its hint.
fn missing_words(
    mistake: &Mistake,
    outcome: &Outcome,
    lesson: &Lesson,
    check: &str,
) -> Vec<String> {
    let hint = lesson.check(check).map_or("", |c| c.hint.as_str());
    let shown = format!("{}\n{hint}", outcome.explanation).to_lowercase();
    mistake
        .fix_words
        .iter()
        .filter(|word| !shown.contains(&word.to_lowercase()))
        .cloned()
        .collect()
}

/// One line of the table, and whether it is a success.
fn row(style: &Style, mistake: &Mistake, verdict: &Verdict, width: usize) -> (String, bool) {
    let (ok, text) = match verdict {
        Verdict::Caught {
            check,
            missing_words,
            ..
        } if missing_words.is_empty() => (
            true,
            format!("caught by {check}; names {}", mistake.fix_words.join(", ")),
        ),
        Verdict::Caught {
            check,
            missing_words,
            output,
        } => (
            false,
            format!(
                "caught by {check}, but its output does not name {}; it said:\n{}",
                missing_words.join(", "),
                output
                    .lines()
                    .take(12)
                    .map(|line| format!("      | {line}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
        ),
        Verdict::NotCaught => (false, "NOT CAUGHT".to_string()),
        Verdict::DoesNotCompile(_) => (false, "does not compile".to_string()),
    };
    let warned = !ok && mistake.needs.is_some();
    let mark = if ok {
        style.pass()
    } else if warned {
        "!".to_string()
    } else {
        style.fail()
    };
    let needs = match (&mistake.needs, warned) {
        (Some(needs), true) => format!(" (needs {needs}: not counted on this host)"),
        _ => String::new(),
    };
    (
        format!("  {mark} {:width$}  {text}{needs}", mistake.name),
        ok || warned,
    )
}

/// The names in `/run/netns`, for [`tidy_host`].
pub(crate) fn kept_namespaces() -> Vec<String> {
    std::fs::read_dir(nslab_runtime::netns::RUN_DIR)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().into_string().ok())
        .collect()
}

/// A mistake may leave behind what its runtime should have released (a
/// forgotten `cleanup` is one of them): remove it as `just clean` does,
/// the bridge once no running container holds a lease on it, and the
/// names in `/run/netns` that appeared since `kept_before` (the checks run
/// under the host lock, so they are the mistake's; their record went with
/// the container's state directory, so `just clean` cannot know them).
pub(crate) fn tidy_host(kept_before: &[String], scratch: &Scratch) -> Vec<String> {
    use nslab_runtime::{leftovers, netns, network, state};
    let root = state::root();
    let mut done =
        leftovers::clean(&root).unwrap_or_else(|e| vec![format!("just clean failed: {e}")]);
    for name in kept_namespaces() {
        if kept_before.contains(&name) {
            continue;
        }
        // The runtime's own release, given a record of the name as a
        // container's directory would hold it.
        let record = scratch.base.join("released");
        let released = std::fs::create_dir_all(&record)
            .map_err(|e| e.to_string())
            .and_then(|()| {
                state::write_record(&record, netns::RECORD, &name).map_err(|e| e.to_string())
            })
            .and_then(|()| netns::release(&record).map_err(|e| e.to_string()));
        done.push(match released {
            Ok(Some(sentence)) => sentence,
            Ok(None) => format!("found no record for {name}"),
            Err(e) => format!("could not release {name}: {e}"),
        });
    }
    let leased = std::fs::read_dir(root.join("containers"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| state::read_record(&entry.path(), network::LEASE).is_some())
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .any(state::runtime_is_alive);
    let bridge = Path::new("/sys/class/net").join(network::BRIDGE);
    if !leased && bridge.exists() {
        let deleted = Command::new("ip")
            .args(["link", "delete", network::BRIDGE, "type", "bridge"])
            .status()
            .is_ok_and(|status| status.success());
        done.push(if deleted {
            format!(
                "removed the bridge {}, which no container uses",
                network::BRIDGE
            )
        } else {
            format!("could not remove the bridge {}", network::BRIDGE)
        });
    }
    done
}

/// The scratch copy of the course and its own target directory.
pub(crate) struct Scratch {
    root: PathBuf,
    /// `target/mutants`.
    base: PathBuf,
    tree: PathBuf,
    target: PathBuf,
}

impl Scratch {
    pub(crate) fn new(root: &Path) -> Scratch {
        let base = root.join("target/mutants");
        Scratch {
            root: root.to_path_buf(),
            tree: base.join("tree"),
            target: base.join("build"),
            base,
        }
    }

    /// Where `cargo build` puts the binaries.
    pub(crate) fn binaries(&self) -> PathBuf {
        self.target.join("debug")
    }

    /// The course's files (not `target/`, `.git/` or `backups/`), each
    /// exercise replaced by its solution. Files already the same are not
    /// written, so cargo sees them unchanged and rebuilds nothing.
    pub(crate) fn copy_course(&self, course: &Course) -> Result<(), String> {
        copy_tree(&self.root, &self.tree, true)?;
        for lesson in &course.lessons {
            let solution = std::fs::read_to_string(self.root.join(lesson.solution()))
                .map_err(|e| format!("cannot read {}: {e}", lesson.solution().display()))?;
            self.restore(lesson, &solution)?;
        }
        Ok(())
    }

    pub(crate) fn restore(&self, lesson: &Lesson, solution: &str) -> Result<(), String> {
        write_if_changed(&self.tree.join(lesson.exercise()), solution)
    }

    /// `lesson-NN` with `source` as lesson N's exercise; Err inside when
    /// it does not compile (the compiler's first error).
    pub(crate) fn build(
        &self,
        lesson: &Lesson,
        source: &str,
    ) -> Result<Result<Binary, String>, String> {
        write_if_changed(&self.tree.join(lesson.exercise()), source)?;
        let binary = Binary::new(Flavour::Exercise, lesson.number);
        let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(&self.tree)
            .args(["build", "--quiet", "--bin", &binary.name()])
            .env("CARGO_TARGET_DIR", &self.target)
            // No debug information: half the time to compile and link, and
            // a check never reads it.
            .env("CARGO_PROFILE_DEV_DEBUG", "0")
            .output()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if output.status.success() {
            return Ok(Ok(binary));
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr
            .lines()
            .find(|line| line.starts_with("error"))
            .unwrap_or("cargo failed")
            .to_string();
        Ok(Err(first))
    }
}

/// Copy `from` into `to`, leaving out `target/`, `.git/` and `backups/` at
/// the top.
fn copy_tree(from: &Path, to: &Path, top: bool) -> Result<(), String> {
    let entries =
        std::fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", from.display()))?;
        let name = entry.file_name();
        if top && ["target", ".git", "backups"].iter().any(|n| name == *n) {
            continue;
        }
        let kind = entry
            .file_type()
            .map_err(|e| format!("cannot stat {}: {e}", entry.path().display()))?;
        let destination = to.join(&name);
        if kind.is_dir() {
            copy_tree(&entry.path(), &destination, false)?;
        } else if kind.is_file() {
            let bytes = std::fs::read(entry.path())
                .map_err(|e| format!("cannot read {}: {e}", entry.path().display()))?;
            write_bytes_if_changed(&destination, &bytes)?;
        }
    }
    Ok(())
}

fn write_if_changed(path: &Path, text: &str) -> Result<(), String> {
    write_bytes_if_changed(path, text.as_bytes())
}

fn write_bytes_if_changed(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::repo_root;

    fn mistake(find: &str, replace: &str, occurrence: Option<usize>) -> Mistake {
        Mistake {
            name: "m".into(),
            says: String::new(),
            find: find.into(),
            replace: replace.into(),
            occurrence,
            caught_by: vec!["c".into()],
            fix_words: vec!["w".into()],
            also: Vec::new(),
            needs: None,
        }
    }

    #[test]
    fn a_mistake_replaces_exactly_the_occurrence_it_names() {
        let solution = "a | b; a | b;";
        assert_eq!(apply("x | y;", &mistake("x | y", "x", None)).unwrap(), "x;");
        assert_eq!(
            apply(solution, &mistake("a | b", "a", Some(2))).unwrap(),
            "a | b; a;"
        );
        let twice = apply(solution, &mistake("a | b", "a", None)).unwrap_err();
        assert!(twice.contains("occurs 2 time(s)"), "{twice}");
        assert!(apply(solution, &mistake("c", "", None)).is_err());
        assert!(apply(solution, &mistake("a | b", "a", Some(3))).is_err());
        assert!(apply("x | y;", &mistake("x | y", "x", Some(1))).is_err());
        // A call moved: removed here, added there.
        let mut moved = mistake("a();\n", "", None);
        moved.also.push(Edit {
            find: "c();\n".into(),
            replace: "c();\na();\n".into(),
            occurrence: None,
        });
        assert_eq!(
            apply("a();\nb();\nc();\n", &moved).unwrap(),
            "b();\nc();\na();\n"
        );
    }

    /// Every catalogue fits its solution as it is now, names real checks,
    /// and has 8 to 15 entries: a solution edited without its catalogue
    /// fails here, without root, before `just mutants` runs anything.
    #[test]
    fn every_catalogue_fits_its_solution() {
        let root = repo_root();
        let course = Course::load(&root).unwrap();
        let mut found = Vec::new();
        for lesson in &course.lessons {
            if !root.join(catalogue_path(lesson)).exists() {
                found.push(format!("{} is missing", catalogue_path(lesson).display()));
                continue;
            }
            let mistakes = load(&root, lesson).unwrap();
            let solution = std::fs::read_to_string(root.join(lesson.solution())).unwrap();
            found.extend(problems(lesson, &mistakes, &solution));
        }
        assert!(found.is_empty(), "{}", found.join("\n"));
    }
}
