//! How the core calls the lessons' [`Namespace`] hooks, out of sight of
//! `container.rs`: each call guarded by [`lesson_code`] (a panic, a
//! `todo!()` not written yet, becomes an error line), followed by its
//! fault step for the reliability suite ([`fault`]), and with a note of
//! which lesson made which undo record, so that a `cleanup` that forgot
//! one can be named.

use nix::sched::CloneFlags;
use nix::unistd::Pid;

use crate::error::{Error, LESSON_PANICKED, Result};
use crate::fault;
use crate::namespace::Namespace;
use crate::panics::lesson_code;
use crate::run::Run;
use crate::state::{self, Undo};
use crate::transcript;

/// The namespaces of one binary, in lesson order: the `k`-th (from 0) is
/// lesson `k + 1`'s.
pub struct Lessons<'a> {
    pub namespaces: &'a [&'static dyn Namespace],
}

/// Which lesson's `in_parent` made an undo record, by the record's kind.
#[derive(Default)]
pub struct Makers(Vec<(String, usize)>);

impl Lessons<'_> {
    /// Every lesson's `validate`, then the union of their clone flags.
    pub fn validate(&self, run: &Run) -> Result<CloneFlags> {
        for namespace in self.namespaces {
            lesson_code(|| namespace.validate(run))?;
        }
        lesson_code(|| {
            Ok(self
                .namespaces
                .iter()
                .fold(CloneFlags::empty(), |flags, ns| flags | ns.clone_flags()))
        })
    }

    /// Every lesson's `in_parent`. A hook that panics (a `todo!()` not
    /// written yet) does not hold the container back: it starts without
    /// that part, so that the learner sees what is missing (lesson 05: no
    /// id maps), and the first such panic is kept in `unfinished`, to fail
    /// the run afterwards with its line. Any other error stops here.
    pub fn in_parent(
        &self,
        run: &Run,
        child: Pid,
        makers: &mut Makers,
        unfinished: &mut Option<Error>,
    ) -> Result<()> {
        // What each hook made is what its undo records add: one listing
        // of the directory per hook, each the next one's "before".
        let mut before = state::records(&run.container_dir);
        for (k, namespace) in self.namespaces.iter().enumerate() {
            let done = lesson_code(|| namespace.in_parent(run, child));
            let after = state::records(&run.container_dir);
            for kind in &after {
                if !before.contains(kind) {
                    makers.0.push((kind.clone(), k));
                }
            }
            before = after;
            match done {
                Err(panicked) if panicked.status() == LESSON_PANICKED => {
                    transcript::parent(format_args!(
                        "a parent hook panicked; the container starts without the rest of it"
                    ));
                    unfinished.get_or_insert(panicked);
                }
                done => done?,
            }
            fault::step_after("in_parent", k);
        }
        Ok(())
    }

    /// In the child: every lesson's `first_in_child`, then (after `between`)
    /// every lesson's `in_child`.
    pub fn in_child(&self, run: &Run, between: impl FnOnce() -> Result<()>) -> Result<()> {
        for (k, namespace) in self.namespaces.iter().enumerate() {
            lesson_code(|| namespace.first_in_child(run))?;
            fault::step_after("first_in_child", k);
        }
        between()?;
        for (k, namespace) in self.namespaces.iter().enumerate() {
            lesson_code(|| namespace.in_child(run))?;
            fault::step_after("in_child", k);
        }
        Ok(())
    }

    /// Every lesson's `cleanup`, in reverse order, each whatever the
    /// others did; the first error is returned.
    pub fn cleanup(&self, run: &Run, child: Pid) -> Result<()> {
        self.namespaces
            .iter()
            .enumerate()
            .rev()
            .map(|(k, namespace)| {
                if fault::skipped("cleanup", k) {
                    return Ok(());
                }
                let cleaned = lesson_code(|| namespace.cleanup(run, child));
                fault::step_after("cleanup", k);
                cleaned
            })
            .fold(Ok(()), Result::and)
    }
}

// ANCHOR: forgotten
/// After every `cleanup`: undo records still in the container's directory
/// are things a lesson made and its `cleanup` did not release (or could
/// not, having panicked). The core undoes them with `kinds`, so the host
/// is left as it was found, and says so in one line per lesson, naming
/// the hook that forgot; the run then fails with that line, so that the
/// lesson's checks cannot pass on it.
pub fn undo_forgotten(run: &Run, makers: &Makers, kinds: &[&dyn Undo]) -> Result<()> {
    let left = state::records(&run.container_dir);
    if left.is_empty() {
        return Ok(());
    }
    let (done, still) = state::replay(&run.state_root, &run.container_dir, kinds);
    let by = |kind: &String| {
        makers
            .0
            .iter()
            .find(|(made, _)| made == kind)
            .map_or("a lesson's".to_string(), |(_, k)| {
                format!("lesson {:02}'s", k + 1)
            })
    };
    let mut hooks: Vec<String> = left.iter().map(by).collect();
    hooks.dedup();
    let undone = if done.is_empty() {
        String::new()
    } else {
        format!("; the core undid it ({})", done.join("; "))
    };
    let error = Error::new(format!(
        "{} cleanup left the undo record {} behind{undone}",
        hooks.join(" and "),
        left.join(", ")
    ));
    let calls: Vec<&str> = left
        .iter()
        .filter_map(|kind| kinds.iter().find(|undo| undo.kind() == kind))
        .map(|undo| undo.released_by())
        .collect();
    let release = format!("call {} in cleanup", calls.join(" and "));
    Err(if still.is_empty() {
        error.fix(format!("{release} (the chapter's cleanup section)"))
    } else {
        error.fix(format!("run `just clean`, then {release}"))
    })
}
// ANCHOR_END: forgotten

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::scratch::{Marker, Scratch};

    #[test]
    fn a_record_a_cleanup_forgot_is_undone_and_names_the_lesson() {
        let scratch = Scratch::new("forgotten");
        let run = Run::under(Config::default(), scratch.0.clone(), Pid::this());
        state::create_container_dir(&run.container_dir).unwrap();
        assert!(undo_forgotten(&run, &Makers::default(), &[&Marker]).is_ok());

        let made = scratch.0.join("made-on-the-host");
        run.record("marker", &made.display().to_string()).unwrap();
        std::fs::write(&made, "").unwrap();
        let makers = Makers(vec![("marker".into(), 5)]);
        let error = undo_forgotten(&run, &makers, &[&Marker])
            .unwrap_err()
            .to_string();
        assert!(!made.exists(), "{error}");
        assert!(state::records(&run.container_dir).is_empty(), "{error}");
        assert!(
            error.contains("lesson 06's cleanup left the undo record marker")
                && error.contains("the core undid it"),
            "{error}"
        );
        assert!(!error.contains('\n'), "{error}");
    }
}
