//! The course: its lessons, from the runtime's course manifest
//! ([`nslab_runtime::course::LESSONS`]), their hints and checks, from each
//! lesson's `lessons/NN-name/info.toml`, and where each lesson's files live.

use std::path::{Path, PathBuf};

use nslab_runtime::course::LESSONS;
use serde::Deserialize;

#[derive(Debug)]
pub struct Course {
    /// In lesson order.
    pub lessons: Vec<Lesson>,
}

#[derive(Debug)]
pub struct Lesson {
    /// From the manifest: `04` in `lessons/04-mount`.
    pub number: u8,
    /// From the manifest: `mount` in `lessons/04-mount`.
    pub name: String,
    /// From info.toml; a check holds it to the manifest's.
    pub title: String,
    /// Shown one at a time by `just hint N`, from the idea to the system
    /// calls; the solution's code comes after them ([`crate::hint`]).
    pub hints: Vec<String>,
    /// The functions the learner writes, in the order the book takes them.
    pub exercises: Vec<Exercise>,
    pub checks: Vec<Check>,
}

/// What a lesson's `info.toml` holds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Info {
    title: String,
    hints: Vec<String>,
    exercises: Vec<Exercise>,
    checks: Vec<Check>,
}

/// A function of the solution whose body the learner writes: the
/// lesson's `src/lib.rs` is the solution with this body replaced
/// ([`crate::stub`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exercise {
    /// `UtsNamespace::in_child` for a method (the type of its `impl`), or
    /// `start_init` for a free function.
    pub function: String,
    /// The heading of the lesson's chapter that explains it.
    pub section: String,
    /// The stub's comment: what must become true, and why; never the call.
    pub goal: String,
    /// The `todo!("…")` message, a few words.
    pub todo: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// The test function's name in `tests/checks/lessonNN.rs`.
    pub name: String,
    /// What the check verifies, in a few words.
    pub says: String,
    pub hint: String,
    /// A heading of the lesson's chapter.
    pub section: String,
}

/// The repository's top directory.
pub fn repo_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

impl Course {
    /// Every lesson of the manifest, with its `lessons/NN-name/info.toml`.
    pub fn load(root: &Path) -> Result<Course, String> {
        let mut lessons = Vec::new();
        for lesson in LESSONS {
            let path = root
                .join("lessons")
                .join(lesson.dir_name())
                .join("info.toml");
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let info: Info = toml::from_str(&text)
                .map_err(|e| format!("{} is malformed: {e}", path.display()))?;
            lessons.push(Lesson {
                number: lesson.number,
                name: lesson.slug.to_string(),
                title: info.title,
                hints: info.hints,
                exercises: info.exercises,
                checks: info.checks,
            });
        }
        Ok(Course { lessons })
    }

    /// The lessons before lesson `number`.
    pub fn before(&self, number: u8) -> impl Iterator<Item = &Lesson> {
        self.lessons
            .iter()
            .filter(move |lesson| lesson.number < number)
    }

    pub fn lesson(&self, number: u8) -> Result<&Lesson, String> {
        self.lessons
            .iter()
            .find(|lesson| lesson.number == number)
            .ok_or_else(|| {
                let numbers: Vec<String> =
                    self.lessons.iter().map(|l| l.number.to_string()).collect();
                format!(
                    "there is no lesson {number}; the lessons are {}",
                    numbers.join(", ")
                )
            })
    }

    /// The lesson that comes after lesson `number`, if any.
    pub fn after(&self, number: u8) -> Option<&Lesson> {
        self.lessons.iter().find(|lesson| lesson.number > number)
    }
}

impl Lesson {
    /// `04-mount`: the lesson's directory and chapter name.
    pub fn slug(&self) -> String {
        format!("{:02}-{}", self.number, self.name)
    }

    /// `lessons/04-mount`: everything of the lesson that the learner has.
    pub fn dir(&self) -> PathBuf {
        Path::new("lessons").join(self.slug())
    }

    /// The lesson's hints and checks.
    pub fn info(&self) -> PathBuf {
        self.dir().join("info.toml")
    }

    /// The learner's file.
    pub fn exercise(&self) -> PathBuf {
        self.dir().join("src/lib.rs")
    }

    /// The exercise crate's package name, `lesson-04-mount`, for `cargo -p`.
    pub fn package(&self) -> String {
        format!("lesson-{}", self.slug())
    }

    pub fn solution(&self) -> PathBuf {
        Path::new("solutions").join(self.slug()).join("src/lib.rs")
    }

    pub fn chapter(&self) -> PathBuf {
        Path::new("book/src").join(format!("{}.md", self.slug()))
    }

    /// The module of `tests/checks` that holds this lesson's checks.
    pub fn test_module(&self) -> String {
        format!("lesson{:02}", self.number)
    }

    /// The full test name of one of its checks, `lesson04::proc_shows_only_the_container`.
    pub fn test_name(&self, check: &str) -> String {
        format!("{}::{check}", self.test_module())
    }

    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|check| check.name == name)
    }
}

/// The headings of a Markdown chapter, without their `#`s.
pub fn headings(markdown: &str) -> Vec<String> {
    let mut in_code = false;
    markdown
        .lines()
        .filter(|line| {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
            }
            !in_code && line.starts_with('#')
        })
        .map(|line| line.trim_start_matches('#').trim().to_string())
        .collect()
}

/// The anchor mdBook gives a heading, for a link into the served book.
pub fn heading_id(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            c if c.is_alphanumeric() || c == '_' || c == '-' => Some(c.to_ascii_lowercase()),
            ' ' => Some('-'),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_course_file_loads() {
        let course = Course::load(&repo_root()).unwrap();
        assert_eq!(course.lessons.len(), LESSONS.len());
        for lesson in &course.lessons {
            assert!(
                !lesson.hints.is_empty(),
                "lesson {} has hints",
                lesson.number
            );
        }
    }

    /// `cargo clippy -p` needs the exercise crate's real package name.
    #[test]
    fn each_exercise_crate_is_named_after_its_lesson() {
        let root = repo_root();
        for lesson in Course::load(&root).unwrap().lessons {
            let manifest = root.join(lesson.dir()).join("Cargo.toml");
            let text = std::fs::read_to_string(&manifest).unwrap();
            let expected = format!("name = \"{}\"", lesson.package());
            assert!(
                text.lines().any(|line| line.trim() == expected),
                "{} should say {expected}",
                manifest.display()
            );
        }
    }

    #[test]
    fn heading_ids_follow_mdbook() {
        assert_eq!(heading_id("Exercise: in_child"), "exercise-in_child");
        assert_eq!(
            heading_id("Why `pivot_root`, not chroot?"),
            "why-pivot_root-not-chroot"
        );
    }

    #[test]
    fn headings_skip_code_blocks() {
        let text = "# One\n```sh\n# a comment\n```\n## Two: 2\n";
        assert_eq!(headings(text), ["One", "Two: 2"]);
    }
}
