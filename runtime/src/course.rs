//! Which binary is running: the learner's exercise or the reference
//! solution, at which lesson. Flags and messages depend on it.

/// The lessons in order; a lesson's number is its index.
pub const LESSONS: [&str; 9] = [
    "clone", "uts", "ipc", "pid", "mount", "user", "net", "join", "cgroup",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// `lesson-NN`: solutions below NN plus the learner's lesson NN.
    Exercise,
    /// `solution-NN`: the reference solutions up to NN.
    Solution,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binary {
    pub flavour: Flavour,
    /// The highest lesson compiled in.
    pub level: u8,
}

impl Binary {
    /// The binary's file name, e.g. `lesson-04`.
    pub fn name(&self) -> String {
        let prefix = match self.flavour {
            Flavour::Exercise => "lesson",
            Flavour::Solution => "solution",
        };
        format!("{prefix}-{:02}", self.level)
    }
}

/// "lesson 04 (mount)", for messages.
pub fn describe_lesson(number: u8) -> String {
    let name = LESSONS.get(usize::from(number)).copied().unwrap_or("?");
    format!("lesson {number:02} ({name})")
}
