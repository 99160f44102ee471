//! `just doctor`: is this machine ready for the course? Every problem
//! comes with the command that fixes it.
//!
//! [`gather`] reads the machine; [`diagnose`] is a pure function of what
//! was read, so its verdicts can be tested without a broken machine.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::report::Style;

/// The namespace kinds the course uses, as named in /proc/self/ns.
pub const NAMESPACES: [&str; 7] = ["uts", "ipc", "pid", "mnt", "user", "net", "cgroup"];

/// The tools the checks run, and the Debian package of each.
pub const TOOLS: [(&str, &str); 14] = [
    ("hostname", "hostname"),
    ("uname", "coreutils"),
    ("ipcs", "util-linux"),
    ("ipcmk", "util-linux"),
    ("ipcrm", "util-linux"),
    ("unshare", "util-linux"),
    ("nsenter", "util-linux"),
    ("lsns", "util-linux"),
    ("setpriv", "util-linux"),
    ("ps", "procps"),
    ("ip", "iproute2"),
    ("ping", "iputils-ping"),
    ("busybox", "busybox-static"),
    ("nft", "nftables"),
];

/// Below this much free space, building the course may fail.
pub const MIN_FREE_MIB: u64 = 2048;

/// What [`gather`] read off the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub kernel: String,
    pub root: bool,
    /// Namespace kinds this kernel lacks.
    pub missing_namespaces: Vec<String>,
    /// Did `unshare --user --map-root-user true` work as user `nobody`?
    pub unprivileged_user_namespaces: Option<bool>,
    pub missing_tools: Vec<(String, String)>,
    /// `shared`, `private` or `slave`.
    pub root_propagation: String,
    /// Does `/proc` show this process? Not if a container's `/proc` was
    /// mounted over the host's and outlived its PID namespace.
    pub proc_is_ours: bool,
    pub free_mib: Option<u64>,
    /// Lesson 08: which version each controller uses here, e.g. `memory
    /// v1, pids v1, cpu v2`, and the ones the host lacks.
    pub cgroups: String,
    pub missing_controllers: Vec<String>,
    /// What runtimes left on the host that `just clean` would tidy.
    pub leftovers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub ok: bool,
    pub what: String,
    /// How to fix it, when it is not ok.
    pub fix: Option<String>,
}

fn ok(what: String) -> Finding {
    Finding {
        ok: true,
        what,
        fix: None,
    }
}

fn problem(what: String, fix: String) -> Finding {
    Finding {
        ok: false,
        what,
        fix: Some(fix),
    }
}

pub fn gather() -> Facts {
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    let missing_namespaces = NAMESPACES
        .iter()
        .filter(|kind| !Path::new(&format!("/proc/self/ns/{kind}")).exists())
        .map(|kind| kind.to_string())
        .collect();
    let missing_tools = TOOLS
        .iter()
        .filter(|(tool, _)| which(tool).is_none())
        .map(|(tool, package)| (tool.to_string(), package.to_string()))
        .collect();
    let cgroups = nslab_runtime::cgroup::Cgroups::detect().ok();
    let missing_controllers = nslab_runtime::cgroup::CONTROLLERS
        .iter()
        .filter(|c| !cgroups.as_ref().is_some_and(|found| found.has(c)))
        .map(|c| c.to_string())
        .collect();
    Facts {
        cgroups: cgroups.map_or_else(|| "none found".into(), |found| found.describe()),
        missing_controllers,
        kernel,
        root: nix::unistd::geteuid().is_root(),
        missing_namespaces,
        unprivileged_user_namespaces: probe_unprivileged_user_namespace(),
        missing_tools,
        root_propagation: root_propagation(
            &std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default(),
        ),
        proc_is_ours: std::fs::read_link("/proc/self")
            .is_ok_and(|pid| pid.to_string_lossy() == std::process::id().to_string()),
        free_mib: nix::sys::statvfs::statvfs(".")
            .ok()
            .map(|fs| fs.blocks_available() * fs.fragment_size() / (1024 * 1024)),
        leftovers: nslab_runtime::leftovers::look(),
    }
}

pub fn diagnose(facts: &Facts) -> Vec<Finding> {
    let mut findings = Vec::new();
    let (major, minor) = kernel_version(&facts.kernel);
    findings.push(if (major, minor) >= (5, 10) {
        ok(format!("kernel {}", facts.kernel))
    } else {
        problem(
            format!("kernel {} is older than 5.10", facts.kernel),
            "use a current Debian or Ubuntu VM (the course is tested on 6.x)".into(),
        )
    });
    findings.push(if facts.root {
        ok("running as root".into())
    } else {
        problem(
            "not running as root: the checks create namespaces".into(),
            "run as root in your course VM: `sudo -i`, then `just ...`".into(),
        )
    });
    // The namespaces, the user namespace probe and the propagation are
    // all read from /proc: with a broken /proc they would be wrong too.
    findings.push(if facts.proc_is_ours {
        ok("/proc shows this machine's processes".into())
    } else {
        problem(
            "/proc does not show this machine's processes: a container's /proc was mounted \
             over the host's (`ps` says \"Error, do this: mount -t proc proc /proc\")"
                .into(),
            "`umount /proc` (again, if `ps` still fails), then `just doctor` again: what it \
             reads from /proc is wrong until then (the book's Troubleshooting page, \
             \"A broken /proc on the host\", explains it)"
                .into(),
        )
    });
    if !facts.proc_is_ours {
        findings.extend(tools_and_disk(facts));
        return findings;
    }
    findings.push(if facts.missing_namespaces.is_empty() {
        ok(format!("namespaces: {}", NAMESPACES.join(", ")))
    } else {
        problem(
            format!(
                "this kernel lacks namespaces: {}",
                facts.missing_namespaces.join(", ")
            ),
            "use a kernel built with CONFIG_NAMESPACES and each CONFIG_*_NS".into(),
        )
    });
    findings.push(match facts.unprivileged_user_namespaces {
        Some(true) => ok("unprivileged user namespaces work (lesson 05)".into()),
        Some(false) => problem(
            "a normal user cannot create a user namespace (lesson 05 needs it)".into(),
            "`sysctl -w user.max_user_namespaces=15000 kernel.unprivileged_userns_clone=1`; \
             on Ubuntu 24.04 also `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`"
                .into(),
        ),
        None => problem(
            "could not test unprivileged user namespaces (needs root, setpriv and unshare)".into(),
            "run `just doctor` as root after `bash setup.sh`".into(),
        ),
    });
    findings.push(if facts.missing_controllers.is_empty() {
        ok(format!(
            "cgroups: {} (lesson 08 writes v2's files; on a v1 tree the runtime writes v1's)",
            facts.cgroups
        ))
    } else {
        let missing = facts.missing_controllers.join(" ");
        let enable: Vec<String> = facts
            .missing_controllers
            .iter()
            .map(|c| format!("+{c}"))
            .collect();
        problem(
            format!(
                "cgroups: {}; lesson 08's limits need memory, pids and cpu",
                facts.cgroups
            ),
            format!(
                "on a cgroup v2 host, hand them to the root's children: `echo '{}' > \
                 /sys/fs/cgroup/cgroup.subtree_control` (if `cat /sys/fs/cgroup/cgroup.controllers` \
                 lists {missing}); otherwise boot a kernel with them",
                enable.join(" ")
            ),
        )
    });
    findings.push(ok(match facts.root_propagation.as_str() {
        "shared" => "the root mount is shared (the systemd default): lesson 04 makes it private \
                     inside the container before mounting anything"
            .into(),
        other => format!(
            "the root mount is {other}; on systemd hosts it is shared, and lesson 04 handles both"
        ),
    }));
    findings.extend(tools_and_disk(facts));
    findings.push(if facts.leftovers.is_empty() {
        ok("no leftovers of earlier runs on the host".into())
    } else {
        problem(
            format!("leftovers of earlier runs: {}", facts.leftovers.join("; ")),
            "run `just clean` (as root, it tidies every user's)".into(),
        )
    });
    findings
}

/// The findings that do not depend on /proc.
fn tools_and_disk(facts: &Facts) -> Vec<Finding> {
    let mut findings = Vec::new();
    findings.push(if facts.missing_tools.is_empty() {
        ok("every tool the checks use is installed".into())
    } else {
        let tools: Vec<&str> = facts
            .missing_tools
            .iter()
            .map(|(t, _)| t.as_str())
            .collect();
        let mut packages: Vec<&str> = facts
            .missing_tools
            .iter()
            .map(|(_, p)| p.as_str())
            .collect();
        packages.sort();
        packages.dedup();
        problem(
            format!("missing tools: {}", tools.join(", ")),
            format!(
                "`apt-get install {}` (or `bash setup.sh`)",
                packages.join(" ")
            ),
        )
    });
    findings.push(match facts.free_mib {
        Some(free) if free >= MIN_FREE_MIB => ok(format!("{free} MiB free on disk")),
        Some(free) => problem(
            format!("only {free} MiB free on disk; building the course needs about {MIN_FREE_MIB}"),
            "free some space, or `cargo clean` in an old checkout".into(),
        ),
        None => problem(
            "cannot tell how much disk space is free".into(),
            "check with `df -h .`".into(),
        ),
    });
    findings
}

pub fn render(findings: &[Finding], style: &Style) -> String {
    let mut text = String::new();
    for finding in findings {
        let mark = if finding.ok {
            style.pass()
        } else {
            style.fail()
        };
        text.push_str(&format!("{mark} {}\n", finding.what));
        if let Some(fix) = &finding.fix {
            text.push_str(&format!("    fix: {fix}\n"));
        }
    }
    let problems = findings.iter().filter(|f| !f.ok).count();
    text.push_str(&match problems {
        0 => "This machine is ready for the course.\n".to_string(),
        n => format!("{n} problem(s) to fix before the course works here.\n"),
    });
    text
}

fn kernel_version(release: &str) -> (u32, u32) {
    let mut numbers = release
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok());
    (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0))
}

/// The propagation of the mount at `/`, from mountinfo's optional fields.
pub fn root_propagation(mountinfo: &str) -> String {
    let root = mountinfo
        .lines()
        .rfind(|line| line.split_whitespace().nth(4) == Some("/"))
        .unwrap_or("");
    let optional: Vec<&str> = root
        .split_whitespace()
        .skip(6)
        .take_while(|field| *field != "-")
        .collect();
    if optional.iter().any(|f| f.starts_with("shared:")) {
        "shared".into()
    } else if optional.iter().any(|f| f.starts_with("master:")) {
        "slave".into()
    } else {
        "private".into()
    }
}

fn which(tool: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|dir| dir.join(tool))
        .find(|candidate| candidate.is_file())
}

/// Really try it: as `nobody`, create a user namespace and map root.
fn probe_unprivileged_user_namespace() -> Option<bool> {
    if !nix::unistd::geteuid().is_root() || which("setpriv").is_none() || which("unshare").is_none()
    {
        return None;
    }
    let status = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .args(["unshare", "--user", "--map-root-user", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    Some(status.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn healthy() -> Facts {
        Facts {
            kernel: "6.1.0-13-amd64".into(),
            root: true,
            missing_namespaces: vec![],
            unprivileged_user_namespaces: Some(true),
            missing_tools: vec![],
            root_propagation: "shared".into(),
            proc_is_ours: true,
            free_mib: Some(20_000),
            cgroups: "memory v2, pids v2, cpu v2".into(),
            missing_controllers: vec![],
            leftovers: vec![],
        }
    }

    #[test]
    fn a_healthy_machine_has_no_problems() {
        let text = render(&diagnose(&healthy()), &Style::plain());
        assert!(
            text.ends_with("This machine is ready for the course.\n"),
            "{text}"
        );
        assert!(!text.contains('✗'), "{text}");
        insta::assert_snapshot!("doctor-on-a-healthy-machine", text);
    }

    #[test]
    fn every_problem_comes_with_a_fix() {
        let broken = Facts {
            kernel: "4.19.0".into(),
            root: false,
            missing_namespaces: vec!["user".into()],
            unprivileged_user_namespaces: Some(false),
            missing_tools: [
                ("ipcs", "util-linux"),
                ("ip", "iproute2"),
                ("lsns", "util-linux"),
            ]
            .map(|(tool, package)| (tool.into(), package.into()))
            .to_vec(),
            root_propagation: "private".into(),
            proc_is_ours: true,
            free_mib: Some(100),
            cgroups: "memory v2, pids missing, cpu missing".into(),
            missing_controllers: vec!["pids".into(), "cpu".into()],
            leftovers: vec!["root: /run/nslab/containers/4194305 (its runtime is gone)".into()],
        };
        let findings = diagnose(&broken);
        let problems: Vec<&Finding> = findings.iter().filter(|f| !f.ok).collect();
        assert_eq!(problems.len(), 8, "{findings:#?}");
        assert!(problems.iter().all(|f| f.fix.is_some()));
        let text = render(&findings, &Style::plain());
        assert!(
            text.contains("`apt-get install iproute2 util-linux`"),
            "{text}"
        );
        assert!(
            text.contains("`echo '+pids +cpu' > /sys/fs/cgroup/cgroup.subtree_control`"),
            "{text}"
        );
    }

    /// With a container's /proc over the host's, what the doctor reads
    /// from /proc is wrong: it says only what it can still trust.
    #[test]
    fn a_broken_proc_is_fixed_first() {
        let broken_proc = Facts {
            missing_namespaces: NAMESPACES.map(String::from).to_vec(),
            unprivileged_user_namespaces: Some(false),
            proc_is_ours: false,
            ..healthy()
        };
        let findings = diagnose(&broken_proc);
        let problems: Vec<&Finding> = findings.iter().filter(|f| !f.ok).collect();
        assert_eq!(problems.len(), 1, "{findings:#?}");
        assert!(problems[0].fix.as_ref().unwrap().contains("`umount /proc`"));
        assert!(!findings.iter().any(|f| f.what.contains("namespace")));
    }

    #[test]
    fn propagation_of_the_root_mount() {
        let shared = "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n";
        let private = "22 1 254:1 / / rw,relatime - ext4 /dev/vda rw\n";
        assert_eq!(root_propagation(shared), "shared");
        assert_eq!(root_propagation(private), "private");
    }
}
