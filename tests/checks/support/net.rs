//! Lesson 06's material: the host's side of the bridge network as `ip`,
//! `nft` and `/proc` on the host show it, and the small networks a check
//! makes for itself (an "outside" namespace, a route), removed on drop.
//!
//! Addresses a check makes up come from 198.18.0.0/15, the range set aside
//! for network tests (RFC 2544), with a random third byte: no traffic ever
//! leaves the namespaces the check created.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use nslab_runtime::network::{BRIDGE, NAT_TABLE};
use nslab_runtime::state;

use nix::sys::signal::Signal;
use nslab_runtime::Subnet;
use std::net::Ipv4Addr;

use super::run::{Running, trapping};
use super::{Container, Outcome, random_hex};

/// The reference binary or the learner's, for lesson 06's checks, with
/// `--net bridge`.
pub fn bridged() -> Container {
    Container::for_lesson(6).flag("--net").flag("bridge")
}

/// The bridge's address: the first host address of the subnet.
pub fn gateway(subnet: &Subnet) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(subnet.network) + 1)
}

/// Whether a container may have `address` in `subnet`: not the network,
/// not the gateway, not the broadcast address.
pub fn is_a_containers_address(subnet: &Subnet, address: Ipv4Addr) -> bool {
    subnet.contains(address)
        && ![subnet.network, gateway(subnet), subnet.broadcast()].contains(&address)
}

/// The address of `eth0` in what `ip -o -4 address show` printed.
pub fn eth0_address(listing: &str) -> Option<Ipv4Addr> {
    listing.lines().find_map(|line| {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.get(1) != Some(&"eth0") {
            return None;
        }
        words.get(3)?.split('/').next()?.parse().ok()
    })
}

/// A running container that waits for SIGTERM, with `before` run first.
pub fn start_waiting(container: Container, before: &str) -> Running {
    container.start_until_ready(&["sh", "-c", &format!("{before}{}", trapping("TERM", 0))])
}

/// Stop a container started by [`start_waiting`]; it must end well.
pub fn stop(mut running: Running) -> Outcome {
    running.signal_runtime(Signal::SIGTERM);
    let outcome = running.finish();
    outcome.expect_success();
    outcome
}

/// The destination of one route of the host's main table other than the
/// default route (the network of its own link, as `ip -4 route` lists
/// it): a subnet no bridge may take.
pub fn a_host_route() -> String {
    let listed = Outcome::of_host_command("ip", &["-4", "-o", "route", "show", "table", "main"]);
    listed
        .stdout
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .find(|destination| destination.contains('/'))
        .unwrap_or_else(|| listed.fail("should list a route to a network of the host"))
        .to_string()
}

/// A subnet of 10.0.0.0/8 with a prefix of `prefix_len` bits that no
/// route of the host's main table overlaps, by the rule the runtime uses
/// (`Subnet::overlaps`): a bridge there reaches no one but the check's
/// containers.
pub fn a_subnet_clear_of_the_hosts_routes(prefix_len: u8) -> Subnet {
    let listed = Outcome::of_host_command("ip", &["-4", "-o", "route", "show", "table", "main"]);
    let routes: Vec<Subnet> = listed
        .stdout
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|destination| *destination != "default")
        .filter_map(|destination| match destination.contains('/') {
            true => destination.parse().ok(),
            false => format!("{destination}/32").parse().ok(),
        })
        .collect();
    let size = 1u32 << (32 - prefix_len);
    (0..50)
        .map(|_| {
            let random = u32::from_str_radix(&random_hex(3), 16).expect("six hex digits");
            let start = (10 << 24) | (random & 0x00ff_ffff & !(size - 1));
            Subnet {
                network: Ipv4Addr::from(start),
                prefix_len,
            }
        })
        .find(|subnet| !routes.iter().any(|route| route.overlaps(subnet)))
        .unwrap_or_else(|| listed.fail("should leave a subnet of 10.0.0.0/8 free of routes"))
}

/// One link, from `ip -o link show`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub name: String,
    /// Administratively up (`UP` among its flags).
    pub up: bool,
    /// The bridge it is attached to, if any.
    pub master: Option<String>,
}

impl std::fmt::Display for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = if self.up { "up" } else { "down" };
        match &self.master {
            Some(bridge) => write!(f, "{} ({state}, on {bridge})", self.name),
            None => write!(f, "{} ({state}, on no bridge)", self.name),
        }
    }
}

/// The links `ip -o link show` lists in `text`.
pub fn links_in(text: &str) -> Vec<Link> {
    text.lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            // `4: nslab-42@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> ... master nslab0 ...`
            let name = words.get(1)?.trim_end_matches(':');
            let name = name.split('@').next()?.to_string();
            let flags = words.get(2)?.trim_matches(['<', '>']);
            let master = words
                .iter()
                .skip_while(|word| **word != "master")
                .nth(1)
                .map(|bridge| bridge.to_string());
            Some(Link {
                name,
                up: flags.split(',').any(|flag| flag == "UP"),
                master,
            })
        })
        .collect()
}

/// Every link of the host.
pub fn host_links() -> Vec<Link> {
    let listed = Outcome::of_host_command("ip", &["-o", "link", "show"]);
    listed.expect_success();
    links_in(&listed.stdout)
}

/// The host's link `name`, if it has one.
pub fn host_link(name: &str) -> Option<Link> {
    host_links().into_iter().find(|link| link.name == name)
}

/// The IPv4 addresses of the host's link `name`, as `ADDRESS/PREFIX`.
pub fn host_addresses(name: &str) -> Vec<String> {
    let listed = Outcome::of_host_command("ip", &["-o", "-4", "address", "show", "dev", name]);
    listed
        .stdout
        .lines()
        .filter_map(|line| line.split_whitespace().nth(3).map(str::to_string))
        .collect()
}

/// The host's bridge, if it is there.
pub fn bridge() -> Option<Link> {
    host_link(BRIDGE)
}

/// `nft list table ip nslab` on the host, if the table exists.
pub fn nat_table() -> Option<String> {
    let listed = Outcome::of_host_command("nft", &["list", "table", "ip", NAT_TABLE]);
    (listed.status == Some(0)).then_some(listed.stdout)
}

/// `/proc/sys/net/ipv4/ip_forward`, trimmed.
pub fn forwarding() -> String {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward")
        .expect("read /proc/sys/net/ipv4/ip_forward")
        .trim()
        .to_string()
}

/// Where the runtime `runtime` keeps its address lease.
pub fn lease_file(runtime: i32) -> PathBuf {
    state::container_dir_of(
        std::path::Path::new(state::ROOT_STATE_DIR),
        nix::unistd::Pid::from_raw(runtime),
    )
    .join(state::UNDO)
    .join(nslab_runtime::network::LEASE)
}

/// A random byte for a third octet, so that runs never share a network.
pub fn random_octet() -> u8 {
    u8::from_str_radix(&random_hex(1), 16).expect("two hex digits")
}

/// A route on the host that goes nowhere (`ip route add blackhole NET`):
/// it claims the network for the host without any link or traffic.
/// Removed on drop.
pub struct BlackholeRoute {
    pub network: String,
}

impl BlackholeRoute {
    pub fn add(network: &str) -> BlackholeRoute {
        Outcome::of_host_command("ip", &["route", "add", "blackhole", network]).expect_success();
        BlackholeRoute {
            network: network.to_string(),
        }
    }
}

impl Drop for BlackholeRoute {
    fn drop(&mut self) {
        let _ = Outcome::of_host_command("ip", &["route", "del", "blackhole", &self.network]);
    }
}

/// A network namespace that plays "the outside world" for NAT: a process
/// of the check's own (`unshare --net`) holds it; the host reaches it
/// through a veth pair, on a /30 of 198.19.0.0/16, and it has no route
/// anywhere else, so it can only answer an address of that /30. Not made
/// with `ip netns add`, which leaves a mount on /run/netns behind. Removed
/// on drop, process and veth pair.
pub struct OutsideNetwork {
    holder: Child,
    host_end: String,
    /// The outside's address, to ping.
    pub address: String,
}

impl OutsideNetwork {
    pub fn new() -> OutsideNetwork {
        let mut holder = Command::new("unshare")
            .args(["--net", "sh", "-c", "echo ready; exec sleep 600"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start `unshare --net` for the outside network");
        // Once it has printed, it is in its new network namespace.
        let mut ready = String::new();
        let stdout = holder.stdout.take().expect("piped stdout");
        BufReader::new(stdout)
            .read_line(&mut ready)
            .expect("read from `unshare --net`");
        let octet = random_octet();
        let outside = OutsideNetwork {
            host_end: format!("nslab-o-{}", random_hex(3)),
            address: format!("198.19.{octet}.2"),
            holder,
        };
        let pid = outside.holder.id().to_string();
        let host_address = format!("198.19.{octet}.1/30");
        let outside_address = format!("{}/30", outside.address);
        let end = outside.host_end.as_str();
        for command in [
            &[
                "ip", "link", "add", end, "type", "veth", "peer", "name", "eth0", "netns", &pid,
            ][..],
            &["ip", "address", "add", &host_address, "dev", end],
            &["ip", "link", "set", end, "up"],
            &[
                "nsenter",
                "--net",
                "--target",
                &pid,
                "ip",
                "address",
                "add",
                &outside_address,
                "dev",
                "eth0",
            ],
            &[
                "nsenter", "--net", "--target", &pid, "ip", "link", "set", "eth0", "up",
            ],
        ] {
            Outcome::of_host_command(command[0], &command[1..]).expect_success();
        }
        outside
    }
}

impl Drop for OutsideNetwork {
    fn drop(&mut self) {
        let _ = Outcome::of_host_command("ip", &["link", "del", &self.host_end]);
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}
