//! The bridge network on the host (lesson 06): what its containers share
//! there, and who takes it away again.
//!
//! ```text
//!   host                                         containers
//!   nslab0: bridge, 10.77.0.1/24 (the gateway)
//!     ├── nslab-4242 ═══ veth pair ═══ eth0 10.77.0.2/24   (runtime 4242)
//!     └── nslab-4250 ═══ veth pair ═══ eth0 10.77.0.3/24   (runtime 4250)
//!   with --nat: IPv4 forwarding on, and `table ip nslab` masquerades the subnet
//! ```
//!
//! Each container's **lease** is its undo record `network`, in its state
//! directory (`undo/network`): its subnet and address, the names of its
//! veth pair and, with `--nat`, what IPv4 forwarding was before the first
//! `--nat` container turned it on. It is written before the bridge, the
//! veth pair and NAT are made, and removed only once they are gone. What
//! forwarding was is also a host-wide record, `undo/ip_forward` in the
//! state directory, which outlives every container until forwarding is put
//! back. The lease table is the leases; an `flock` on the `containers`
//! directory guards it, and the bridge and NAT with it.
//!
//! Under that lock a runtime picks a free address (the lesson decides
//! which), writes its lease, and makes sure the bridge and NAT exist. When
//! it ends, [`release`] deletes its veth and its lease and, if no running
//! container holds a lease any more, the bridge, the NAT table, and puts
//! forwarding back: the last one out leaves the host as it found it. A
//! runtime killed by SIGKILL cannot, nor can a `cleanup` that forgot to
//! release; the lease stays, and `just clean` replays it ([`LeaseUndo`]).
//! With no lease left at all, `just clean` still finds the course's bridge,
//! NAT table and veth pairs by their names ([`LeaseUndo::sweep`]). A dead
//! runtime's address is free again at once.

use std::fs;
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix::errno::Errno;
use nix::unistd::Pid;

use crate::config::Subnet;
use crate::error::{Context, Error, Result};
use crate::netlink::Netlink;
use crate::run::Run;
use crate::state::{self, Tidy, Undo};

/// The host's bridge, the articles' `docker0`.
pub const BRIDGE: &str = "nslab0";
/// The nftables table that holds the NAT rule: `table ip nslab`, ours
/// alone, so that removing it touches nobody else's rules.
pub const NAT_TABLE: &str = "nslab";
/// The lease's kind of undo record, in the container's state directory.
pub const LEASE: &str = "network";
/// The host-wide record of what IPv4 forwarding was before NAT, in the
/// state directory.
pub const FORWARDING_RECORD: &str = "ip_forward";
const FORWARDING: &str = "/proc/sys/net/ipv4/ip_forward";

/// One container's place on the bridge network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub subnet: Subnet,
    pub address: Ipv4Addr,
    /// The end of the veth pair that stays on the host, on the bridge...
    pub host_end: String,
    /// ...and the end that goes into the container, until it is renamed
    /// `eth0` there.
    pub container_end: String,
    /// With `--nat`: `/proc/sys/net/ipv4/ip_forward` as it was before the
    /// first running `--nat` container turned it on.
    pub forwarding_before_nat: Option<String>,
}

impl Lease {
    /// A lease for the container of the runtime `runtime`. The veth pair
    /// is named after the runtime's PID: unique while it runs, at most
    /// `nslab-4194304-c`, the 15 bytes a link name may have.
    pub fn new(runtime: Pid, subnet: Subnet, address: Ipv4Addr) -> Lease {
        Lease {
            subnet,
            address,
            host_end: format!("nslab-{runtime}"),
            container_end: format!("nslab-{runtime}-c"),
            forwarding_before_nat: None,
        }
    }

    /// In the container (lesson 06's `in_child`): the lease the runtime
    /// wrote for it before it let it go on.
    pub fn of_this_container(run: &Run) -> Result<Lease> {
        let text = run
            .read_file(&lease_path(Path::new("")))
            .context("read the container's address lease")
            .map_err(|e| e.fix("the runtime writes it in in_parent, with --net bridge"))?;
        Lease::parse(&text).ok_or_else(|| Error::new("the container's address lease is damaged"))
    }

    fn to_text(&self) -> String {
        let mut text = format!(
            "subnet {}\naddress {}\nhost-end {}\ncontainer-end {}\n",
            self.subnet, self.address, self.host_end, self.container_end
        );
        if let Some(before) = &self.forwarding_before_nat {
            text.push_str(&format!("nat forwarding-before {before}\n"));
        }
        text
    }

    fn parse(text: &str) -> Option<Lease> {
        let field = |key: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(key)?.strip_prefix(' '))
        };
        Some(Lease {
            subnet: field("subnet")?.parse().ok()?,
            address: field("address")?.parse().ok()?,
            host_end: field("host-end")?.to_string(),
            container_end: field("container-end")?.to_string(),
            forwarding_before_nat: field("nat forwarding-before").map(str::to_string),
        })
    }
}

/// The runtime PID and the lease in each container directory under
/// `state_root`, of running and dead runtimes alike.
fn read_leases(state_root: &Path) -> Vec<(i32, Lease)> {
    let Ok(entries) = fs::read_dir(state_root.join(state::CONTAINERS)) else {
        return Vec::new();
    };
    let mut leases: Vec<(i32, Lease)> = entries
        .flatten()
        .filter_map(|entry| {
            let pid = state::owner(&entry.path())?;
            let text = fs::read_to_string(lease_path(&entry.path())).ok()?;
            Some((pid, Lease::parse(&text)?))
        })
        .collect();
    leases.sort_by_key(|(pid, _)| *pid);
    leases
}

/// The addresses of `subnet` that running containers hold, from `leases`.
/// Refused if they are on another subnet: the bridge serves one at a time.
fn taken_in(leases: &[(i32, Lease)], subnet: &Subnet) -> Result<Vec<Ipv4Addr>> {
    let running = leases
        .iter()
        .filter(|(pid, _)| state::runtime_is_alive(*pid))
        .map(|(_, lease)| lease);
    let mut taken = Vec::new();
    for lease in running {
        if lease.subnet != *subnet {
            return Err(Error::new(format!(
                "--subnet {subnet}: the bridge {BRIDGE} serves {} for running containers",
                lease.subnet
            ))
            .fix(format!(
                "use --subnet {}, or start this one when they have ended",
                lease.subnet
            )));
        }
        taken.push(lease.address);
    }
    Ok(taken)
}

/// The lease in the container directory `dir`.
fn lease_path(dir: &Path) -> PathBuf {
    state::record_path(dir, LEASE)
}

/// The addresses of `subnet` that running containers hold now, read
/// without the lock: for `validate`, which refuses early when nothing is
/// free. `in_parent` asks again, under the lock, before it takes one.
pub fn addresses_in_use(state_root: &Path, subnet: &Subnet) -> Result<Vec<Ipv4Addr>> {
    taken_in(&read_leases(state_root), subnet)
}

/// The lease table, locked: until it is dropped, no other runtime reads or
/// changes a lease, the bridge or NAT.
pub struct Leases {
    _lock: state::Lock,
    state_root: PathBuf,
    all: Vec<(i32, Lease)>,
}

impl Leases {
    /// Wait for the lock on the lease table under `state_root`.
    pub fn lock(state_root: &Path) -> Result<Leases> {
        let lock = state::lock(state_root)?;
        Ok(Leases {
            _lock: lock,
            state_root: state_root.to_path_buf(),
            all: read_leases(state_root),
        })
    }

    /// The addresses of `subnet` that running containers hold; refused if
    /// they are on another subnet.
    pub fn taken(&self, subnet: &Subnet) -> Result<Vec<Ipv4Addr>> {
        taken_in(&self.all, subnet)
    }

    /// Record `lease` in `container_dir`, the state directory of a running
    /// container; with `nat`, also turn NAT on for its subnet.
    pub fn take(&mut self, container_dir: &Path, mut lease: Lease, nat: bool) -> Result<Lease> {
        if nat {
            // Forwarding as it was before any --nat container, even one
            // whose lease is long gone (killed, or a cleanup that forgot
            // to release): it turned forwarding on, and left it on. The
            // host-wide record says; the first --nat container writes it.
            let before = match state::read_record(&self.state_root, FORWARDING_RECORD) {
                Some(before) => before.trim().to_string(),
                None => {
                    let now = fs::read_to_string(FORWARDING).context("read IPv4 forwarding")?;
                    state::write_record(&self.state_root, FORWARDING_RECORD, now.trim())?;
                    now.trim().to_string()
                }
            };
            lease.forwarding_before_nat = Some(before);
        }
        // The undo record, written whole before anything it undoes is
        // made: whoever reads it without the lock sees the lease or nothing.
        state::write_record(container_dir, LEASE, &lease.to_text())
            .with_context(|| format!("write the lease in {}", container_dir.display()))?;
        if let Some(pid) = state::owner(container_dir) {
            self.all.push((pid, lease.clone()));
        }
        if nat {
            enable_nat(&lease.subnet)?;
        }
        Ok(lease)
    }
}

// ANCHOR: release
/// The end of the network of the runtime `runtime` (its cleanup; `just
/// clean` for a killed one): delete its veth and its lease; then, if no
/// other running container holds a lease, the bridge; if none uses NAT,
/// the NAT table, and forwarding goes back to what it was. Returns what
/// it did, a sentence each. Does nothing if the runtime holds no lease, so it is safe
/// after a failed start, and a second time.
pub fn release(state_root: &Path, runtime: i32) -> Result<Vec<String>> {
    let leases = Leases::lock(state_root)?;
    let Some(ours) = leases
        .all
        .iter()
        .find(|(pid, _)| *pid == runtime)
        .map(|(_, lease)| lease.clone())
    else {
        return Ok(Vec::new());
    };
    let mut removed = Vec::new();
    let mut netlink = Netlink::connect().context("open a netlink socket")?;
    // Gone already if the container's network namespace went first: a veth
    // pair dies with either of its ends.
    if delete_link_named(&mut netlink, &ours.host_end)? {
        removed.push(format!("removed the veth pair {}", ours.host_end));
    }
    let others: Vec<&Lease> = leases
        .all
        .iter()
        .filter(|(pid, _)| *pid != runtime && state::runtime_is_alive(*pid))
        .map(|(_, lease)| lease)
        .collect();
    if others.is_empty() && delete_link_named(&mut netlink, BRIDGE)? {
        removed.push(format!("removed the bridge {BRIDGE}"));
    }
    let nat_in_use = others.iter().any(|l| l.forwarding_before_nat.is_some());
    if let (Some(_), false) = (&ours.forwarding_before_nat, nat_in_use) {
        removed.extend(disable_nat(state_root)?);
    }
    // Last: the lease is the record of everything above.
    let dir = state::container_dir_of(state_root, Pid::from_raw(runtime));
    state::remove_record(&dir, LEASE)?;
    Ok(removed)
}
// ANCHOR_END: release

/// The undo of a lease, for `just clean`: [`release`] for the runtime
/// that held it; and, with no lease left, the course's bridge, NAT table
/// and veth pairs found by their names.
pub struct LeaseUndo;

impl Undo for LeaseUndo {
    fn kind(&self) -> &'static str {
        LEASE
    }

    fn released_by(&self) -> &'static str {
        "network::release"
    }

    fn undo(&self, state_root: &Path, dir: &Path) -> Result<Vec<String>> {
        match state::owner(dir) {
            Some(runtime) => release(state_root, runtime),
            None => state::remove_record(dir, LEASE).map(|()| Vec::new()),
        }
    }

    fn sweep(&self, state_root: &Path, tidy: Tidy) -> Result<Vec<String>> {
        // The bridge and NAT are the whole host's, and only root makes
        // them: they are swept with root's state directory only.
        if state_root != Path::new(state::ROOT_STATE_DIR) || !nix::unistd::geteuid().is_root() {
            return Ok(Vec::new());
        }
        let leases = Leases::lock(state_root)?;
        let running: Vec<&Lease> = leases
            .all
            .iter()
            .filter(|(pid, _)| state::runtime_is_alive(*pid))
            .map(|(_, lease)| lease)
            .collect();
        let mut found = Vec::new();
        let orphans = course_links()
            .into_iter()
            .filter(|name| {
                name == BRIDGE && running.is_empty()
                    || veth_owner(name).is_some_and(|pid| !state::runtime_is_alive(pid))
            })
            .collect::<Vec<_>>();
        let nat_in_use = running.iter().any(|l| l.forwarding_before_nat.is_some());
        let nat_left = !nat_in_use
            && (nft(&format!("list table ip {NAT_TABLE}\n")).is_ok()
                || state::read_record(state_root, FORWARDING_RECORD).is_some());
        if tidy == Tidy::Look {
            found.extend(
                orphans
                    .iter()
                    .map(|name| format!("the link {name} (no running container)")),
            );
            if nat_left {
                found.push(format!(
                    "the NAT table ip {NAT_TABLE} or the record of IPv4 forwarding (no running --nat container)"
                ));
            }
            return Ok(found);
        }
        let mut netlink = Netlink::connect().context("open a netlink socket")?;
        for name in orphans {
            if delete_link_named(&mut netlink, &name)? {
                found.push(format!(
                    "removed the link {name} (no record of it was left)"
                ));
            }
        }
        if nat_left {
            found.extend(disable_nat(state_root)?);
        }
        Ok(found)
    }
}

/// The links on the host named by the course: the bridge and the host
/// ends of veth pairs, `nslab-PID` (and `nslab-PID-c`, the container's
/// end, where a learner's runtime makes it on the host to move it later).
fn course_links() -> Vec<String> {
    let Ok(entries) = fs::read_dir("/sys/class/net") else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name == BRIDGE || veth_owner(name).is_some())
        .collect();
    names.sort();
    names
}

/// The runtime PID a veth end is named after (`nslab-4242`, `nslab-4242-c`).
fn veth_owner(link: &str) -> Option<i32> {
    let pid = link.strip_prefix("nslab-")?;
    pid.strip_suffix("-c").unwrap_or(pid).parse().ok()
}

/// Delete the link `name` if it exists; whether it did.
fn delete_link_named(netlink: &mut Netlink, name: &str) -> Result<bool> {
    let deleted = netlink
        .link_index(name)
        .and_then(|index| netlink.delete_link(index));
    match deleted {
        Ok(()) => Ok(true),
        Err(Errno::ENODEV) => Ok(false),
        Err(errno) => Err(Error::new(format!("delete the link {name}")).because(errno)),
    }
}

// ANCHOR: nat
/// The NAT rule, as an nftables script: packets from the subnet that
/// leave the host by any link but the bridge get the address of that
/// link as their source ("masquerade"), so that answers come back to the
/// host, which knows whom to give them to. `add` and `flush` make it the
/// same whether the table was there or not.
fn nat_rules(subnet: &Subnet) -> String {
    format!(
        "add table ip {NAT_TABLE}\n\
         flush table ip {NAT_TABLE}\n\
         add chain ip {NAT_TABLE} postrouting {{ type nat hook postrouting priority srcnat; policy accept; }}\n\
         add rule ip {NAT_TABLE} postrouting ip saddr {subnet} oifname != \"{BRIDGE}\" masquerade\n"
    )
}

/// Let containers on `subnet` reach beyond the host: turn IPv4 forwarding
/// on (the host becomes a router) and masquerade their packets.
fn enable_nat(subnet: &Subnet) -> Result<()> {
    nft(&nat_rules(subnet)).context("add the NAT rule")?;
    fs::write(FORWARDING, "1").context("turn IPv4 forwarding on")
}

/// Remove the NAT table and put forwarding back to what the host-wide
/// record under `state_root` says it was; then remove that record.
/// Returns what it did.
fn disable_nat(state_root: &Path) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    if nft(&format!("list table ip {NAT_TABLE}\n")).is_ok() {
        nft(&format!("delete table ip {NAT_TABLE}\n")).context("remove the NAT rule")?;
        removed.push(format!("removed the NAT table ip {NAT_TABLE}"));
    }
    if let Some(before) = state::read_record(state_root, FORWARDING_RECORD) {
        let before = before.trim();
        let now = fs::read_to_string(FORWARDING).unwrap_or_default();
        if now.trim() != before {
            fs::write(FORWARDING, before).context("put IPv4 forwarding back")?;
            removed.push(format!("put IPv4 forwarding back to {before}"));
        }
        state::remove_record(state_root, FORWARDING_RECORD)?;
    }
    Ok(removed)
}
// ANCHOR_END: nat

/// Run an nftables script with `nft -f -`. nftables speaks netlink too,
/// but its messages (batches of tables, chains and rule expressions) are
/// a language of their own; one rule is not worth it, so we let `nft`
/// translate (see docs/decisions/0014-bridge-network.md).
fn nft(script: &str) -> Result<()> {
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("run nft")
        .map_err(|e| e.fix("install nftables (setup.sh does)"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(script.as_bytes()).context("write to nft")?;
    }
    let output = child.wait_with_output().context("wait for nft")?;
    if output.status.success() {
        Ok(())
    } else {
        Err(Error::new("nft failed").because(String::from_utf8_lossy(&output.stderr)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scratch::Scratch;

    fn lease(address: &str) -> Lease {
        Lease::new(
            Pid::from_raw(4242),
            "10.77.0.0/24".parse().unwrap(),
            address.parse().unwrap(),
        )
    }

    #[test]
    fn a_lease_round_trips_through_its_file() {
        let mut with_nat = lease("10.77.0.2");
        assert_eq!(Lease::parse(&with_nat.to_text()), Some(with_nat.clone()));
        with_nat.forwarding_before_nat = Some("0".into());
        assert_eq!(Lease::parse(&with_nat.to_text()), Some(with_nat.clone()));
        assert_eq!(with_nat.container_end, "nslab-4242-c");
        assert_eq!(Lease::parse("subnet 10.77.0.0/24\n"), None);
    }

    /// Only running containers hold addresses: ours is alive, PID
    /// 4194305 never is.
    #[test]
    fn only_running_containers_hold_addresses_and_all_on_one_subnet() {
        let alive = std::process::id() as i32;
        let leases = vec![(alive, lease("10.77.0.2")), (4_194_305, lease("10.77.0.3"))];
        let subnet = "10.77.0.0/24".parse().unwrap();
        assert_eq!(
            taken_in(&leases, &subnet).unwrap(),
            [Ipv4Addr::new(10, 77, 0, 2)]
        );
        let other = "10.78.0.0/24".parse().unwrap();
        let refused = taken_in(&leases, &other).unwrap_err().to_string();
        assert!(refused.contains("serves 10.77.0.0/24"), "{refused}");
    }

    #[test]
    fn leases_are_read_from_the_container_directories() {
        let scratch = Scratch::new("leases");
        let dir = state::container_dir_of(&scratch.0, Pid::from_raw(7));
        state::create_container_dir(&dir).unwrap();
        let mut table = Leases::lock(&scratch.0).unwrap();
        table.take(&dir, lease("10.77.0.9"), false).unwrap();
        drop(table);
        assert_eq!(read_leases(&scratch.0), [(7, lease("10.77.0.9"))]);
    }

    #[test]
    fn the_nat_rule_masquerades_the_subnet_leaving_by_other_links() {
        let rules = nat_rules(&"10.77.0.0/24".parse().unwrap());
        assert!(rules.contains("ip saddr 10.77.0.0/24 oifname != \"nslab0\" masquerade"));
    }
}
