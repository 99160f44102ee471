//! `just reset N`: put the lesson's exercise file back to its starting
//! version, generated from the solution ([`crate::stub`]; no git history,
//! so it works in a shallow clone or an unpacked tarball), after asking,
//! and keep the learner's version in `backups/NN-name/lib-K.rs`.
//!
//! The backups live at the top of the checkout, not in `target/`, so that
//! `cargo clean` never deletes someone's work; `.gitignore` keeps them out
//! of `git status`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::course::Lesson;
use crate::stub;

/// How to get the learner's consent.
pub enum Consent {
    /// `--yes`: do not ask.
    Given,
    /// Ask on the terminal; refuse without one.
    Ask,
}

pub fn run(root: &Path, lesson: &Lesson, consent: Consent) -> Result<(), String> {
    let stub = stub::starting_version(root, lesson)?;
    let confirm = |question: &str| match consent {
        Consent::Given => Ok(true),
        Consent::Ask => ask(question, lesson.number),
    };
    println!("{}", restore(root, lesson, &stub, confirm)?);
    Ok(())
}

/// Restore the starting version if `confirm` agrees; say what happened.
pub fn restore(
    root: &Path,
    lesson: &Lesson,
    stub: &str,
    confirm: impl FnOnce(&str) -> Result<bool, String>,
) -> Result<String, String> {
    let exercise = root.join(lesson.exercise());
    let current = std::fs::read_to_string(&exercise).ok();
    if current.as_deref() == Some(stub) {
        return Ok(format!(
            "{} is already its starting version: nothing to do.",
            lesson.exercise().display()
        ));
    }
    let backup_dir = Path::new("backups").join(lesson.slug());
    let backup = next_backup(&root.join(&backup_dir))
        .strip_prefix(root)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let keep = match current {
        Some(_) => format!(" Your version will be kept as {}.", backup.display()),
        None => String::new(),
    };
    let question = format!(
        "Replace {} with its starting version?{keep}",
        lesson.exercise().display()
    );
    if !confirm(&question)? {
        return Ok("Nothing changed.".to_string());
    }
    let mut done = format!(
        "{} is back to its starting version.",
        lesson.exercise().display()
    );
    if let Some(current) = current {
        std::fs::create_dir_all(root.join(&backup_dir))
            .map_err(|e| format!("cannot create {}: {e}", backup_dir.display()))?;
        std::fs::write(root.join(&backup), current)
            .map_err(|e| format!("cannot keep your version in {}: {e}", backup.display()))?;
        done.push_str(&format!(" Your version is in {}.", backup.display()));
    }
    std::fs::write(&exercise, stub)
        .map_err(|e| format!("cannot write {}: {e}", exercise.display()))?;
    Ok(done)
}

/// `lib-K.rs` in `dir`, one more than the highest K there: the newest
/// backup has the highest number, and none is ever overwritten.
fn next_backup(dir: &Path) -> PathBuf {
    let highest = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|entry| {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    name.strip_prefix("lib-")?
                        .strip_suffix(".rs")?
                        .parse::<u32>()
                        .ok()
                })
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0);
    dir.join(format!("lib-{}.rs", highest + 1))
}

/// y/N on the terminal; without a terminal, refuse rather than guess.
fn ask(question: &str, number: u8) -> Result<bool, String> {
    if !std::io::stdin().is_terminal() {
        return Err(format!(
            "not resetting without asking, and there is no terminal to ask on: \
             run `just reset {number}` in a terminal, or `just reset {number} --yes`"
        ));
    }
    print!("{question} [y/N] ");
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| e.to_string())?;
    Ok(is_yes(&answer))
}

fn is_yes(answer: &str) -> bool {
    matches!(answer.trim().to_lowercase().as_str(), "y" | "yes")
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Checkout(PathBuf);

    impl Checkout {
        fn new(exercise: Option<&str>) -> Checkout {
            let root = std::env::temp_dir().join(format!(
                "nslab-reset-test-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            let _ = std::fs::remove_dir_all(&root);
            std::fs::create_dir_all(root.join("lessons/01-uts/src")).unwrap();
            if let Some(text) = exercise {
                std::fs::write(root.join("lessons/01-uts/src/lib.rs"), text).unwrap();
            }
            Checkout(root)
        }

        fn read(&self, path: &str) -> String {
            std::fs::read_to_string(self.0.join(path)).unwrap()
        }
    }

    impl Drop for Checkout {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn lesson() -> Lesson {
        Lesson {
            number: 1,
            name: "uts".into(),
            title: "A hostname of its own".into(),
            hints: vec![],
            exercises: vec![],
            checks: vec![],
        }
    }

    fn stub() -> &'static str {
        "todo!()"
    }

    #[test]
    fn reset_keeps_every_version_of_the_learner_in_a_numbered_backup() {
        let checkout = Checkout::new(Some("my first try"));
        let said = restore(&checkout.0, &lesson(), stub(), |question| {
            assert!(
                question.contains("kept as backups/01-uts/lib-1.rs"),
                "{question}"
            );
            Ok(true)
        })
        .unwrap();
        assert!(
            said.contains("Your version is in backups/01-uts/lib-1.rs"),
            "{said}"
        );
        assert_eq!(checkout.read("lessons/01-uts/src/lib.rs"), "todo!()");
        assert_eq!(checkout.read("backups/01-uts/lib-1.rs"), "my first try");

        std::fs::write(checkout.0.join("lessons/01-uts/src/lib.rs"), "try two").unwrap();
        restore(&checkout.0, &lesson(), stub(), |_| Ok(true)).unwrap();
        assert_eq!(checkout.read("backups/01-uts/lib-2.rs"), "try two");
        assert_eq!(checkout.read("backups/01-uts/lib-1.rs"), "my first try");
    }

    #[test]
    fn saying_no_changes_nothing() {
        let checkout = Checkout::new(Some("mine"));
        let said = restore(&checkout.0, &lesson(), stub(), |_| Ok(false)).unwrap();
        assert_eq!(said, "Nothing changed.");
        assert_eq!(checkout.read("lessons/01-uts/src/lib.rs"), "mine");
        assert!(!checkout.0.join("backups").exists());
    }

    #[test]
    fn an_untouched_or_missing_file_needs_no_backup() {
        let untouched = Checkout::new(Some("todo!()"));
        let said = restore(&untouched.0, &lesson(), stub(), |_| panic!("asked")).unwrap();
        assert!(said.ends_with("already its starting version: nothing to do."));

        let missing = Checkout::new(None);
        restore(&missing.0, &lesson(), stub(), |_| Ok(true)).unwrap();
        assert_eq!(missing.read("lessons/01-uts/src/lib.rs"), "todo!()");
        assert!(!missing.0.join("backups").exists());
    }

    #[test]
    fn only_y_or_yes_means_yes() {
        assert!(is_yes("y\n") && is_yes("YES\n") && is_yes(" yes "));
        assert!(!is_yes("\n") && !is_yes("n\n") && !is_yes("yep\n"));
    }
}
