//! Lesson 11: an OCI bundle (a directory with `config.json` and a root
//! filesystem) mapped onto what lessons 00 to 07 already do.
//!
//! `config.json` is read with the `oci-spec` crate's types (the youki
//! project's); this module decides what each field means here. What the
//! course does not do yet fails `create` with one line naming the field.
//! Fields a later lesson will honour (cgroups: 08; capabilities, seccomp,
//! masked paths: 10) are accepted with a warning until it lands, because
//! podman always sends them and nothing would run otherwise.

use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxNamespaceType, Mount, Spec};

use crate::config::{Config, IdMap, OciProcess, Rlimit, Volume};
use crate::error::{Context, Error, Result};

/// The major version of the runtime spec this runtime speaks.
pub const SPEC_MAJOR: &str = "1";

/// What `create` makes of a bundle.
#[derive(Debug)]
pub struct Plan {
    /// The container as the lessons know it.
    pub config: Config,
    /// The namespaces to create, by `/proc/PID/ns` name (`mnt`, `net`).
    pub create: Vec<String>,
    /// Fields accepted but not honoured yet, one sentence each.
    pub warnings: Vec<String>,
}

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

/// The kernel filesystems lesson 04 mounts itself, by target and type.
const LESSON_04_MOUNTS: [(&str, &str); 6] = [
    ("/proc", "proc"),
    ("/dev", "tmpfs"),
    ("/sys", "sysfs"),
    ("/dev/pts", "devpts"),
    ("/dev/mqueue", "mqueue"),
    ("/dev/shm", "tmpfs"),
];

/// Options of a bind mount this runtime honours; `ro` makes it read-only.
const BIND_OPTIONS: [&str; 6] = ["bind", "rbind", "ro", "rw", "private", "rprivate"];

/// Options of a bind mount that are not applied yet (every lesson 04
/// bind mount keeps the flags of its source).
const BIND_OPTIONS_IGNORED: [&str; 3] = ["nosuid", "nodev", "noexec"];

// ANCHOR: map_spec
/// What the bundle at `bundle` (its `config.json` already read into
/// `spec`) asks of the lessons.
pub fn map_spec(spec: &Spec, bundle: &Path) -> Result<Plan> {
    let mut warnings = Vec::new();
    check_version(spec.version())?;
    let process = spec
        .process()
        .as_ref()
        .ok_or_else(|| unsupported("process", "config.json has no process: nothing to run"))?;
    if process.terminal().unwrap_or(false) {
        return Err(unsupported(
            "process.terminal",
            "a terminal is not supported",
        ));
    }
    let args = process.args().clone().unwrap_or_default();
    if args.is_empty() {
        return Err(unsupported("process.args", "the process has no arguments"));
    }
    for (field, set) in [
        (
            "process.apparmorProfile",
            process.apparmor_profile().is_some(),
        ),
        ("process.selinuxLabel", process.selinux_label().is_some()),
        ("process.oomScoreAdj", process.oom_score_adj().is_some()),
        ("process.ioPriority", process.io_priority().is_some()),
        ("process.scheduler", process.scheduler().is_some()),
        ("process.commandLine", process.command_line().is_some()),
    ] {
        if set {
            return Err(unsupported(field, "not supported by this runtime"));
        }
    }
    if process.capabilities().is_some() {
        warnings.push(later("process.capabilities", 10));
    }
    if process.no_new_privileges().unwrap_or(false) {
        warnings.push(later("process.noNewPrivileges", 10));
    }
    let root = spec
        .root()
        .as_ref()
        .ok_or_else(|| unsupported("root", "config.json has no root"))?;
    if root.readonly().unwrap_or(false) {
        return Err(unsupported(
            "root.readonly",
            "a read-only root is lesson 10's",
        ));
    }
    let rootfs = in_bundle(bundle, root.path());
    if let Some(hooks) = spec.hooks() {
        let any = [
            hooks.prestart().is_some(),
            hooks.create_runtime().is_some(),
            hooks.create_container().is_some(),
            hooks.start_container().is_some(),
            hooks.poststart().is_some(),
            hooks.poststop().is_some(),
        ];
        if any.contains(&true) {
            return Err(unsupported("hooks", "OCI hooks are not supported"));
        }
    }

    let mut volumes = Vec::new();
    for (index, mount) in spec.mounts().iter().flatten().enumerate() {
        match map_mount(mount, bundle, index, &mut warnings)? {
            Some(volume) => volumes.push(volume),
            None => continue,
        }
    }

    let linux = spec
        .linux()
        .as_ref()
        .ok_or_else(|| unsupported("linux", "config.json has no linux section"))?;
    let mut create = Vec::new();
    let mut join = Vec::new();
    for namespace in linux.namespaces().iter().flatten() {
        let kind = namespace.typ().to_string();
        match (namespace.path(), namespace.typ()) {
            (None, _) => create.push(kind),
            (
                Some(path),
                LinuxNamespaceType::Network | LinuxNamespaceType::Ipc | LinuxNamespaceType::Uts,
            ) => join.push((kind, path.clone())),
            (Some(_), _) => {
                return Err(unsupported(
                    "linux.namespaces",
                    &format!("joining a {kind} namespace by path is not supported"),
                ));
            }
        }
    }
    if !create.iter().any(|kind| kind == "mnt") {
        return Err(unsupported(
            "linux.namespaces",
            "a container without a mount namespace of its own is not supported",
        ));
    }
    let maps = |maps: &Option<Vec<oci_spec::runtime::LinuxIdMapping>>| -> Vec<IdMap> {
        maps.iter()
            .flatten()
            .map(|m| IdMap {
                inside: m.container_id(),
                outside: m.host_id(),
                count: m.size(),
            })
            .collect()
    };
    let (uid_maps, gid_maps) = (maps(linux.uid_mappings()), maps(linux.gid_mappings()));
    if create.iter().any(|kind| kind == "user") && uid_maps.is_empty() {
        return Err(unsupported(
            "linux.uidMappings",
            "a user namespace needs its maps",
        ));
    }
    for (field, set) in [
        (
            "linux.devices",
            linux.devices().as_ref().is_some_and(|d| !d.is_empty()),
        ),
        (
            "linux.rootfsPropagation",
            linux.rootfs_propagation().is_some(),
        ),
        ("linux.mountLabel", linux.mount_label().is_some()),
        ("linux.intelRdt", linux.intel_rdt().is_some()),
        ("linux.personality", linux.personality().is_some()),
        ("linux.timeOffsets", linux.time_offsets().is_some()),
        ("linux.netDevices", linux.net_devices().is_some()),
        ("linux.memoryPolicy", linux.memory_policy().is_some()),
    ] {
        if set {
            return Err(unsupported(field, "not supported by this runtime"));
        }
    }
    for (field, set, lesson) in [
        ("linux.resources", linux.resources().is_some(), 8),
        ("linux.cgroupsPath", linux.cgroups_path().is_some(), 8),
        ("linux.seccomp", linux.seccomp().is_some(), 10),
        ("linux.maskedPaths", linux.masked_paths().is_some(), 10),
        ("linux.readonlyPaths", linux.readonly_paths().is_some(), 10),
    ] {
        if set {
            warnings.push(later(field, lesson));
        }
    }
    let sysctl: Vec<(String, String)> = linux
        .sysctl()
        .iter()
        .flatten()
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();

    let rlimits = process
        .rlimits()
        .iter()
        .flatten()
        .map(|limit| {
            let name = limit.typ().to_string();
            let resource = rlimit_number(&name).ok_or_else(|| {
                unsupported(
                    "process.rlimits",
                    &format!("{name} is not a limit of Linux"),
                )
            })?;
            Ok(Rlimit {
                resource,
                soft: limit.soft(),
                hard: limit.hard(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let user = process.user();
    let config = Config {
        quiet: true,
        hostname: spec.hostname().clone().unwrap_or_default(),
        domainname: spec.domainname().clone(),
        rootfs: Some(rootfs),
        volumes,
        uid_maps,
        gid_maps,
        command: args,
        oci: Some(Box::new(OciProcess {
            env: process.env().clone().unwrap_or_default(),
            cwd: process.cwd().clone(),
            uid: user.uid(),
            gid: user.gid(),
            additional_gids: user.additional_gids().clone().unwrap_or_default(),
            rlimits,
            sysctl,
            join,
            wait_for_start: true,
        })),
        ..Config::default()
    };
    Ok(Plan {
        config,
        create,
        warnings,
    })
}
// ANCHOR_END: map_spec

/// Refuse a namespace to create that no lesson of this binary makes (a
/// `cgroup` namespace before lesson 08 has one): without this it would
/// simply not be made, and the container would share the host's.
pub fn refuse_namespaces_not_made(plan: &Plan, made: &[&str]) -> Result<()> {
    match plan
        .create
        .iter()
        .find(|kind| !made.contains(&kind.as_str()))
    {
        Some(kind) => Err(unsupported(
            "linux.namespaces",
            &format!(
                "a {kind} namespace is not made by this runtime (it makes {})",
                made.join(", ")
            ),
        )),
        None => Ok(()),
    }
}

/// Refuse a spec version whose major is not ours: a version 2 may mean
/// something else by the same fields.
fn check_version(version: &str) -> Result<()> {
    let major = version.split('.').next().unwrap_or_default();
    if major == SPEC_MAJOR {
        return Ok(());
    }
    Err(Error::new(format!(
        "config.json: ociVersion {version:?} is not a version {SPEC_MAJOR}.x of the runtime spec"
    ))
    .fix("give a bundle made for runtime spec 1.x (runc and podman write 1.0.2 and later)"))
}

/// One mount of the spec: nothing to do (lesson 04 makes it), a volume
/// (a bind mount), or a refusal naming it.
fn map_mount(
    mount: &Mount,
    bundle: &Path,
    index: usize,
    warnings: &mut Vec<String>,
) -> Result<Option<Volume>> {
    let target = mount.destination();
    let kind = mount.typ().clone().unwrap_or_default();
    let options = mount.options().clone().unwrap_or_default();
    let field = format!("mounts[{index}] ({})", target.display());
    let is_bind = kind == "bind" || options.iter().any(|o| o == "bind" || o == "rbind");
    if !is_bind {
        if LESSON_04_MOUNTS.contains(&(&target.to_string_lossy(), kind.as_str())) {
            return Ok(None);
        }
        if kind == "cgroup" || kind == "cgroup2" {
            warnings.push(later(&format!("{field}, the cgroup filesystem,"), 8));
            return Ok(None);
        }
        return Err(unsupported(
            &field,
            &format!("a {kind:?} mount is not supported"),
        ));
    }
    for option in &options {
        if BIND_OPTIONS_IGNORED.contains(&option.as_str()) {
            warnings.push(format!("{field}: the option {option} is not applied"));
        } else if !BIND_OPTIONS.contains(&option.as_str()) {
            return Err(unsupported(
                &field,
                &format!("the mount option {option:?} is not supported"),
            ));
        }
    }
    let source = mount
        .source()
        .as_ref()
        .ok_or_else(|| unsupported(&field, "a bind mount needs a source"))?;
    Ok(Some(Volume {
        host: in_bundle(bundle, source),
        container: target.clone(),
        read_only: options.iter().any(|o| o == "ro"),
    }))
}

/// A path of the spec: relative ones are relative to the bundle.
fn in_bundle(bundle: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        bundle.join(path)
    }
}

/// `RLIMIT_NOFILE` and the others, by the name the spec gives them.
fn rlimit_number(name: &str) -> Option<u32> {
    let known = [
        ("RLIMIT_CPU", libc::RLIMIT_CPU),
        ("RLIMIT_FSIZE", libc::RLIMIT_FSIZE),
        ("RLIMIT_DATA", libc::RLIMIT_DATA),
        ("RLIMIT_STACK", libc::RLIMIT_STACK),
        ("RLIMIT_CORE", libc::RLIMIT_CORE),
        ("RLIMIT_RSS", libc::RLIMIT_RSS),
        ("RLIMIT_NPROC", libc::RLIMIT_NPROC),
        ("RLIMIT_NOFILE", libc::RLIMIT_NOFILE),
        ("RLIMIT_MEMLOCK", libc::RLIMIT_MEMLOCK),
        ("RLIMIT_AS", libc::RLIMIT_AS),
        ("RLIMIT_LOCKS", libc::RLIMIT_LOCKS),
        ("RLIMIT_SIGPENDING", libc::RLIMIT_SIGPENDING),
        ("RLIMIT_MSGQUEUE", libc::RLIMIT_MSGQUEUE),
        ("RLIMIT_NICE", libc::RLIMIT_NICE),
        ("RLIMIT_RTPRIO", libc::RLIMIT_RTPRIO),
        ("RLIMIT_RTTIME", libc::RLIMIT_RTTIME),
    ];
    known
        .iter()
        .find(|(known, _)| *known == name)
        // The constants are u32 with glibc, c_int with musl.
        .map(|&(_, number)| {
            #[allow(clippy::unnecessary_cast)]
            let number = number as u32;
            number
        })
}

fn unsupported(field: &str, why: &str) -> Error {
    Error::new(format!("config.json: {field}: {why}"))
        .fix("remove it from the bundle, or use runc for this container")
}

fn later(field: &str, lesson: u8) -> String {
    format!("config.json: {field} is not applied yet (lesson {lesson:02} will)")
}

/// serde's errors can span lines; the runtime's errors are one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The config.json podman 4.3 wrote for `podman run --network none
    /// --rootfs ROOTFS sh -c 'exit 42'` (its seccomp rules shortened).
    const PODMAN: &str = include_str!("testdata/podman-config.json");

    fn podman_spec() -> Spec {
        serde_json::from_str(PODMAN).expect("podman's config.json parses")
    }

    #[test]
    fn podmans_bundle_maps_onto_the_lessons() {
        let plan = map_spec(&podman_spec(), Path::new("/bundle")).expect("podman's bundle maps");
        assert_eq!(plan.config.command, ["sh", "-c", "exit 42"]);
        // With --network none podman asks for a new network namespace.
        assert_eq!(plan.create, ["pid", "net", "ipc", "uts", "mnt"]);
        let oci = plan.config.oci.expect("OCI process settings");
        assert!(oci.join.is_empty());
        assert!(oci.env.iter().any(|v| v.starts_with("HOSTNAME=")));
        let targets: Vec<String> = plan
            .config
            .volumes
            .iter()
            .map(|v| v.container.display().to_string())
            .collect();
        assert_eq!(
            targets,
            [
                "/etc/hosts",
                "/dev/shm",
                "/run/.containerenv",
                "/etc/hostname"
            ]
        );
        for later in ["capabilities", "linux.resources", "cgroupsPath", "seccomp"] {
            assert!(
                plan.warnings.iter().any(|w| w.contains(later)),
                "{later} should be named as not applied yet: {:?}",
                plan.warnings
            );
        }
    }

    #[test]
    fn a_field_not_supported_is_refused_by_name() {
        let mut spec = podman_spec();
        let mut root = spec.root().clone().expect("a root");
        root.set_readonly(Some(true));
        spec.set_root(Some(root));
        let error = map_spec(&spec, Path::new("/bundle")).unwrap_err();
        assert!(error.to_string().contains("root.readonly"), "{error}");
    }

    #[test]
    fn a_namespace_given_by_path_is_joined_not_created() {
        let text = PODMAN.replace(
            r#""type": "network""#,
            r#""type": "network", "path": "/run/netns/x""#,
        );
        let spec: Spec = serde_json::from_str(&text).expect("parses");
        let plan = map_spec(&spec, Path::new("/bundle")).expect("maps");
        assert!(!plan.create.contains(&"net".to_string()));
        let oci = plan.config.oci.expect("OCI process settings");
        assert_eq!(
            oci.join,
            [("net".to_string(), PathBuf::from("/run/netns/x"))]
        );
    }

    #[test]
    fn another_major_version_is_refused() {
        assert!(check_version("1.2.1").is_ok());
        let error = check_version("2.0.0").unwrap_err();
        assert!(error.to_string().contains("2.0.0"), "{error}");
    }
}
