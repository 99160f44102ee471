//! `just stubs`: write every lesson's `src/lib.rs` from its solution
//! ([`crate::stub`]); `just stubs --check` (run by `just test`) only says
//! which committed stubs are stale, and how.

use std::path::Path;

use crate::course::{Course, Lesson};
use crate::{reset, stub};

/// A lesson whose exercise file is not what its solution generates.
#[derive(Debug)]
pub struct Stale<'a> {
    pub lesson: &'a Lesson,
    /// What the checkout has (None: the file is missing).
    pub committed: Option<String>,
    pub generated: String,
}

/// Every lesson of `course` whose exercise file is stale.
pub fn stale<'a>(root: &Path, course: &'a Course) -> Result<Vec<Stale<'a>>, String> {
    let mut found = Vec::new();
    for lesson in &course.lessons {
        let generated = stub::starting_version(root, lesson)?;
        let committed = std::fs::read_to_string(root.join(lesson.exercise())).ok();
        if committed.as_deref() != Some(generated.as_str()) {
            found.push(Stale {
                lesson,
                committed,
                generated,
            });
        }
    }
    Ok(found)
}

/// What `--check` prints for one stale stub.
pub fn describe(stale: &Stale) -> String {
    let path = stale.lesson.exercise();
    match &stale.committed {
        None => format!("{} is missing\n", path.display()),
        Some(committed) => format!(
            "{} is not what {} generates:\n{}",
            path.display(),
            stale.lesson.solution().display(),
            stub::difference(committed, &stale.generated)
        ),
    }
}

/// `just stubs [--check]`.
pub fn run(root: &Path, course: &Course, check_only: bool) -> Result<bool, String> {
    let stale = stale(root, course)?;
    if stale.is_empty() {
        println!(
            "All {} lesson stubs are generated from their solutions.",
            course.lessons.len()
        );
        return Ok(true);
    }
    if check_only {
        for one in &stale {
            print!("{}", describe(one));
        }
        println!(
            "\n{} stale stub(s): run `just stubs` to generate them from the solutions \
             (your own work in a lesson is kept in backups/ first).",
            stale.len()
        );
        return Ok(false);
    }
    for one in &stale {
        println!(
            "{}",
            reset::restore(root, one.lesson, &one.generated, |_| Ok(true))?
        );
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::repo_root;

    /// A copy of the course's lessons and solutions in a temporary
    /// directory, to edit without touching the checkout.
    struct Copy(std::path::PathBuf);

    impl Copy {
        fn new() -> Copy {
            let dir = std::env::temp_dir().join(format!(
                "nslab-stubs-test-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            let root = repo_root();
            for lesson in Course::load(&root).unwrap().lessons {
                for file in [lesson.info(), lesson.exercise(), lesson.solution()] {
                    let to = dir.join(&file);
                    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
                    std::fs::copy(root.join(&file), to).unwrap();
                }
            }
            Copy(dir)
        }
    }

    impl Drop for Copy {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// The committed stubs are the generated ones.
    #[test]
    fn every_committed_stub_is_generated_from_its_solution() {
        let root = repo_root();
        let course = Course::load(&root).unwrap();
        let stale = stale(&root, &course).unwrap();
        let said: Vec<String> = stale.iter().map(describe).collect();
        assert!(said.is_empty(), "run `just stubs`:\n{}", said.join("\n"));
    }

    /// Editing a given comment in a solution makes its stub stale, the
    /// check says where, and `just stubs` makes it fresh again.
    #[test]
    fn a_comment_edited_in_a_solution_makes_its_stub_stale_until_regenerated() {
        let copy = Copy::new();
        let course = Course::load(&copy.0).unwrap();
        let lesson = course.lesson(1).unwrap();
        let solution = copy.0.join(lesson.solution());
        let text = std::fs::read_to_string(&solution).unwrap();
        let given = "/// byte, so a name has at most 64 bytes (`HOST_NAME_MAX`).";
        assert!(
            text.contains(given),
            "lesson 01's solution changed: pick another comment"
        );
        std::fs::write(
            &solution,
            text.replace(given, "/// byte, so a name has at most 64 bytes."),
        )
        .unwrap();

        let found = stale(&copy.0, &course).unwrap();
        assert_eq!(found.len(), 1);
        let said = describe(&found[0]);
        assert!(
            said.starts_with("lessons/01-uts/src/lib.rs is not what"),
            "{said}"
        );
        assert!(
            said.contains(&format!(
                "-{given}\n+/// byte, so a name has at most 64 bytes.\n"
            )),
            "{said}"
        );
        assert!(!run(&copy.0, &course, true).unwrap());

        assert!(run(&copy.0, &course, false).unwrap());
        assert!(stale(&copy.0, &course).unwrap().is_empty());
        let kept = std::fs::read_to_string(copy.0.join("backups/01-uts/lib-1.rs")).unwrap();
        assert!(kept.contains(given), "the old file is kept in backups/");
    }
}
