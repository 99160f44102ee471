//! Clippy's advice on the learner's exercise, shown after the checks of
//! `just lesson N`. It never changes ✓ or ✗: a missing `// SAFETY:`
//! comment is worth knowing about, not worth failing a lesson for (CI and
//! `just test` do fail on it).
//!
//! Clippy starts while the checks run, in a child process, so it costs
//! almost no waiting: the checks spend their time in containers, not on
//! the CPU.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::course::Lesson;

/// A clippy run on one exercise crate, started in the background.
pub struct Clippy {
    child: Child,
    exercise: String,
}

impl Clippy {
    /// Start `cargo clippy` on the lesson's crate only (`--no-deps`).
    pub fn start(root: &Path, lesson: &Lesson) -> Option<Clippy> {
        let child = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(root)
            .args(["clippy", "--quiet", "--message-format=json"])
            .args(["-p", &lesson.package(), "--no-deps"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        Some(Clippy {
            child,
            exercise: lesson.exercise().to_string_lossy().into_owned(),
        })
    }

    /// Clippy's messages about the exercise file, as clippy renders them.
    /// Advice is optional: if clippy cannot run, there is none.
    pub fn finish(self) -> Vec<String> {
        let Ok(output) = self.child.wait_with_output() else {
            return Vec::new();
        };
        about_file(&String::from_utf8_lossy(&output.stdout), &self.exercise)
    }
}

/// The rendered warnings and errors, from cargo's JSON messages, whose
/// main span is in `file`.
pub fn about_file(json_lines: &str, file: &str) -> Vec<String> {
    let mut advice: Vec<String> = json_lines
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-message")
        .map(|message| message["message"].clone())
        .filter(|diagnostic| {
            diagnostic["spans"].as_array().is_some_and(|spans| {
                spans
                    .iter()
                    .any(|span| span["is_primary"] == true && span["file_name"] == file)
            })
        })
        .filter_map(|diagnostic| diagnostic["rendered"].as_str().map(str::to_string))
        .map(|rendered| rendered.trim_end().to_string())
        .collect();
    advice.dedup();
    advice
}

pub fn render(advice: &[String]) -> String {
    if advice.is_empty() {
        return String::new();
    }
    let mut text = String::from(
        "\nAdvice from clippy on your code (it does not change ✓ or ✗; `just test` would fail on it):\n",
    );
    for item in advice {
        for line in item.lines() {
            text.push_str(&format!("    {line}\n"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_messages_about_the_exercise_are_advice() {
        let about = |file: &str, rendered: &str| {
            serde_json::json!({
                "reason": "compiler-message",
                "message": {
                    "rendered": rendered,
                    "spans": [{"file_name": file, "is_primary": true}],
                },
            })
            .to_string()
        };
        let lines = [
            about(
                "lessons/00-clone/src/lib.rs",
                "error: unsafe block missing a safety comment\n",
            ),
            about("runtime/src/container.rs", "warning: not yours\n"),
            r#"{"reason":"build-finished","success":false}"#.to_string(),
        ]
        .join("\n");
        assert_eq!(
            about_file(&lines, "lessons/00-clone/src/lib.rs"),
            ["error: unsafe block missing a safety comment"]
        );
        assert!(
            render(&about_file(&lines, "lessons/00-clone/src/lib.rs"))
                .contains("    error: unsafe block missing a safety comment\n")
        );
        assert_eq!(render(&[]), "");
    }
}
