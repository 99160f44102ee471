//! Lesson 11: where an OCI container lives on the host between the
//! runtime's calls, and what state it is in.
//!
//! `create`, `start`, `kill` and `delete` are separate processes, so what
//! one learns the next must read from disk: `<root>/<id>/` holds
//! `container.json` (our record: the process, the bundle), the exec FIFO
//! while the container waits for `start`, and the undo records of the
//! course (`undo/`). The status is not stored: it is read off the world
//! each time (is the FIFO there, does the process live), as runc does, so
//! that a container that ends by itself is "stopped" with nobody to say so.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use nix::unistd::Pid;
use oci_spec::runtime::ContainerState;
use serde::{Deserialize, Serialize};

use crate::error::{Context, Error, Result};
use crate::oci::contract::Seen;
use crate::oci::inside::EXEC_FIFO;
use crate::registry;

/// Our record's name in the container's directory.
const RECORD: &str = "container.json";

/// The OCI state root when `--root` is not given: under the course's
/// state directory, so that `just clean` finds it.
pub fn default_root() -> PathBuf {
    default_root_of(&crate::state::root())
}

/// The default OCI root under the course's state directory `state_root`.
pub fn default_root_of(state_root: &Path) -> PathBuf {
    state_root.join("oci")
}

/// What `create` records for the commands that follow.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    /// The container's process, as the host numbers it.
    pub pid: i32,
    /// The `create` that made it: lesson 08 names the container's cgroup
    /// after it, and `exec` joins that cgroup.
    pub runtime: i32,
    /// When it started (`/proc/PID/stat` field 22): PID and start time
    /// name one process for good, even once the PID is reused.
    pub start_time: u64,
    pub bundle: PathBuf,
    /// False while `create` is still setting the container up.
    pub created: bool,
    /// Seconds since the epoch when `create` made it.
    pub created_at: u64,
    pub hostname: String,
    pub annotations: HashMap<String, String>,
}

/// The directory of container `id` under `root`.
pub fn dir(root: &Path, id: &str) -> PathBuf {
    root.join(id)
}

/// Refuse an ID that is not one path component: it names a directory.
pub fn check_id(id: &str) -> Result<()> {
    let fine = !id.is_empty()
        && id != "."
        && id != ".."
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.+".contains(c));
    if fine {
        Ok(())
    } else {
        Err(Error::new(format!("container id {id:?} is not valid"))
            .fix("use letters, digits, -, _, . and + only"))
    }
}

impl Record {
    pub fn write(&self, dir: &Path) -> Result<()> {
        let text = serde_json::to_string(self).expect("a record always serializes");
        let temporary = dir.join(format!(".{RECORD}"));
        fs::write(&temporary, text)
            .and_then(|()| fs::rename(&temporary, dir.join(RECORD)))
            .with_context(|| format!("write {}", dir.join(RECORD).display()))
    }

    pub fn read(dir: &Path) -> Option<Record> {
        let text = fs::read_to_string(dir.join(RECORD)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Whether the recorded process still lives (a zombie does not: it
    /// has ended, and waits for its parent, conmon, to collect it).
    pub fn is_alive(&self) -> bool {
        let pid = Pid::from_raw(self.pid);
        registry::start_time(pid).is_ok_and(|started| started == self.start_time) && !is_zombie(pid)
    }
}

/// Container `id`'s record, or the spec's error for an unknown one.
pub fn find(root: &Path, id: &str) -> Result<(PathBuf, Record)> {
    check_id(id)?;
    let dir = dir(root, id);
    match Record::read(&dir) {
        Some(record) => Ok((dir, record)),
        None => Err(Error::new(format!("container {id} does not exist"))
            .fix("`state` shows only containers made by `create` under the same --root")),
    }
}

/// What the host says about the container now, for the lesson's
/// [`crate::oci::contract::Oci::status`].
pub fn seen(dir: &Path, record: &Record) -> Seen {
    Seen {
        set_up: record.created,
        exec_fifo: dir.join(EXEC_FIFO).exists(),
        alive: record.is_alive(),
    }
}

fn is_zombie(pid: Pid) -> bool {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(')')
        .is_some_and(|(_, after)| after.trim_start().starts_with(['Z', 'X']))
}

/// The spec's `state` JSON for the container in `status`.
pub fn to_json(record: &Record, status: ContainerState) -> String {
    let mut state = serde_json::json!({
        "ociVersion": "1.0.2",
        "id": record.id,
        "status": status.to_string(),
        "bundle": record.bundle,
        "annotations": record.annotations,
    });
    if status != ContainerState::Stopped {
        state["pid"] = record.pid.into();
    }
    serde_json::to_string_pretty(&state).expect("a state always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scratch::Scratch;

    fn record_of(pid: Pid, created: bool) -> Record {
        Record {
            id: "c".into(),
            pid: pid.as_raw(),
            runtime: 1,
            start_time: registry::start_time(pid).unwrap_or(0),
            bundle: "/b".into(),
            created,
            created_at: 0,
            hostname: "h".into(),
            annotations: HashMap::new(),
        }
    }

    #[test]
    fn what_is_seen_follows_the_record_the_fifo_and_the_process() {
        let scratch = Scratch::new("oci-seen");
        let dir = &scratch.0;
        let me = record_of(Pid::this(), false);
        assert!(!seen(dir, &me).set_up && seen(dir, &me).alive);
        let me = record_of(Pid::this(), true);
        fs::write(dir.join(EXEC_FIFO), "").unwrap();
        assert!(seen(dir, &me).set_up && seen(dir, &me).exec_fifo);
        fs::remove_file(dir.join(EXEC_FIFO)).unwrap();
        assert!(!seen(dir, &me).exec_fifo);
        // The same PID with another start time is another process.
        let reused = Record {
            start_time: me.start_time + 1,
            ..me.clone()
        };
        assert!(!seen(dir, &reused).alive);
    }

    #[test]
    fn the_state_json_has_the_specs_fields_and_a_pid_only_while_alive() {
        let me = record_of(Pid::this(), true);
        let json: serde_json::Value =
            serde_json::from_str(&to_json(&me, ContainerState::Running)).unwrap();
        for field in ["ociVersion", "id", "status", "bundle", "pid"] {
            assert!(json.get(field).is_some(), "{field} missing in {json}");
        }
        let json: serde_json::Value =
            serde_json::from_str(&to_json(&me, ContainerState::Stopped)).unwrap();
        assert_eq!(json["status"], "stopped");
        assert!(json.get("pid").is_none());
    }

    #[test]
    fn ids_are_one_path_component() {
        assert!(check_id("abc-1_2.3+4").is_ok());
        for bad in ["", ".", "..", "a/b", "a b"] {
            assert!(check_id(bad).is_err(), "{bad:?}");
        }
    }
}
