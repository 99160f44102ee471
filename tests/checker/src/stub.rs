//! The starting version of an exercise file: what `just reset N` restores,
//! and what `just progress` compares with to say "not started".
//!
//! It comes from git, because the working tree may hold the learner's
//! work, even committed work. In order, the first that still has a
//! `todo!()` (a stub always has one, `tests/checks/course.rs` sees to it):
//!
//! 1. The file as of the newest commit that changed it **together with
//!    its solution**. Maintainers change the two together (the course
//!    checks that they agree outside the `todo!()` bodies); a learner never
//!    edits `solutions/`. So this is the newest stub that matches the rest
//!    of the code the learner has, even after they committed their work,
//!    or pulled a new version of the course.
//! 2. Before that, though, a newer commit by the same author that changed
//!    only the exercise (say, a comment inside a `todo!()` body): a
//!    maintainer's later touch-up, not the learner's work.
//! 3. The file as of `HEAD`, for a checkout without that history.
//!
//! We do not take the remote's default branch (`origin/HEAD`): after a
//! `git fetch` it may be newer than the learner's runtime and not compile
//! against it, and in a learner's fork it may hold their solutions.

use std::path::Path;
use std::process::Command;

use crate::course::Lesson;

/// A starting version of an exercise, and where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stub {
    pub text: String,
    /// For the learner: `commit 1a2b3c4d` or `HEAD`.
    pub origin: String,
}

/// A version is a stub if it still leaves the learner something to write.
pub fn is_stub(text: &str) -> bool {
    text.contains("todo!(")
}

/// The first candidate that is a stub.
pub fn first_stub(candidates: impl IntoIterator<Item = Stub>) -> Option<Stub> {
    candidates.into_iter().find(|stub| is_stub(&stub.text))
}

/// The starting version of `lesson`'s exercise in the repository at `root`.
pub fn find(root: &Path, lesson: &Lesson) -> Result<Stub, String> {
    let exercise = lesson.exercise();
    let exercise_commits = commits(root, &exercise);
    let solution_commits = commits(root, &lesson.solution());
    let with_solution = exercise_commits
        .iter()
        .find(|commit| solution_commits.iter().any(|c| c.hash == commit.hash));
    let touched_up = with_solution.and_then(|anchor| {
        exercise_commits
            .iter()
            .find(|commit| commit.author == anchor.author)
    });
    let candidates = [touched_up, with_solution]
        .into_iter()
        .flatten()
        .map(|commit| {
            (
                commit.hash.as_str(),
                format!("commit {}", &commit.hash[..8]),
            )
        })
        .chain(std::iter::once(("HEAD", "HEAD".to_string())))
        .filter_map(|(revision, origin)| {
            git_show(root, revision, &exercise).map(|text| Stub { text, origin })
        });
    first_stub(candidates).ok_or_else(|| {
        format!(
            "cannot find the starting version of {} in git (is this a git clone of the course?); \
             copy it from the course repository",
            exercise.display()
        )
    })
}

struct Commit {
    hash: String,
    author: String,
}

/// The commits that changed `path`, newest first.
fn commits(root: &Path, path: &Path) -> Vec<Commit> {
    let log = git(
        root,
        &["log", "--format=%H %ae", "--", &path.to_string_lossy()],
    );
    log.unwrap_or_default()
        .lines()
        .filter_map(|line| line.split_once(' '))
        .map(|(hash, author)| Commit {
            hash: hash.to_string(),
            author: author.to_string(),
        })
        .collect()
}

fn git_show(root: &Path, revision: &str, path: &Path) -> Option<String> {
    git(root, &["show", &format!("{revision}:{}", path.display())])
}

fn git(root: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .current_dir(root)
        .args(args)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::{Course, repo_root};

    fn stub(text: &str, origin: &str) -> Stub {
        Stub {
            text: text.into(),
            origin: origin.into(),
        }
    }

    #[test]
    fn the_first_candidate_with_a_todo_wins() {
        let solved = stub("fn f() { 1 }", "commit aaaaaaaa");
        let pristine = stub("fn f() { todo!() }", "HEAD");
        assert_eq!(
            first_stub([solved.clone(), pristine.clone()]),
            Some(pristine)
        );
        assert_eq!(first_stub([solved]), None);
    }

    /// Every committed lesson of the course has a starting version in git.
    /// (Skipped where git cannot read the repository: a tarball, or
    /// `nobody` in root's checkout; and for a lesson not committed yet.)
    #[test]
    fn every_exercise_of_the_course_has_a_starting_version() {
        let root = repo_root();
        if git(&root, &["rev-parse", "HEAD"]).is_none() {
            return;
        }
        for lesson in Course::load(&root).unwrap().lessons {
            if git_show(&root, "HEAD", &lesson.exercise()).is_none() {
                continue;
            }
            let found = find(&root, &lesson).unwrap();
            assert!(is_stub(&found.text), "{}", found.origin);
        }
    }
}
