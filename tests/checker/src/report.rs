//! What `just lesson N` prints: one line per check, ✓ or ✗, and for each
//! ✗ what happened, a hint and the book section to read.

use std::io::IsTerminal;

use crate::course::{Check, Lesson, heading_id};
use crate::harness::Outcome;

pub struct Style {
    colour: bool,
}

impl Style {
    pub fn detect() -> Style {
        Style {
            colour: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    pub fn plain() -> Style {
        Style { colour: false }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn pass(&self) -> String {
        self.paint("32", "✓")
    }

    pub fn fail(&self) -> String {
        self.paint("31", "✗")
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
}

/// The lines for one check's result.
pub fn check_result(
    style: &Style,
    lesson: &Lesson,
    check: &Check,
    outcome: &Outcome,
    details: bool,
) -> String {
    let mark = if outcome.passed {
        style.pass()
    } else {
        style.fail()
    };
    let mut text = format!("  {mark} {:02} {}", lesson.number, check.says);
    if outcome.passed || !details {
        return text;
    }
    let indent = |block: &str| {
        block
            .lines()
            .map(|line| format!("      {line}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    text.push('\n');
    text.push_str(&indent(&outcome.explanation));
    text.push_str(&format!("\n      {} {}", style.bold("hint:"), check.hint));
    text.push_str(&format!(
        "\n      {} chapter {:02}, \"{}\" ({}; with `just book`: http://localhost:3000/{}.html#{})",
        style.bold("read:"),
        lesson.number,
        check.section,
        lesson.chapter().display(),
        lesson.slug(),
        heading_id(&check.section),
    ));
    text
}
