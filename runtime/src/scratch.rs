//! For unit tests: a fresh directory under the temporary directory,
//! removed when dropped, even if the test fails; and an undo kind whose
//! "thing on the host" is a file.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::state::{self, Undo};

pub struct Scratch(pub PathBuf);

impl Scratch {
    /// A new empty directory for the test `name` of this process.
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("nslab-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a scratch directory");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An undo kind for the tests: its "thing on the host" is a file named in
/// the record.
pub struct Marker;

impl Undo for Marker {
    fn kind(&self) -> &'static str {
        "marker"
    }

    fn released_by(&self) -> &'static str {
        "marker::release"
    }

    fn undo(&self, _state_root: &Path, dir: &Path) -> Result<Vec<String>> {
        let made = state::read_record(dir, self.kind()).unwrap_or_default();
        let _ = fs::remove_file(made.trim());
        state::remove_record(dir, self.kind())?;
        Ok(vec![format!("removed the marker {}", made.trim())])
    }
}
