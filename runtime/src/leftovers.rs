//! What a container can leave on the host, all kinds together: the list
//! of undo kinds that `just clean` and the end of every run replay, and
//! `just doctor`'s look at leftovers. A lesson that leaves something new
//! on the host (lesson 08's cgroups) adds its kind here, and
//! `state.rs` stays as it is.

use std::path::Path;

use nix::unistd::{Pid, Uid};

use crate::error::Result;
use crate::state::{self, Tidy, Undo};
use crate::{cgroup, netns, network, oci, registry};

/// Every kind of undo record, in the order lessons make them (lesson 06's
/// lease, lesson 07's name and kept network namespace, lesson 08's
/// cgroup); they are undone in the reverse order.
pub const UNDO_KINDS: &[&dyn Undo] = &[
    &network::LeaseUndo,
    &registry::NameUndo,
    &netns::KeptNetnsUndo,
    &cgroup::CgroupUndo,
];

/// `just clean` for one state directory.
pub fn clean(state_root: &Path) -> Result<Vec<String>> {
    let mut done = state::clean(state_root, UNDO_KINDS)?;
    // Lesson 11: OCI containers whose process is gone, under the default
    // `--root` (an engine's own --root is the engine's to clean).
    done.extend(oci::lifecycle::clean(
        &oci::state::default_root_of(state_root),
        UNDO_KINDS,
    ));
    Ok(done)
}

/// `just clean` for the one runtime `runtime` a tool has just killed.
pub fn clean_up_after(state_root: &Path, runtime: Pid) -> Result<Vec<String>> {
    state::clean_up_after(state_root, runtime, UNDO_KINDS)
}

/// `just clean`: this user's state directory; as root, every user's that
/// can be found, each sentence saying whose. Returns the directories
/// looked at, and what was done.
pub fn clean_everyones() -> Result<(Vec<String>, Vec<String>)> {
    let mut looked = Vec::new();
    let mut done = Vec::new();
    for (uid, root) in roots() {
        let whose = whose(uid);
        looked.push(format!("{} ({whose})", root.display()));
        done.extend(
            clean(&root)?
                .into_iter()
                .map(|line| format!("{whose}: {line}")),
        );
    }
    if Uid::effective().is_root() {
        done.extend(cgroup::remove_empty_parents());
    }
    Ok((looked, done))
}

/// What `just clean` would tidy, without tidying it: for `just doctor`.
pub fn look() -> Vec<String> {
    let mut found = Vec::new();
    for (uid, root) in roots() {
        let whose = whose(uid);
        for dir in state::leftovers(&root) {
            let records = state::records(&dir);
            let records = if records.is_empty() {
                String::new()
            } else {
                format!(", undo records {}", records.join(", "))
            };
            found.push(format!(
                "{whose}: {} (its runtime is gone{records})",
                dir.display()
            ));
        }
        for kind in UNDO_KINDS {
            let looked = kind.sweep(&root, Tidy::Look).unwrap_or_default();
            found.extend(looked.into_iter().map(|line| format!("{whose}: {line}")));
        }
    }
    found
}

/// Before a run of the checks: refuse to start on a host with leftovers,
/// whose removal by correct code the host guard would blame on it, in one
/// message that lists them and names the fix.
pub fn refuse_if_any() -> std::result::Result<(), String> {
    let found = look();
    if found.is_empty() {
        return Ok(());
    }
    Err(format!(
        "leftovers of an earlier run: run `just clean`, then this again. Found:\n{}",
        found
            .iter()
            .map(|line| format!("  - {line}"))
            .collect::<Vec<_>>()
            .join("\n")
    ))
}

/// The state directories to tidy: as root, every user's; otherwise ours.
fn roots() -> Vec<(u32, std::path::PathBuf)> {
    if Uid::effective().is_root() {
        state::every_users_root()
    } else {
        vec![(Uid::effective().as_raw(), state::root())]
    }
}

/// `root`, `nobody (65534)`: a user by name where the host knows it.
fn whose(uid: u32) -> String {
    match nix::unistd::User::from_uid(Uid::from_raw(uid)) {
        Ok(Some(user)) if uid == 0 => user.name,
        Ok(Some(user)) => format!("{} ({uid})", user.name),
        _ => format!("uid {uid}"),
    }
}
