//! The container's `/etc/hostname`, `/etc/hosts` and `/etc/resolv.conf`,
//! generated on the host for each container, like the articles' `conf/`
//! directory and Docker's per-container copies. Lesson 04 bind-mounts
//! them read-only over the rootfs's own, so an image never hard-codes
//! them; lesson 06 adds the container's address to `hosts`.

use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::error::{Context, Result};

// ANCHOR: files
/// The files, by their name in the container's `/etc`.
pub const FILES: [&str; 3] = ["hostname", "hosts", "resolv.conf"];

/// Write the three files for a container called `hostname` into `dir`,
/// with `extra_hosts` (address, name) in `hosts` after the usual lines,
/// and return the paths written, in the order of [`FILES`].
pub fn write(dir: &Path, hostname: &str, extra_hosts: &[(IpAddr, &str)]) -> Result<Vec<PathBuf>> {
    let host_resolv = fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let contents = [
        format!("{hostname}\n"),
        hosts(hostname, extra_hosts),
        resolv_conf(&host_resolv),
    ];
    FILES
        .iter()
        .zip(contents)
        .map(|(name, content)| {
            let path = dir.join(name);
            fs::write(&path, content)
                .with_context(|| format!("write the container's {}", path.display()))?;
            Ok(path)
        })
        .collect()
}

/// Add `address name` to the `hosts` file written in `dir`, if there is
/// one (lesson 06: the container's address, once it has one).
pub fn add_host(dir: &Path, address: IpAddr, name: &str) -> Result<()> {
    let path = dir.join("hosts");
    let Ok(text) = fs::read_to_string(&path) else {
        return Ok(());
    };
    fs::write(&path, format!("{text}{address}\t{name}\n"))
        .with_context(|| format!("add {address} to {}", path.display()))
}

/// `/etc/hosts`: the loopback names, the container's own name on
/// loopback (so it can always resolve itself), then `extra`.
pub fn hosts(hostname: &str, extra: &[(IpAddr, &str)]) -> String {
    let mut text = format!(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{hostname}\n"
    );
    for (address, name) in extra {
        text.push_str(&format!("{address}\t{name}\n"));
    }
    text
}

/// The host's `resolv.conf` without its loopback name servers. A server on
/// 127.0.0.53 (systemd-resolved) or ::1 listens in the *host's* network
/// namespace; from a container's own loopback nothing answers there.
pub fn resolv_conf(host: &str) -> String {
    host.lines()
        .filter(|line| {
            let mut words = line.split_whitespace();
            let server = (words.next() == Some("nameserver")).then(|| words.next());
            !server
                .flatten()
                .and_then(|address| address.parse::<IpAddr>().ok())
                .is_some_and(|address| address.is_loopback())
        })
        .map(|line| format!("{line}\n"))
        .collect()
}
// ANCHOR_END: files

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_names_the_container_and_takes_extra_entries() {
        let text = hosts("box", &[("10.88.0.2".parse().unwrap(), "box")]);
        assert!(text.starts_with("127.0.0.1\tlocalhost\n"));
        assert!(text.contains("127.0.1.1\tbox\n"));
        assert!(text.ends_with("10.88.0.2\tbox\n"));
    }

    #[test]
    fn resolv_conf_drops_only_loopback_servers() {
        let host = "# a comment\nnameserver 127.0.0.53\nnameserver ::1\nnameserver 192.0.2.1\n\
                    options edns0\nsearch example.org\n";
        assert_eq!(
            resolv_conf(host),
            "# a comment\nnameserver 192.0.2.1\noptions edns0\nsearch example.org\n"
        );
    }

    #[test]
    fn the_files_are_written_in_order() {
        let dir = crate::scratch::Scratch::new("conf");
        let written = write(&dir.0, "box", &[]).unwrap();
        assert_eq!(written, FILES.map(|name| dir.0.join(name)));
        assert_eq!(fs::read_to_string(&written[0]).unwrap(), "box\n");
        add_host(&dir.0, "10.77.0.2".parse().unwrap(), "box").unwrap();
        let hosts = fs::read_to_string(&written[1]).unwrap();
        assert!(
            hosts.ends_with("127.0.1.1\tbox\n10.77.0.2\tbox\n"),
            "{hosts:?}"
        );
    }

    #[test]
    fn add_host_needs_a_hosts_file() {
        let dir = crate::scratch::Scratch::new("no-hosts");
        add_host(&dir.0, "10.77.0.2".parse().unwrap(), "box").unwrap();
        assert!(!dir.0.join("hosts").exists());
    }
}
