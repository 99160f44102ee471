//! One error type for the whole runtime.
//!
//! Every failure ends as a single line on stderr that says what failed, why,
//! and what to do about it, plus the exit status it earns (125 unless the
//! command itself could not be run). Lessons build these with
//! [`Context::context`] and [`Error::fix`].

use std::fmt;

// ANCHOR: statuses
/// Exit status when the runtime itself failed (Docker's convention).
pub const RUNTIME_FAILED: u8 = 125;
/// Exit status when lesson code panicked, typically at a `todo!()`. Rust
/// programs exit with 101 on a panic; we keep that so that an unfinished
/// lesson never looks like a clean refusal (125).
pub const LESSON_PANICKED: u8 = 101;
// ANCHOR_END: statuses

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    what: String,
    cause: Option<String>,
    fix: Option<String>,
    status: u8,
}

impl Error {
    /// An error about `what` failed, e.g. "set the hostname".
    pub fn new(what: impl Into<String>) -> Self {
        Error {
            what: what.into(),
            cause: None,
            fix: None,
            status: RUNTIME_FAILED,
        }
    }

    /// Why it failed, typically an `Errno` or an `io::Error`.
    pub fn because(mut self, cause: impl fmt::Display) -> Self {
        self.cause = Some(cause.to_string());
        self
    }

    /// What the person at the keyboard can do about it.
    pub fn fix(mut self, how: impl Into<String>) -> Self {
        self.fix = Some(how.into());
        self
    }

    /// The same error about `subject`: "container c1: it is running: ...".
    pub fn about(mut self, subject: impl fmt::Display) -> Self {
        self.what = format!("{subject}: {}", self.what);
        self
    }

    /// The exit status this error earns (125 unless changed).
    pub fn with_status(mut self, status: u8) -> Self {
        self.status = status;
        self
    }

    pub fn status(&self) -> u8 {
        self.status
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keep it one line whatever the parts contain: the checks, and
        // anyone reading a log, rely on one error per line.
        let one_line = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        write!(f, "{}", one_line(&self.what))?;
        if let Some(cause) = &self.cause {
            write!(f, ": {}", one_line(cause))?;
        }
        if let Some(fix) = &self.fix {
            write!(f, " (fix: {})", one_line(fix))?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// Attach "what we were doing" to any error, like `anyhow::Context`.
///
/// ```
/// use nslab_runtime::{Context, Result};
/// fn read_config() -> Result<String> {
///     std::fs::read_to_string("/nonexistent").context("read /nonexistent")
/// }
/// assert!(read_config().unwrap_err().to_string().starts_with("read /nonexistent: "));
/// ```
pub trait Context<T> {
    fn context(self, what: impl Into<String>) -> Result<T>;
    fn with_context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: fmt::Display> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl Into<String>) -> Result<T> {
        self.map_err(|e| Error::new(what).because(e))
    }

    fn with_context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::new(what()).because(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::errno::Errno;

    #[test]
    fn renders_what_cause_and_fix_on_one_line() {
        let err = Error::new("set the hostname")
            .because(Errno::EPERM)
            .fix("run as root\nor use lesson 05");
        assert_eq!(
            err.to_string(),
            "set the hostname: EPERM: Operation not permitted (fix: run as root or use lesson 05)"
        );
        assert_eq!(err.status(), RUNTIME_FAILED);
    }

    #[test]
    fn context_wraps_the_cause() {
        let failed: std::result::Result<(), Errno> = Err(Errno::ENOENT);
        let err = failed.context("open the rootfs").unwrap_err();
        assert_eq!(
            err.to_string(),
            "open the rootfs: ENOENT: No such file or directory"
        );
    }
}
