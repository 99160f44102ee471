//! For unit tests: a fresh directory under the temporary directory,
//! removed when dropped, even if the test fails.

use std::path::PathBuf;

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
