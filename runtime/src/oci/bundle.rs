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

/// Refuse a sysctl that is not one of the container's own namespaces:
/// written from inside, it would change the host (`vm.swappiness`), as
/// would a namespaced one whose namespace the container shares with the
/// host. The namespaced ones, as runc allows them: `net.*` with a network
/// namespace of its own (or joined), the System V IPC and POSIX queue
/// limits with an IPC namespace, the host and domain names with a UTS one.
pub fn refuse_host_sysctls(sysctl: &[(String, String)], namespaces: &[&str]) -> Result<()> {
    for (key, _) in sysctl {
        let ipc = [
            "kernel.msgmax",
            "kernel.msgmnb",
            "kernel.msgmni",
            "kernel.sem",
        ]
        .contains(&key.as_str())
            || key.starts_with("kernel.shm")
            || key.starts_with("fs.mqueue.");
        let needs = if key.starts_with("net.") {
            "net"
        } else if ipc {
            "ipc"
        } else if key == "kernel.hostname" || key == "kernel.domainname" {
            "uts"
        } else {
            return Err(Error::new(format!(
                "config.json: linux.sysctl: {key} is not a sysctl of a namespace: it would change the host"
            ))
            .fix("remove it from the bundle; set it on the host if the host should have it"));
        };
        if !namespaces.contains(&needs) {
            return Err(Error::new(format!(
                "config.json: linux.sysctl: {key} belongs to the {needs} namespace, which the container shares with the host"
            ))
            .fix(format!("give the container a {needs} namespace, or remove the sysctl")));
        }
    }
    Ok(())
}

/// serde's errors can span lines; the runtime's errors are one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sysctl(key: &str) -> Vec<(String, String)> {
        vec![(key.to_string(), "1".to_string())]
    }

    #[test]
    fn only_sysctls_of_the_containers_own_namespaces_pass() {
        let all = ["net", "ipc", "uts", "mnt"];
        for key in [
            "net.ipv4.ping_group_range",
            "kernel.shmmax",
            "fs.mqueue.msg_max",
            "kernel.hostname",
        ] {
            assert!(refuse_host_sysctls(&sysctl(key), &all).is_ok(), "{key}");
        }
        for key in ["vm.swappiness", "kernel.panic", "fs.file-max"] {
            let error = refuse_host_sysctls(&sysctl(key), &all).unwrap_err();
            assert!(error.to_string().contains(key), "{error}");
        }
        let error = refuse_host_sysctls(&sysctl("net.ipv4.ip_forward"), &["mnt"]).unwrap_err();
        assert!(error.to_string().contains("net namespace"), "{error}");
    }
}
