//! `just bench`: the reference runtime beside real peers and beside the
//! kernel's floor, measured with hyperfine in interleaved rounds, with the
//! peak memory of each.
//!
//! One run of one comparison proves little: on these machines the ratio
//! of two commands moves by ±20 % from one run to the next. So each
//! comparison is measured in rounds (5 by default, `NSLAB_BENCH_ROUNDS`),
//! each round one hyperfine run of every command in turn (50 timed runs
//! by default, `NSLAB_BENCH_RUNS`), the order reversed every other round
//! so that neither side always runs first. A row's ratio is computed per
//! round, from hyperfine's medians; the table gives the median of those
//! ratios over the rounds with their spread (min–max), and each target of
//! issue 20 met or missed by that median.
//!
//! Every comparison also times the floor (`floor.c`): a static program
//! that only clones with the four namespaces, mounts a fresh `/proc` and
//! execs, the physical limit of a start-up here. The comparisons of
//! lessons 04 (with a rootfs), 06, 08 and 10 also time the floor doing
//! the kernel's share of what those lessons add (lesson 04's mounts and
//! pivot_root, a bridge and a veth pair, a cgroup with limits, the
//! hardening); where even that misses a target, the table calls the
//! target out of reach on this host. hyperfine's JSON of every
//! round of every command goes to `target/bench/SLUG/`; the table printed
//! at the end also goes to `target/bench/summary.md`.
//!
//! The driver is Rust, in the checker, rather than a shell script: it
//! reuses the rootfs builder, reads hyperfine's JSON with serde, and its
//! table is unit-tested. Peers that are not installed are skipped with a
//! note. Nothing here touches the network: the containers and peers run
//! `/bin/true` with no network namespace, or with only loopback.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use nslab_runtime::cgroup;
use nslab_runtime::course::LESSONS;
use nslab_runtime::{Binary, Flavour};
use serde_json::{Value, json};

use crate::rootfs::{self, Source};

/// Timed runs per command and round (issue 9 asks for at least 50).
pub const DEFAULT_RUNS: u32 = 50;
/// Interleaved rounds per comparison (issue 20).
pub const DEFAULT_ROUNDS: u32 = 5;
const WARMUP_RUNS: u32 = 5;
/// `/usr/bin/time` runs per command; the peak is the largest.
const MEMORY_RUNS: u32 = 5;
/// The OCI container id crun and runc run under; removed when we end.
const OCI_ID: &str = "nslab-bench";

/// One command to measure.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub argv: Vec<String>,
    /// The peer's speed target (none for ours).
    pub time_target: Option<Target>,
    /// The peer's peak memory target as a ratio ours/peer.
    pub memory_target: Option<f64>,
}

/// Ours and the peers it is compared with, measured together.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub title: String,
    pub slug: String,
    pub ours: Entry,
    pub peers: Vec<Entry>,
    /// Peers left out, with why.
    pub skipped: Vec<String>,
    /// Run hyperfine in a mount namespace where the host's cgroup v2
    /// hierarchy is not mounted (crun refuses hybrid hosts).
    pub pure_cgroup_v1_view: bool,
    /// Ours over the floor at most this (a ratio), if it has a target.
    pub floor_target: Option<f64>,
    /// It adds links or cgroups to the host: measured under the checks'
    /// `host` lock, so that no check's host guard sees them.
    pub changes_the_host: bool,
    /// The floor doing the kernel's share of what this comparison adds
    /// (a rootfs, a cgroup with limits, a bridge and a veth pair, the
    /// hardening): where even it
    /// misses a target, the kernel puts that target out of reach here.
    pub kernel_floor: Option<Entry>,
}

/// A speed target of issue 20, met or missed by the median over rounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// Ours divided by this row at most this.
    Ratio(f64),
    /// Ours at most this many milliseconds slower than this row: what a
    /// lesson may add over the lesson before.
    OverBy(f64),
}

/// What one command measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    pub name: String,
    /// hyperfine's median of each round, in ms, in round order.
    pub rounds_ms: Vec<f64>,
    pub peak_kib: Option<u64>,
    pub time_target: Option<Target>,
    pub memory_target: Option<f64>,
}

/// What one comparison measured: ours, its peers, and the floor.
#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    pub ours: Measured,
    pub peers: Vec<Measured>,
    pub floor: Measured,
    /// The floor with the kernel's share of the comparison, if it has one.
    pub kernel_floor: Option<Measured>,
}

/// A median over rounds and the range it comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    /// The median (of the middle two for an even count), min and max.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Spread {
        let mut values: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
        values.sort_by(f64::total_cmp);
        let Some((&min, &max)) = values.first().zip(values.last()) else {
            return Spread {
                median: f64::NAN,
                min: f64::NAN,
                max: f64::NAN,
            };
        };
        let middle = values.len() / 2;
        let median = if values.len().is_multiple_of(2) {
            (values[middle - 1] + values[middle]) / 2.0
        } else {
            values[middle]
        };
        Spread { median, min, max }
    }
}

/// How many rounds of how many runs each.
#[derive(Debug, Clone, Copy)]
struct Plan {
    rounds: u32,
    runs: u32,
}

impl Plan {
    fn from_env() -> Plan {
        let number = |name: &str, default: u32| {
            std::env::var(name)
                .ok()
                .and_then(|value| value.parse().ok())
                .unwrap_or(default)
                .max(1)
        };
        Plan {
            rounds: number("NSLAB_BENCH_ROUNDS", DEFAULT_ROUNDS),
            runs: number("NSLAB_BENCH_RUNS", DEFAULT_RUNS),
        }
    }
}

fn entry(name: &str, argv: &[&str], time_target: Option<Target>) -> Entry {
    Entry {
        name: name.to_string(),
        argv: argv.iter().map(|s| s.to_string()).collect(),
        time_target,
        memory_target: None,
    }
}

/// `just bench`.
pub fn run(root: &Path) -> Result<bool, String> {
    require("hyperfine", "hyperfine")?;
    require("/usr/bin/time", "time")?;
    require("musl-gcc", "musl-tools")?;
    let plan = Plan::from_env();
    let out = root.join("target/bench");
    fs::create_dir_all(&out).map_err(|e| format!("create {}: {e}", out.display()))?;
    let release = build_release(root)?;
    let floor_program = build_floor(root, &out)?;
    let floor = floor_entry(&floor_program, "floor (clone, /proc, exec)", &[]);
    let rootfs = rootfs::ensure(&root.join("target/nslab/rootfs"), Source::best_available())?;
    let bundle = write_oci_bundle(&out, &rootfs, None)?;
    let limited_bundle = write_oci_bundle(&out, &rootfs, Some(&LIMITS))?;
    remove_leftovers();
    let _oci = OciCleanup;

    let header = header(plan);
    println!("{header}");
    let mut table = Vec::new();
    for comparison in comparisons(&release, &floor_program, &rootfs, &bundle, &limited_bundle) {
        println!("\n## {}", comparison.title);
        comparison
            .skipped
            .iter()
            .for_each(|note| println!("note: {note}"));
        let rows = if comparison.changes_the_host {
            let (locked, floor, out) = (comparison.clone(), floor.clone(), out.clone());
            holding_the_host_lock(move || measure(&locked, &floor, &out, plan))?
        } else {
            measure(&comparison, &floor, &out, plan)?
        };
        table.push((comparison, rows));
    }
    let summary = format!("{header}\n{}", render(&table));
    fs::write(out.join("summary.md"), &summary)
        .map_err(|e| format!("write {}: {e}", out.join("summary.md").display()))?;
    println!("\n{summary}");
    println!("hyperfine's exports and this table: {}", out.display());
    Ok(true)
}

/// When, where and how much: the lines above the table.
fn header(plan: Plan) -> String {
    let say = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|_| "?".into())
    };
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let system = fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|release| {
            release
                .lines()
                .find_map(|line| line.strip_prefix("PRETTY_NAME="))
                .map(|name| name.trim_matches('"').to_string())
        })
        .unwrap_or_else(|| "?".into());
    format!(
        "{} on {}: {cores} cores, {system}, Linux {}; {} interleaved rounds of {} runs per command\n",
        say("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        say("uname", &["-n"]),
        say("uname", &["-r"]),
        plan.rounds,
        plan.runs,
    )
}

/// The floor (`floor.c`), built static into `out`, against musl as the
/// runtime is ([`build_release`]). The kernel's headers (`linux/*.h`) are
/// the system's: musl-gcc's own include path has none.
fn build_floor(root: &Path, out: &Path) -> Result<PathBuf, String> {
    let source = root.join("tests/checker/src/floor.c");
    let floor = out.join("floor");
    let built = Command::new("musl-gcc")
        .args(["-static", "-O2", "-idirafter", "/usr/include"])
        .arg("-idirafter")
        .arg(format!("/usr/include/{}", multiarch()))
        .arg("-o")
        .arg(&floor)
        .arg(&source)
        .status()
        .map_err(|e| format!("cannot run musl-gcc: {e}"))?;
    if !built.success() {
        return Err(format!(
            "musl-gcc could not build {}; its messages are above",
            source.display()
        ));
    }
    Ok(floor)
}

/// Debian's directory for this machine's C headers (`x86_64-linux-gnu`),
/// where `asm/*.h` lives.
fn multiarch() -> String {
    format!("{}-linux-gnu", std::env::consts::ARCH)
}

/// The floor running `/bin/true`, with `options` (see `floor.c`).
fn floor_entry(floor: &Path, name: &str, options: &[String]) -> Entry {
    let mut argv = vec![floor.display().to_string()];
    argv.extend(options.iter().cloned());
    argv.push("/bin/true".into());
    Entry {
        argv,
        ..entry(name, &[], None)
    }
}

/// The cgroup the floor makes in each tree, beside (not in) the course's
/// `nslab`, so that nothing of the course's own is touched.
const FLOOR_CGROUP: &str = "nslab-floor";

/// The floor with the kernel's share of lesson 08's row: a cgroup in the
/// tree of each controller [`LIMITS`] needs (one on v2, two on v1), the
/// limits written, the child moved in before it goes on, and the cgroups
/// removed after. None where this host has no such controllers.
fn floor_with_a_cgroup(floor: &Path) -> Option<Entry> {
    let cgroups = cgroup::Cgroups::detect().ok()?;
    let limits = [
        ("memory", "memory.max", LIMITS.memory_bytes.to_string()),
        ("pids", "pids.max", LIMITS.pids.to_string()),
    ];
    let mut options = Vec::new();
    for (controller, file, value) in limits {
        let tree = cgroups.hierarchy_of(controller)?;
        let dir = tree.mount_point.join(FLOOR_CGROUP);
        let (file, value) = match tree.version {
            cgroup::Version::V2 => (file, value),
            cgroup::Version::V1 => {
                let (_, file, value) = cgroup::v1_writes(&[(file.to_string(), value)])
                    .ok()?
                    .pop()?;
                (file, value)
            }
        };
        let dir_option = dir.display().to_string();
        if !options.contains(&dir_option) {
            options.extend(["--cgroup".to_string(), dir_option]);
        }
        options.extend([
            "--set".to_string(),
            format!("{}={value}", dir.join(file).display()),
        ]);
    }
    Some(floor_entry(
        floor,
        "floor with a cgroup (mkdir, limits, the child moved in, rmdir)",
        &options,
    ))
}

/// What a killed floor can leave: its cgroups, its bridge and veth pair.
fn remove_floor_leftovers() {
    if let Ok(cgroups) = cgroup::Cgroups::detect() {
        for tree in cgroups.hierarchies() {
            let _ = fs::remove_dir(tree.mount_point.join(FLOOR_CGROUP));
        }
    }
    for link in ["nslab-floor-h", "nslab-floor0"] {
        let _ = Command::new("ip")
            .args(["link", "del", link])
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// Run `work` holding the privileged checks' `host` lock exclusively, as a
/// `#[file_serial(host)]` check does (serial_test's own function, which
/// takes a plain `fn`; hence the slot): checks running meanwhile, here or
/// in another checkout, wait, and none sees our bridge come and go.
fn holding_the_host_lock<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    type Work = Box<dyn FnOnce() + Send>;
    static SLOT: std::sync::Mutex<Option<Work>> = std::sync::Mutex::new(None);
    let (sender, receiver) = std::sync::mpsc::channel();
    *SLOT.lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(move || {
        let _ = sender.send(work());
    }));
    serial_test::fs_serial_core(vec!["host"], None, || {
        let work = SLOT.lock().unwrap_or_else(|e| e.into_inner()).take();
        work.into_iter().for_each(|work| work());
    });
    receiver.recv().expect("the work ran under the lock")
}

fn require(program: &str, package: &str) -> Result<(), String> {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        Ok(())
    } else {
        Err(format!(
            "{program} is missing: run `bash setup.sh --maintainer` (Debian package {package})"
        ))
    }
}

fn installed(program: &str) -> bool {
    require(program, program).is_ok()
}

/// The release binaries: `just bench` measures what a user would run, with
/// the fault-injection steps compiled away. Linked statically, as a
/// runtime one copies onto a host usually is (runc and crun are too):
/// loading `libc.so` and relocating against it was about a sixth of a
/// run's time. Against musl, not glibc: a static glibc program probes the
/// CPU's caches at every start with about 80 `cpuid` instructions, and in
/// a VM each one traps to the hypervisor (4 to 8 µs on the course VMs), 0.3
/// to 0.6 ms a start; musl does no such thing. And at a fixed address (`relocation-model=static`),
/// as the floor is: a static-PIE binary applies its own 12,000
/// relocations at every start, about 55 page faults (issue 20). The price
/// is that the runtime's own code is not placed at a random address
/// (ASLR); its heap, stack and mappings still are. The binaries land in
/// `target/TRIPLE/release`; cargo applies the flags to them only, not to
/// the proc-macro crates it loads into the compiler.
fn build_release(root: &Path) -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target = static_target()?;
    let status = Command::new(cargo)
        .current_dir(root)
        .env(
            "RUSTFLAGS",
            "-C target-feature=+crt-static -C relocation-model=static",
        )
        .args(["build", "--quiet", "--release", "--target", &target])
        .args([
            "--bin",
            "solution-04",
            "--bin",
            "solution-05",
            "--bin",
            "solution-06",
            "--bin",
            "solution-07",
            "--bin",
            "solution-08",
        ])
        .args([
            "--bin",
            &hardened().name(),
            "--bin",
            &before_hardening().name(),
            "--bin",
            &oci().name(),
        ])
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("the release build failed; cargo's messages are above".into());
    }
    Ok(root.join("target").join(target).join("release"))
}

/// The musl twin of the compiler's host triple (`x86_64-unknown-linux-gnu`
/// gives `x86_64-unknown-linux-musl`), if its standard library is
/// installed.
fn static_target() -> Result<String, String> {
    let output = Command::new("rustc")
        .arg("-vV")
        .output()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    let host = String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(str::to_string)
        .ok_or_else(|| "rustc -vV did not name its host".to_string())?;
    let target = host.replace("-gnu", "-musl");
    let library = Command::new("rustc")
        .args(["--print", "target-libdir", "--target", &target])
        .output()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    if has_std(&library) {
        Ok(target)
    } else {
        Err(format!(
            "Rust's standard library for {target} is missing: run `bash setup.sh --maintainer` \
             (rustup target add {target})"
        ))
    }
}

/// Whether `library` holds a standard library (`libstd-HASH.rlib`).
fn has_std(library: &Path) -> bool {
    fs::read_dir(library).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("libstd-"))
    })
}

/// `unshare`'s flags for the namespaces `solution-04` makes, with a fresh
/// `/proc`.
const UNSHARE_AS_OURS: [&str; 6] = [
    "--uts",
    "--ipc",
    "--pid",
    "--mount",
    "--fork",
    "--mount-proc",
];

/// Lesson 08's row: the limits given to ours and to the OCI runtimes.
struct Limits {
    memory_bytes: u64,
    pids: u64,
}

const LIMITS: Limits = Limits {
    memory_bytes: 64 << 20,
    pids: 100,
};

/// The comparisons of issue 9 that the lessons on main allow.
fn comparisons(
    release: &Path,
    floor: &Path,
    rootfs: &Path,
    bundle: &Path,
    limited_bundle: &Path,
) -> Vec<Comparison> {
    let solution = |level: u8| {
        Binary::new(Flavour::Solution, level)
            .path_in(release)
            .display()
            .to_string()
    };
    let rootfs = rootfs.display().to_string();
    let bundle = bundle.display().to_string();
    let limited_bundle = limited_bundle.display().to_string();
    let mut list = Vec::new();

    list.push(Comparison {
        title: "UTS, IPC, PID and mount namespaces with a fresh /proc, no rootfs".into(),
        slug: "namespaces".into(),
        ours: entry(
            "solution-04",
            &[&solution(4), "--quiet", "--", "/bin/true"],
            None,
        ),
        peers: vec![entry(
            "unshare",
            &[&["unshare"][..], &UNSHARE_AS_OURS, &["/bin/true"]].concat(),
            Some(Target::Ratio(0.8)),
        )],
        skipped: Vec::new(),
        pure_cgroup_v1_view: false,
        floor_target: Some(1.3),
        changes_the_host: false,
        kernel_floor: None,
    });

    let mut rootfs_peers = Vec::new();
    let mut skipped = Vec::new();
    if installed("bwrap") {
        rootfs_peers.push(entry(
            "bwrap",
            &[
                "bwrap",
                "--unshare-all",
                "--share-net",
                "--bind",
                &rootfs,
                "/",
                "--proc",
                "/proc",
                "--dev",
                "/dev",
                "/bin/true",
            ],
            Some(Target::Ratio(0.7)),
        ));
    } else {
        skipped.push("bwrap is not installed (Debian package bubblewrap): skipped".into());
    }
    for (runtime, target, extra) in [
        (
            "crun",
            Some(Target::Ratio(0.3)),
            &["--cgroup-manager=disabled"][..],
        ),
        ("runc", None, &[][..]),
    ] {
        if installed(runtime) {
            let mut argv = vec![runtime];
            argv.extend(extra);
            argv.extend(["run", "--bundle", &bundle, OCI_ID]);
            let mut peer = entry(runtime, &argv, target);
            peer.memory_target = (runtime == "crun").then_some(0.5);
            rootfs_peers.push(peer);
        } else {
            skipped.push(format!(
                "{runtime} is not installed (Debian package {runtime}): skipped"
            ));
        }
    }
    list.push(Comparison {
        title: "The same in the busybox rootfs (pivot_root, /proc, /sys, /dev)".into(),
        slug: "rootfs".into(),
        ours: entry(
            "solution-04 --rootfs",
            &[
                &solution(4),
                "--quiet",
                "--rootfs",
                &rootfs,
                "--",
                "/bin/true",
            ],
            None,
        ),
        peers: rootfs_peers,
        skipped,
        pure_cgroup_v1_view: cgroup_hybrid(),
        floor_target: None,
        changes_the_host: false,
        kernel_floor: Some(floor_entry(
            floor,
            "floor in the rootfs (lesson 04's mounts, pivot_root)",
            &["--rootfs".to_string(), rootfs.clone()],
        )),
    });

    // Both as nobody: a user namespace is what lets them do it at all.
    let as_nobody = |argv: &[&str]| {
        let mut words = vec![
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ];
        words.extend(argv);
        words
            .iter()
            .map(|word| word.to_string())
            .collect::<Vec<_>>()
    };
    list.push(Comparison {
        title: "As nobody, with a user namespace (root inside), and the same four".into(),
        slug: "user".into(),
        ours: Entry {
            argv: as_nobody(&[&solution(5), "--quiet", "--", "/bin/true"]),
            ..entry("solution-05 as nobody", &[], None)
        },
        peers: vec![Entry {
            argv: as_nobody(
                &[
                    &["unshare", "--user", "--map-root-user"][..],
                    &UNSHARE_AS_OURS,
                    &["/bin/true"],
                ]
                .concat(),
            ),
            ..entry("unshare -r", &[], Some(Target::Ratio(0.9)))
        }],
        skipped: Vec::new(),
        pure_cgroup_v1_view: false,
        floor_target: None,
        changes_the_host: false,
        kernel_floor: None,
    });

    list.push(Comparison {
        title: "A bridge, a veth pair, an address and a default route".into(),
        slug: "bridge".into(),
        ours: entry(
            "solution-06 --net bridge",
            &[
                &solution(6),
                "--quiet",
                "--net",
                "bridge",
                "--",
                "/bin/true",
            ],
            None,
        ),
        peers: vec![entry(
            "ip script",
            &[
                "unshare",
                "--mount",
                "--propagation=private",
                "--",
                "sh",
                "-euc",
                &ip_script(),
            ],
            Some(Target::Ratio(0.5)),
        )],
        skipped: Vec::new(),
        pure_cgroup_v1_view: false,
        floor_target: None,
        changes_the_host: true,
        kernel_floor: Some(floor_entry(
            floor,
            "floor with a bridge and a veth pair (netlink, made and deleted)",
            &["--bridge".to_string()],
        )),
    });

    // Lesson 08: the same container with a memory and a process limit, in
    // a cgroup of its own. Beside it, lesson 07's binary without one (the
    // ratio is what the cgroup costs), and runc with the same limits and
    // namespaces (ours adds a user namespace). crun only where this host's
    // layout lets it manage cgroups (not on a v1/v2 hybrid).
    let memory = format!("--memory={}", LIMITS.memory_bytes);
    let pids = format!("--pids-limit={}", LIMITS.pids);
    let mut limited_peers = vec![entry(
        "solution-07 --rootfs, no cgroup",
        &[
            &solution(7),
            "--quiet",
            "--rootfs",
            &rootfs,
            "--",
            "/bin/true",
        ],
        Some(Target::OverBy(0.5)),
    )];
    let mut skipped = Vec::new();
    for runtime in ["runc", "crun"] {
        if runtime == "crun" && cgroup_hybrid() {
            skipped.push(
                "crun refuses this host's hybrid cgroup layout when it manages cgroups: skipped"
                    .into(),
            );
        } else if installed(runtime) {
            limited_peers.push(entry(
                &format!("{runtime} with the same limits"),
                &[runtime, "run", "--bundle", &limited_bundle, OCI_ID],
                None,
            ));
        } else {
            skipped.push(format!(
                "{runtime} is not installed (Debian package {runtime}): skipped"
            ));
        }
    }
    list.push(Comparison {
        title: "--memory 64m --pids-limit 100: a cgroup of its own, in the busybox rootfs".into(),
        slug: "cgroup".into(),
        ours: entry(
            "solution-08 --rootfs --memory 64m --pids-limit 100",
            &[
                &solution(8),
                "--quiet",
                "--rootfs",
                &rootfs,
                &memory,
                &pids,
                "--",
                "/bin/true",
            ],
            None,
        ),
        peers: limited_peers,
        skipped,
        pure_cgroup_v1_view: false,
        floor_target: None,
        // The floor's cgroups are at the top of each tree, beside `nslab`.
        changes_the_host: true,
        kernel_floor: floor_with_a_cgroup(floor),
    });

    // Lesson 10's cost: the same container, hardened and not.
    let in_rootfs = |binary: Binary| {
        let path = binary.path_in(release).display().to_string();
        let argv = [
            path.as_str(),
            "--quiet",
            "--rootfs",
            &rootfs,
            "--",
            "/bin/true",
        ];
        entry(&format!("{binary} --rootfs"), &argv, None)
    };
    list.push(Comparison {
        title: "Hardening (masks, capabilities, no_new_privs, seccomp) over the lesson before"
            .into(),
        slug: "harden".into(),
        ours: in_rootfs(hardened()),
        peers: vec![Entry {
            time_target: Some(Target::OverBy(0.5)),
            ..in_rootfs(before_hardening())
        }],
        skipped: Vec::new(),
        pure_cgroup_v1_view: false,
        floor_target: None,
        changes_the_host: false,
        kernel_floor: Some(floor_entry(
            floor,
            "floor hardened (masks, capabilities, no_new_privs, a 230-instruction filter)",
            &["--harden".to_string()],
        )),
    });

    // Lesson 11: podman with our runtime beside podman with runc (crun
    // needs --cgroups=disabled on a hybrid host, which changes what podman
    // does: left out). Under the host lock: podman mounts and unmounts
    // while a container runs.
    if installed("podman") && installed("runc") {
        let podman_with = |runtime: &str| {
            let argv = [
                "podman",
                "--runtime",
                runtime,
                "run",
                "--rm",
                "--network",
                "none",
                "--ulimit",
                "nofile=20000:20000",
                "--ulimit",
                "nproc=20000:20000",
                "--rootfs",
                &rootfs,
                "/bin/true",
            ];
            argv.map(str::to_string).to_vec()
        };
        let oci = oci();
        let ours = oci.path_in(release).display().to_string();
        list.push(Comparison {
            title: "podman run --rm: our runtime in runc's place".into(),
            slug: "podman".into(),
            ours: Entry {
                name: format!("podman with {oci}"),
                argv: podman_with(&ours),
                time_target: None,
                memory_target: None,
            },
            peers: vec![Entry {
                name: "podman with runc".into(),
                argv: podman_with("/usr/sbin/runc"),
                time_target: Some(Target::Ratio(1.0)),
                memory_target: None,
            }],
            skipped: Vec::new(),
            pure_cgroup_v1_view: false,
            floor_target: None,
            changes_the_host: true,
            kernel_floor: None,
        });
    }
    list
}

/// The first binary with lesson 10's hardening, and the one before it.
fn hardened() -> Binary {
    let harden = LESSONS
        .iter()
        .find(|lesson| lesson.slug == "harden")
        .expect("the course has a harden lesson");
    Binary::new(Flavour::Solution, harden.number)
}

/// The first binary with lesson 11's OCI interface, for podman's row.
fn oci() -> Binary {
    let lesson = LESSONS
        .iter()
        .find(|lesson| lesson.slug == "oci")
        .expect("the course has an oci lesson");
    Binary::new(Flavour::Solution, lesson.number)
}

fn before_hardening() -> Binary {
    Binary::new(Flavour::Solution, hardened().level - 1)
}

/// What the `ip` script names, fixed, as hyperfine runs it once at a time:
/// its network namespace, its bridge, the host's end of its veth pair.
const SCRIPT_NETNS: &str = "nslab-bench";
const SCRIPT_BRIDGE: &str = "nslab-bench0";
const SCRIPT_HOST_END: &str = "nslab-bench-h";

/// The steps `--net bridge` takes, as a person would type them with `ip`:
/// a network namespace, a bridge with the gateway's address, a veth pair
/// with one end on the bridge and the other in the namespace as `eth0`,
/// its address and default route, then `/bin/true` in there. The subnet
/// is lesson 06's default, as ours uses; nothing is sent anywhere.
///
/// Everything it makes goes on exit, also on failure or Ctrl-C (the
/// trap), the veth pair first: `ip netns del` frees the namespace, and
/// the pair in it, only later, in the background, and the next run's
/// `ip link add` would find its host end still there. It runs under `unshare --mount` (see the call), so `ip netns
/// add`'s mount lives in a throwaway mount namespace: even a SIGKILL
/// leaves no mount on the host, and the namespace dies with it. What a
/// SIGKILL can leave (the bridge, an empty file in /run/netns),
/// [`remove_leftovers`] removes before and after the bench.
fn ip_script() -> String {
    format!(
        "ns={SCRIPT_NETNS} br={SCRIPT_BRIDGE} host={SCRIPT_HOST_END}
trap 'ip link del $host 2>/dev/null; ip netns del $ns 2>/dev/null; ip link del $br 2>/dev/null; true' EXIT
trap 'exit 130' INT TERM HUP
ip netns add $ns
ip link add $br type bridge
ip address add 10.77.0.1/24 dev $br
ip link set $br up
ip link add $host type veth peer name eth0 netns $ns
ip link set $host master $br up
ip -n $ns link set lo up
ip -n $ns address add 10.77.0.2/24 dev eth0
ip -n $ns link set eth0 up
ip -n $ns route add default via 10.77.0.1
ip netns exec $ns /bin/true"
    )
}

/// What a killed `ip` script or floor can leave on the host.
fn remove_leftovers() {
    remove_floor_leftovers();
    for argv in [
        &["ip", "link", "del", SCRIPT_BRIDGE][..],
        &["ip", "link", "del", SCRIPT_HOST_END],
        &["ip", "netns", "del", SCRIPT_NETNS],
    ] {
        let _ = Command::new(argv[0])
            .args(&argv[1..])
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// A v1/v2 hybrid host: v1 hierarchies under a tmpfs `/sys/fs/cgroup`,
/// and a cgroup2 at `/sys/fs/cgroup/unified`. crun 1.8 refuses to run
/// there when that cgroup2 has controllers ("cgroups in hybrid mode not
/// supported, drop all controllers from cgroupv2"), even with
/// `--cgroup-manager=disabled`.
fn cgroup_hybrid() -> bool {
    fs::read_to_string("/sys/fs/cgroup/unified/cgroup.controllers")
        .is_ok_and(|controllers| !controllers.trim().is_empty())
}

/// For one comparison: `plan.rounds` rounds, each one hyperfine run of
/// every command (ours, the peers, the floor) in turn, the order reversed
/// every other round; then `/usr/bin/time` for the peak memory of each.
fn measure(comparison: &Comparison, floor: &Entry, out: &Path, plan: Plan) -> Result<Rows, String> {
    let entries: Vec<&Entry> = std::iter::once(&comparison.ours)
        .chain(&comparison.peers)
        .chain(&comparison.kernel_floor)
        .chain(std::iter::once(floor))
        .collect();
    let dir = out.join(&comparison.slug);
    // A fresh directory: no export of an earlier bench is taken for ours.
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    let mut rounds_ms = vec![Vec::new(); entries.len()];
    for round in 1..=plan.rounds {
        let mut order: Vec<usize> = (0..entries.len()).collect();
        if round.is_multiple_of(2) {
            order.reverse();
        }
        let mut said = Vec::new();
        for index in order {
            let entry = entries[index];
            let export = dir.join(format!(
                "round{round}-{index}-{}.json",
                file_name(&entry.name)
            ));
            let median = time_one(comparison.pure_cgroup_v1_view, entry, plan.runs, &export)?;
            said.push(format!("{} {median:.2} ms", entry.name));
            rounds_ms[index].push(median);
        }
        println!("round {round}/{}: {}", plan.rounds, said.join(", "));
    }
    let mut measured: Vec<Measured> = entries
        .iter()
        .zip(rounds_ms)
        .map(|(entry, rounds_ms)| Measured {
            name: entry.name.clone(),
            rounds_ms,
            peak_kib: peak_memory(comparison.pure_cgroup_v1_view, &entry.argv),
            time_target: entry.time_target,
            memory_target: entry.memory_target,
        })
        .collect();
    let floor = measured.pop().expect("the floor was measured");
    let kernel_floor = comparison
        .kernel_floor
        .as_ref()
        .and_then(|_| measured.pop());
    let ours = measured.remove(0);
    Ok(Rows {
        ours,
        peers: measured,
        floor,
        kernel_floor,
    })
}

/// One hyperfine run of `entry` (five warm-up runs, then `runs`), its JSON
/// exported to `export`; hyperfine's median, in ms.
fn time_one(
    pure_cgroup_v1_view: bool,
    entry: &Entry,
    runs: u32,
    export: &Path,
) -> Result<f64, String> {
    let hyperfine = vec![
        "hyperfine".to_string(),
        "-N".into(),
        "--style=none".into(),
        format!("--warmup={WARMUP_RUNS}"),
        format!("--runs={runs}"),
        format!("--export-json={}", export.display()),
        format!("--command-name={}", entry.name),
        shell_words(&entry.argv),
    ];
    let status = in_view(pure_cgroup_v1_view, &hyperfine)
        .status()
        .map_err(|e| format!("cannot run hyperfine: {e}"))?;
    if !status.success() {
        return Err(format!("hyperfine failed for \"{}\"", entry.name));
    }
    let report: Value = serde_json::from_str(
        &fs::read_to_string(export).map_err(|e| format!("read {}: {e}", export.display()))?,
    )
    .map_err(|e| format!("{} is not hyperfine's JSON: {e}", export.display()))?;
    report["results"][0]["median"]
        .as_f64()
        .map(|seconds| seconds * 1000.0)
        .ok_or_else(|| format!("{} has no median", export.display()))
}

/// `name` as part of a file name: letters and digits, the rest `-`.
fn file_name(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// The largest "maximum resident set size" `/usr/bin/time` reports over a
/// few runs: the biggest single process of the run (the runtime, the
/// container's command or a helper), in KiB.
fn peak_memory(pure_cgroup_v1_view: bool, argv: &[String]) -> Option<u64> {
    (0..MEMORY_RUNS)
        .filter_map(|_| {
            let mut timed = vec!["/usr/bin/time".to_string(), "-f".into(), "%M".into()];
            timed.extend(argv.iter().cloned());
            let output = in_view(pure_cgroup_v1_view, &timed).output().ok()?;
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .last()?
                .trim()
                .parse()
                .ok()
        })
        .max()
}

/// `argv` as a command, in a throwaway mount namespace without the host's
/// cgroup2 mount when asked: the host's mounts are untouched, and every
/// command of the comparison sees the same view, so it stays fair.
fn in_view(pure_cgroup_v1_view: bool, argv: &[String]) -> Command {
    if !pure_cgroup_v1_view {
        let mut command = Command::new(&argv[0]);
        command.args(&argv[1..]);
        return command;
    }
    let mut command = Command::new("unshare");
    command
        .args(["--mount", "--propagation=private", "--", "sh", "-c"])
        .arg("umount /sys/fs/cgroup/unified && exec \"$@\"")
        .arg("sh")
        .args(argv);
    command
}

/// `argv` as one command line for hyperfine, which splits it like a shell.
fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|word| {
            if word
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:,".contains(c))
            {
                word.clone()
            } else {
                format!("'{}'", word.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// An OCI bundle of the same rootfs for crun and runc: the namespaces ours
/// uses (no network namespace, as bwrap's `--share-net`), the mounts
/// `crun spec` gives by default except the cgroup file system, and
/// `/bin/true`. Written by us, not by `crun spec`, so that it does not
/// depend on which of the two is installed. With `limits` (lesson 08's
/// row), a second bundle: those limits, and the network and cgroup
/// namespaces ours has by then.
fn write_oci_bundle(out: &Path, rootfs: &Path, limits: Option<&Limits>) -> Result<PathBuf, String> {
    let bundle = out.join(if limits.is_some() {
        "bundle-limits"
    } else {
        "bundle"
    });
    fs::create_dir_all(&bundle).map_err(|e| format!("create {}: {e}", bundle.display()))?;
    let mount = |destination: &str, kind: &str, options: &[&str]| json!({"destination": destination, "type": kind, "source": kind, "options": options});
    let config = json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": false,
            "user": {"uid": 0, "gid": 0},
            "args": ["/bin/true"],
            "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
            "cwd": "/",
            "noNewPrivileges": true
        },
        "root": {"path": rootfs, "readonly": true},
        "hostname": "container",
        "mounts": [
            mount("/proc", "proc", &[]),
            mount("/dev", "tmpfs", &["nosuid", "strictatime", "mode=755", "size=65536k"]),
            mount("/dev/pts", "devpts", &["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]),
            mount("/dev/shm", "tmpfs", &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
            mount("/dev/mqueue", "mqueue", &["nosuid", "noexec", "nodev"]),
            mount("/sys", "sysfs", &["nosuid", "noexec", "nodev", "ro"]),
        ],
        "linux": {
            "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}]
        }
    });
    let mut config = config;
    if let Some(limits) = limits {
        config["linux"] = json!({
            "namespaces": [
                {"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"},
                {"type": "network"}, {"type": "cgroup"}
            ],
            "resources": {
                "memory": {"limit": limits.memory_bytes, "swap": limits.memory_bytes},
                "pids": {"limit": limits.pids}
            }
        });
    }
    let path = bundle.join("config.json");
    fs::write(
        &path,
        serde_json::to_string_pretty(&config).unwrap_or_default(),
    )
    .map_err(|e| format!("write {}: {e}", path.display()))?;
    Ok(bundle)
}

/// crun and runc delete a container that `run` started when it ends; if
/// the bench is interrupted in the middle of one, this removes its state,
/// and what the `ip` script left.
struct OciCleanup;

impl Drop for OciCleanup {
    fn drop(&mut self) {
        remove_leftovers();
        for runtime in ["crun", "runc"].into_iter().filter(|r| installed(r)) {
            let _ = Command::new(runtime)
                .args(["delete", "--force", OCI_ID])
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

/// The table: each comparison's rows, ours first, then each peer and the
/// floor with the median over rounds of ours divided by it (min–max),
/// its peak memory, and each target met or missed by the median. Then the
/// count of targets met, and which were missed.
pub fn render(table: &[(Comparison, Rows)]) -> String {
    let mut out = String::from(
        "| comparison | command | median (ms) | ours / this, median (min–max) | time target | peak RSS (KiB) | ours / this | memory target |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    let mut missed = Vec::new();
    let mut out_of_reach = Vec::new();
    let mut targets = 0;
    for (comparison, rows) in table {
        let ours = &rows.ours;
        let _ = writeln!(
            out,
            "| {} | {} | {:.2} | — | — | {} | — | — |",
            comparison.slug,
            ours.name,
            Spread::of(ours.rounds_ms.iter().copied()).median,
            ours.peak_kib.map_or("?".into(), |kib| kib.to_string()),
        );
        let floor_row = Measured {
            time_target: comparison.floor_target.map(Target::Ratio),
            memory_target: None,
            ..rows.floor.clone()
        };
        let shown = rows
            .peers
            .iter()
            .chain(&rows.kernel_floor)
            .chain(std::iter::once(&floor_row));
        for row in shown {
            let ratio = Spread::of(per_round(ours, row, |a, b| a / b));
            let kernel = rows.kernel_floor.as_ref();
            let time = row.time_target.map(|target| {
                let (met, mut said) = match target {
                    Target::Ratio(limit) => (ratio.median <= limit, format!("≤ {limit}×")),
                    Target::OverBy(limit) => {
                        let over = Spread::of(per_round(ours, row, |a, b| a - b));
                        (
                            over.median <= limit,
                            format!(
                                "{:+.2} ms ({:+.2}–{:+.2}): ≤ {limit} ms over",
                                over.median, over.min, over.max
                            ),
                        )
                    }
                };
                if let Some(kernel) = kernel.filter(|_| !met) {
                    let (within, alone) = kernels_share(target, kernel, row, &rows.floor);
                    if !within {
                        out_of_reach.push(format!(
                            "{} vs {} (the kernel alone: {alone})",
                            comparison.slug, row.name
                        ));
                    }
                    let _ = write!(
                        said,
                        " (the kernel alone: {alone}{})",
                        if within { "" } else { ", out of reach" }
                    );
                }
                (met, said)
            });
            let memory_ratio = match (ours.peak_kib, row.peak_kib) {
                (Some(a), Some(b)) if b > 0 => Some(a as f64 / b as f64),
                _ => None,
            };
            let memory = row
                .memory_target
                .zip(memory_ratio)
                .map(|(limit, ratio)| (ratio <= limit, format!("≤ {limit}×")));
            for (what, verdict) in [("time", &time), ("memory", &memory)] {
                if let Some((met, _)) = verdict {
                    targets += 1;
                    if !met {
                        missed.push(format!("{} vs {} ({what})", comparison.slug, row.name));
                    }
                }
            }
            let _ = writeln!(
                out,
                "|  | {} | {:.2} | {:.2}× ({:.2}–{:.2}) | {} | {} | {} | {} |",
                row.name,
                Spread::of(row.rounds_ms.iter().copied()).median,
                ratio.median,
                ratio.min,
                ratio.max,
                said(&time),
                row.peak_kib.map_or("?".into(), |kib| kib.to_string()),
                memory_ratio.map_or("—".into(), |ratio| format!("{ratio:.2}×")),
                said(&memory),
            );
        }
        for note in &comparison.skipped {
            let _ = writeln!(out, "|  | {note} | | | | | | |");
        }
    }
    let _ = writeln!(
        out,
        "\nTargets met: {} of {targets}.{}{}",
        targets - missed.len(),
        if missed.is_empty() {
            String::new()
        } else {
            format!(" Missed: {}.", missed.join("; "))
        },
        if out_of_reach.is_empty() {
            String::new()
        } else {
            format!(
                " Out of reach on this host, since the floor doing only the kernel's share misses \
                 them too: {}.",
                out_of_reach.join("; ")
            )
        }
    );
    out
}

/// Whether the kernel's share alone (the floor with what the comparison
/// adds, `kernel`) would meet `target` against `row`, and what it scores:
/// its own ratio to `row`, or its own cost over the plain `floor`.
fn kernels_share(
    target: Target,
    kernel: &Measured,
    row: &Measured,
    floor: &Measured,
) -> (bool, String) {
    match target {
        Target::Ratio(limit) => {
            let ratio = Spread::of(per_round(kernel, row, |a, b| a / b)).median;
            (ratio <= limit, format!("{ratio:.2}×"))
        }
        Target::OverBy(limit) => {
            let over = Spread::of(per_round(kernel, floor, |a, b| a - b)).median;
            (over <= limit, format!("{over:+.2} ms"))
        }
    }
}

/// `f(ours, row)` for each round both were measured in.
fn per_round(
    ours: &Measured,
    row: &Measured,
    f: impl Fn(f64, f64) -> f64,
) -> impl Iterator<Item = f64> {
    let pairs: Vec<(f64, f64)> = ours
        .rounds_ms
        .iter()
        .copied()
        .zip(row.rounds_ms.iter().copied())
        .collect();
    pairs.into_iter().map(move |(a, b)| f(a, b))
}

/// A verdict as the table shows it: the target, then ✓ or ✗.
fn said(verdict: &Option<(bool, String)>) -> String {
    match verdict {
        None => "—".into(),
        Some((met, target)) => format!("{target} {}", if *met { "✓" } else { "✗" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(name: &str, rounds_ms: &[f64], peak_kib: u64, target: Option<Target>) -> Measured {
        Measured {
            name: name.into(),
            rounds_ms: rounds_ms.to_vec(),
            peak_kib: Some(peak_kib),
            time_target: target,
            memory_target: None,
        }
    }

    #[test]
    fn the_median_of_an_even_count_is_between_the_middle_two() {
        assert_eq!(
            Spread::of([3.0, 1.0, 2.0]),
            Spread {
                median: 2.0,
                min: 1.0,
                max: 3.0
            }
        );
        assert_eq!(Spread::of([4.0, 1.0, 2.0, 3.0]).median, 2.5);
        assert!(Spread::of([]).median.is_nan());
    }

    #[test]
    fn the_table_gives_median_ratios_over_rounds_with_their_spread_and_targets() {
        let comparison = Comparison {
            title: "t".into(),
            slug: "rootfs".into(),
            ours: entry("ours", &["ours"], None),
            peers: Vec::new(),
            skipped: vec!["runc is not installed (Debian package runc): skipped".into()],
            pure_cgroup_v1_view: false,
            floor_target: Some(1.3),
            changes_the_host: false,
            kernel_floor: None,
        };
        let rows = Rows {
            kernel_floor: None,
            ours: measured("ours", &[2.0, 3.0, 2.0], 1000, None),
            peers: vec![
                Measured {
                    memory_target: Some(0.5),
                    ..measured("crun", &[10.0, 10.0, 5.0], 2000, Some(Target::Ratio(0.3)))
                },
                measured("bwrap", &[2.5, 2.5, 4.0], 1500, Some(Target::Ratio(0.7))),
                measured("before", &[1.0, 2.0, 1.9], 1000, Some(Target::OverBy(0.5))),
            ],
            floor: measured("floor", &[1.0, 2.0, 2.0], 500, None),
        };
        let table = render(&[(comparison, rows)]);
        assert!(
            table.contains("| rootfs | ours | 2.00 | — | — | 1000 | — | — |"),
            "{table}"
        );
        assert!(
            table.contains(
                "|  | crun | 10.00 | 0.30× (0.20–0.40) | ≤ 0.3× ✓ | 2000 | 0.50× | ≤ 0.5× ✓ |"
            ),
            "{table}"
        );
        assert!(
            table.contains("|  | bwrap | 2.50 | 0.80× (0.50–1.20) | ≤ 0.7× ✗ | 1500 |"),
            "{table}"
        );
        assert!(
            table.contains("| +1.00 ms (+0.10–+1.00): ≤ 0.5 ms over ✗ |"),
            "{table}"
        );
        assert!(
            table.contains("|  | floor | 2.00 | 1.50× (1.00–2.00) | ≤ 1.3× ✗ | 500 | 2.00× | — |"),
            "{table}"
        );
        assert!(table.contains("runc is not installed"), "{table}");
        assert!(
            table.contains(
                "Targets met: 2 of 5. Missed: rootfs vs bwrap (time); rootfs vs before (time); rootfs vs floor (time)."
            ),
            "{table}"
        );
    }

    #[test]
    fn a_target_the_kernels_share_alone_misses_is_called_out_of_reach() {
        let comparison = |slug: &str| Comparison {
            title: "t".into(),
            slug: slug.into(),
            ours: entry("ours", &["ours"], None),
            peers: Vec::new(),
            skipped: Vec::new(),
            pure_cgroup_v1_view: false,
            floor_target: None,
            changes_the_host: true,
            kernel_floor: Some(entry("kernel", &["floor", "--bridge"], None)),
        };
        let bridge = Rows {
            ours: measured("ours", &[90.0, 100.0, 95.0], 1000, None),
            peers: vec![measured(
                "ip script",
                &[100.0, 100.0, 100.0],
                1000,
                Some(Target::Ratio(0.5)),
            )],
            floor: measured("floor", &[1.0, 1.0, 1.0], 500, None),
            kernel_floor: Some(measured("kernel", &[70.0, 75.0, 80.0], 500, None)),
        };
        // The cgroup's kernel share: +0.4 ms over the floor, within the
        // 0.5 ms, so the miss (+1.0 ms) is ours.
        let cgroup = Rows {
            ours: measured("ours", &[3.0, 3.0, 3.0], 1000, None),
            peers: vec![measured(
                "before",
                &[2.0, 2.0, 2.0],
                1000,
                Some(Target::OverBy(0.5)),
            )],
            floor: measured("floor", &[1.0, 1.0, 1.0], 500, None),
            kernel_floor: Some(measured("kernel", &[1.4, 1.4, 1.4], 500, None)),
        };
        let table = render(&[
            (comparison("bridge"), bridge),
            (comparison("cgroup"), cgroup),
        ]);
        assert!(
            table.contains("| ≤ 0.5× (the kernel alone: 0.75×, out of reach) ✗ |"),
            "{table}"
        );
        assert!(
            table.contains("|  | kernel | 75.00 | 1.29× (1.19–1.33) | — |"),
            "{table}"
        );
        assert!(
            table.contains("≤ 0.5 ms over (the kernel alone: +0.40 ms) ✗ |"),
            "{table}"
        );
        assert!(
            table.contains(
                "Targets met: 0 of 2. Missed: bridge vs ip script (time); cgroup vs before (time). \
                 Out of reach on this host, since the floor doing only the kernel's share misses \
                 them too: bridge vs ip script (the kernel alone: 0.75×)."
            ),
            "{table}"
        );
    }

    #[test]
    fn commands_are_quoted_for_hyperfines_shell_words() {
        let argv = vec!["a".to_string(), "b c".into(), "it's".into()];
        assert_eq!(shell_words(&argv), r"a 'b c' 'it'\''s'");
    }
}
