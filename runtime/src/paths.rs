//! Paths inside a root filesystem, resolved the way the container will
//! see them.
//!
//! A runtime that mounts or creates something at `rootfs.join(path)`
//! lets the image decide where that lands on the host: a symlink
//! `data -> /etc` in the image turns `/data/x` into the host's `/etc/x`,
//! and `../../etc` needs no symlink at all. [`resolve_in_root`] follows
//! symlinks and `..` one component at a time *as if the rootfs were `/`*,
//! like `openat2(2)` with `RESOLVE_IN_ROOT`, and refuses a path that
//! climbs above it.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs;
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

/// Linux gives up after 40 symlinks in one path (`ELOOP`); so do we.
const MAX_SYMLINKS: usize = 40;

// ANCHOR: resolve_in_root
/// Where the absolute container path `path` is on the host, under `root`:
/// symlinks met on the way are followed inside `root` (an absolute target
/// starts again at `root`), and the part that does not exist yet is kept
/// as it is. Refuses, with the reason, a path whose `..` would climb above
/// `root`.
pub fn resolve_in_root(root: &Path, path: &Path) -> Result<PathBuf, String> {
    if !path.is_absolute() {
        return Err(format!("{} is not an absolute path", path.display()));
    }
    let mut pending: VecDeque<OsString> = components(path);
    let mut resolved: Vec<OsString> = Vec::new();
    let mut symlinks = 0;
    while let Some(name) = pending.pop_front() {
        if name == ".." {
            if resolved.pop().is_none() {
                return Err(format!(
                    "{} climbs above the container's / with `..`",
                    path.display()
                ));
            }
            continue;
        }
        let on_host = resolved
            .iter()
            .fold(root.to_path_buf(), |p, c| p.join(c))
            .join(&name);
        match fs::symlink_metadata(&on_host) {
            Ok(meta) if meta.file_type().is_symlink() => {
                symlinks += 1;
                if symlinks > MAX_SYMLINKS {
                    return Err(format!("{} has too many symlinks", path.display()));
                }
                let target = fs::read_link(&on_host)
                    .map_err(|e| format!("read the symlink {}: {e}", on_host.display()))?;
                if target.is_absolute() {
                    resolved.clear();
                }
                for component in components(&target).into_iter().rev() {
                    pending.push_front(component);
                }
            }
            Ok(_) => resolved.push(name),
            Err(e) if e.kind() == ErrorKind::NotFound => resolved.push(name),
            Err(e) => return Err(format!("look at {}: {e}", on_host.display())),
        }
    }
    Ok(resolved.iter().fold(root.to_path_buf(), |p, c| p.join(c)))
}
// ANCHOR_END: resolve_in_root

/// The names in `path`, with `..` kept and `/` and `.` dropped.
fn components(path: &Path) -> VecDeque<OsString> {
    path.components()
        .filter_map(|component| match component {
            Component::Normal(name) => Some(name.to_os_string()),
            Component::ParentDir => Some("..".into()),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scratch::Scratch;
    use std::os::unix::fs::symlink;

    /// A root with a directory `srv/data` in it.
    fn root(name: &str) -> Scratch {
        let root = Scratch::new(name);
        fs::create_dir_all(root.0.join("srv/data")).unwrap();
        root
    }

    #[test]
    fn plain_and_missing_paths_stay_where_they_are() {
        let root = root("plain");
        let resolve = |p: &str| resolve_in_root(&root.0, Path::new(p));
        assert_eq!(resolve("/srv/data").unwrap(), root.0.join("srv/data"));
        assert_eq!(resolve("/srv/./new/x").unwrap(), root.0.join("srv/new/x"));
        assert_eq!(
            resolve("/srv/data/../data").unwrap(),
            root.0.join("srv/data")
        );
        assert_eq!(resolve("/").unwrap(), root.0);
        assert!(resolve("srv").is_err(), "relative paths are refused");
    }

    #[test]
    fn symlinks_are_followed_inside_the_root() {
        let root = root("symlinks");
        symlink("/etc", root.0.join("etc-link")).unwrap();
        symlink("srv/data", root.0.join("data")).unwrap();
        symlink("../../../../etc", root.0.join("srv/up")).unwrap();
        let resolve = |p: &str| resolve_in_root(&root.0, Path::new(p));
        // An absolute target means the container's /etc, not the host's.
        assert_eq!(resolve("/etc-link/x").unwrap(), root.0.join("etc/x"));
        assert_eq!(resolve("/data/x").unwrap(), root.0.join("srv/data/x"));
        assert!(resolve("/srv/up/x").unwrap_err().contains("climbs above"));
        assert!(resolve("/../etc").unwrap_err().contains("climbs above"));
    }

    #[test]
    fn a_symlink_loop_is_refused() {
        let root = root("loop");
        symlink("/b", root.0.join("a")).unwrap();
        symlink("/a", root.0.join("b")).unwrap();
        assert!(
            resolve_in_root(&root.0, Path::new("/a/x"))
                .unwrap_err()
                .contains("too many symlinks")
        );
    }
}
