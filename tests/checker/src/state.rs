//! What the checker remembers between runs, under `target/nslab/`: the
//! result of each `just lesson N` (for `just progress`) and how many hints
//! of each lesson were shown (for `just hint N`).
//!
//! It lives in `target/` because it is about this checkout only, is never
//! committed, and losing it (`cargo clean`) costs nothing: `just progress`
//! then asks for one `just lesson N` per edited lesson, and `just hint N`
//! starts again from the first hint.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::course::Lesson;

/// `target/nslab` in the repository at `root`.
pub fn dir(root: &Path) -> PathBuf {
    root.join("target/nslab")
}

/// The outcome of the last `just lesson N`, and which exercise file it graded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonResult {
    /// Every check passed: the lesson's own and the earlier lessons'.
    pub passed: bool,
    pub own_passed: usize,
    pub own_total: usize,
    /// [`fingerprint`] of the exercise file as it was graded.
    pub exercise: String,
}

/// The outcome of the last `just lesson N --mine`: the learner's own
/// runtime, lessons 00..`level`, against every check of those lessons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnRuntimeResult {
    pub level: u8,
    /// The first lesson whose code made a check fail; `None` if every
    /// check passed.
    pub first_failing: Option<u8>,
    /// [`fingerprint`] of the exercise files 00..`level` as graded, in order.
    pub exercises: String,
}

fn result_path(root: &Path, lesson: &Lesson) -> PathBuf {
    dir(root)
        .join("results")
        .join(format!("{}.json", lesson.slug()))
}

fn hints_path(root: &Path, lesson: &Lesson) -> PathBuf {
    dir(root).join("hints").join(lesson.slug())
}

pub fn load_result(root: &Path, lesson: &Lesson) -> Option<LessonResult> {
    let text = std::fs::read_to_string(result_path(root, lesson)).ok()?;
    // An unreadable record is as good as none: the learner re-runs the lesson.
    serde_json::from_str(&text).ok()
}

pub fn save_result(root: &Path, lesson: &Lesson, result: &LessonResult) -> Result<(), String> {
    let text = serde_json::to_string_pretty(result).map_err(|e| e.to_string())?;
    write(&result_path(root, lesson), &text)
}

fn own_runtime_path(root: &Path) -> PathBuf {
    dir(root).join("results/mine.json")
}

pub fn load_own_runtime_result(root: &Path) -> Option<OwnRuntimeResult> {
    let text = std::fs::read_to_string(own_runtime_path(root)).ok()?;
    serde_json::from_str(&text).ok()
}

pub fn save_own_runtime_result(root: &Path, result: &OwnRuntimeResult) -> Result<(), String> {
    let text = serde_json::to_string_pretty(result).map_err(|e| e.to_string())?;
    write(&own_runtime_path(root), &text)
}

/// One [`fingerprint`] of the exercise files of `lessons`, in order, as
/// they are now (a missing file counts as empty).
pub fn fingerprint_exercises<'a>(root: &Path, lessons: impl Iterator<Item = &'a Lesson>) -> String {
    let mut all = Vec::new();
    for lesson in lessons {
        let text = std::fs::read(root.join(lesson.exercise())).unwrap_or_default();
        all.extend(fingerprint(&text).into_bytes());
    }
    fingerprint(&all)
}

/// How many hints of `lesson` were shown so far.
pub fn hints_shown(root: &Path, lesson: &Lesson) -> usize {
    std::fs::read_to_string(hints_path(root, lesson))
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(0)
}

pub fn save_hints_shown(root: &Path, lesson: &Lesson, shown: usize) -> Result<(), String> {
    write(&hints_path(root, lesson), &format!("{shown}\n"))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// A short, stable fingerprint of a file's contents (64-bit FNV-1a), to
/// tell whether the file changed since it was graded. Not a security
/// measure: it only has to notice edits, and it must not change between
/// Rust versions, which rules out `std`'s `DefaultHasher`.
pub fn fingerprint(bytes: &[u8]) -> String {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let hash = bytes.iter().fold(OFFSET_BASIS, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(PRIME)
    });
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_fnv1a_and_notice_any_change() {
        // The published FNV-1a 64 test vectors.
        assert_eq!(fingerprint(b""), "cbf29ce484222325");
        assert_eq!(fingerprint(b"a"), "af63dc4c8601ec8c");
        assert_ne!(fingerprint(b"todo!()"), fingerprint(b"todo!() "));
    }
}
