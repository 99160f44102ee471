//! Lesson 11: an OCI bundle (a directory with `config.json` and a root
//! filesystem), read with the `oci-spec` crate's types (the youki
//! project's). What each field means for the course is the lesson's
//! [`crate::oci::contract::Oci::plan`]; this module only reads the file and
//! refuses a namespace no lesson of the binary makes.

use std::path::Path;

use oci_spec::runtime::Spec;

use crate::error::{Context, Error, Result};

/// Read `BUNDLE/config.json`.
pub fn load(bundle: &Path) -> Result<Spec> {
    let path = bundle.join("config.json");
    let fix = "give --bundle a directory whose config.json follows the OCI runtime spec";
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("read {}", path.display()))
        .map_err(|e| e.fix(fix))?;
    // serde_json's own error names the field and the line; the crate's
    // wrapper (`Spec::load`) only says "serde failed".
    serde_json::from_str(&text).map_err(|error| {
        Error::new(format!(
            "{}: {}",
            path.display(),
            one_line(&error.to_string())
        ))
        .fix(fix)
    })
}

/// Refuse a namespace to create that no lesson of this binary makes (a
/// `cgroup` namespace before lesson 08 has one): without this it would
/// simply not be made, and the container would share the host's.
pub fn refuse_namespaces_not_made(create: &[String], made: &[&str]) -> Result<()> {
    match create
        .iter()
        .find(|kind| !made.contains(&kind.as_str()))
    {
        Some(kind) => Err(Error::new(format!(
            "config.json: linux.namespaces: a {kind} namespace is not made by this runtime (it makes {})",
            made.join(", ")
        ))
        .fix("remove it from the bundle, or use runc for this container")),
        None => Ok(()),
    }
}

/// serde's errors can span lines; the runtime's errors are one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
