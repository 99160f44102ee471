//! Lesson 06: net.
//!
//! A network namespace is a network stack of the container's own: its
//! links, addresses, routes, firewall rules and ports. A new one holds a
//! loopback device, down, and nothing else. `--net none` stops there, with
//! `lo` up. `--net bridge` wires the container to the host as Docker does:
//! a bridge on the host, `nslab0`, holds the gateway's address; each
//! container gets a veth pair, one end on the bridge and the other inside,
//! renamed `eth0`, with an address of the subnet and a default route via
//! the gateway. Every change is a netlink message, as `ip` would send it.

use std::fs;
use std::net::{Ipv4Addr, UdpSocket};
use std::time::{Duration, Instant};

use nix::unistd::{Pid, geteuid};
use nslab_runtime::config::DEFAULT_SUBNET;
use nslab_runtime::netlink::Netlink;
use nslab_runtime::netlink::core::{NLM_F_CREATE, NLM_F_EXCL};
use nslab_runtime::netlink::route::RouteNetlinkMessage;
use nslab_runtime::netlink::route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkInfo, LinkMessage,
};
use nslab_runtime::netlink::route::neighbour::NeighbourState;
use nslab_runtime::netlink::route::route::RouteHeader;
use nslab_runtime::network::{self, BRIDGE, Lease, Leases};
use nslab_runtime::{
    CloneFlags, Config, Context, Errno, Error, Namespace, NetMode, Result, Run, Subnet, conf,
    transcript,
};

pub struct NetNamespace;

impl Namespace for NetNamespace {
    // ANCHOR: validate
    /// Refuse a network that cannot work, before anything exists.
    fn validate(&self, run: &Run) -> Result<()> {
        // Book: chapter 06, "Exercise: validate". A network that cannot work
        // must be refused before anything is created, in one line naming the
        // flag and the fix: --subnet and --nat mean nothing with --net none; a
        // bridge needs root, a subnet with room for a gateway and a container,
        // one that no route of the host covers already, and a free address in
        // it.
        todo!("refuse a network that cannot work")
    }
    // ANCHOR_END: validate

    // ANCHOR: clone_flags
    fn clone_flags(&self) -> CloneFlags {
        // Book: chapter 06, "Exercise: clone_flags". The child must get a
        // network namespace of its own: its own links, addresses, routes and
        // firewall, starting with a loopback that is down.
        todo!("which clone flag creates a network namespace?")
    }
    // ANCHOR_END: clone_flags

    // ANCHOR: in_parent
    /// On the host, while the container waits: with `--net bridge`, lease
    /// an address, make sure the bridge is there, and run a veth pair from
    /// it into the container.
    fn in_parent(&self, run: &Run, child: Pid) -> Result<()> {
        refuse_the_hosts_network_namespace(child)?;
        if run.config.net == NetMode::None {
            return Ok(());
        }
        let subnet = subnet_of(&run.config);
        let mut netlink = connect()?;
        // Under the lock, no other runtime takes an address, or removes
        // the bridge, between our choice and our lease.
        let mut leases = Leases::lock(&run.state_root)?;
        let address = pick_address(&subnet, &leases.taken(&subnet)?)
            .ok_or_else(|| no_free_address(&subnet))?;
        let lease = Lease::new(run.runtime_pid, subnet, address);
        let lease = leases.take(&run.container_dir, lease, run.config.nat)?;
        let bridge = ensure_bridge(&mut netlink, &subnet)?;
        drop(leases);
        connect_container(&mut netlink, bridge, &lease, child)?;
        conf::add_host(&run.container_dir, address.into(), &run.config.hostname)?;
        transcript::parent(format_args!(
            "network: {address}/{} on the bridge {BRIDGE}, through the veth pair {}{}",
            subnet.prefix_len,
            lease.host_end,
            if run.config.nat { ", with NAT" } else { "" }
        ));
        Ok(())
    }
    // ANCHOR_END: in_parent

    // ANCHOR: in_child
    /// Inside the new network namespace, after the parent's part.
    fn in_child(&self, run: &Run) -> Result<()> {
        let mut netlink = connect()?;
        bring_up_loopback(&mut netlink)?;
        if run.config.net == NetMode::Bridge {
            let lease = Lease::of_this_container(run)?;
            configure_eth0(&mut netlink, &lease)?;
            wait_for_the_gateway(&mut netlink, &lease)?;
            transcript::container(format_args!(
                "eth0 is {}/{}, default route via {}",
                lease.address,
                lease.subnet.prefix_len,
                gateway(&lease.subnet)
            ));
        }
        Ok(())
    }
    // ANCHOR_END: in_child

    // ANCHOR: cleanup
    /// Once the container is gone: its veth pair and its lease; the bridge
    /// and NAT too, if it was the last container to use them.
    fn cleanup(&self, run: &Run, _child: Pid) -> Result<()> {
        if run.config.net == NetMode::Bridge {
            let done = network::release(&run.state_root, run.runtime_pid.as_raw())?;
            if !done.is_empty() {
                transcript::parent(format_args!("network: {}", done.join("; ")));
            }
        }
        Ok(())
    }
    // ANCHOR_END: cleanup
}

// ANCHOR: pick_address
/// The first address of `subnet` that a container may have and nobody
/// has `taken`; `None` if there is none. Not the network's own address
/// (the first), not the gateway's (the second), not the broadcast address
/// (the last).
pub fn pick_address(subnet: &Subnet, taken: &[Ipv4Addr]) -> Option<Ipv4Addr> {
    // Book: chapter 06, "Exercise: pick_address". The container's address is
    // the first one of `subnet` that is not `taken`, never the network address,
    // the gateway (the first host) or the broadcast address; None when none is
    // left. No arithmetic may overflow, whatever the subnet.
    todo!("the first free address of the subnet")
}
// ANCHOR_END: pick_address

// ANCHOR: bring_up_loopback
/// A new network namespace has a loopback device, down: bring it up, and
/// 127.0.0.1 answers inside. (`ip link set lo up`)
fn bring_up_loopback(netlink: &mut Netlink) -> Result<()> {
    // Book: chapter 06, "Exercise: bring_up_loopback". Inside, `lo` must be up,
    // or not even 127.0.0.1 answers.
    todo!("bring lo up")
}
// ANCHOR_END: bring_up_loopback

// ANCHOR: ensure_bridge
/// The host's bridge, up, with the gateway's address: the first container
/// creates it, the others find it. Returns its index.
fn ensure_bridge(netlink: &mut Netlink, subnet: &Subnet) -> Result<u32> {
    // Book: chapter 06, "Exercise: ensure_bridge". The host must have the
    // bridge BRIDGE, up, with the gateway's address of `subnet` and a hardware
    // address of its own; the second container finds it there already, and must
    // not fail for that.
    todo!("create the bridge, or find it")
}
// ANCHOR_END: ensure_bridge

// ANCHOR: connect_container
/// A veth pair for the container: the host's end on the bridge, up; the
/// other end created straight in the container's network namespace, which
/// the kernel finds by the PID of a process in it.
fn connect_container(
    netlink: &mut Netlink,
    bridge: u32,
    lease: &Lease,
    container: Pid,
) -> Result<()> {
    // Book: chapter 06, "Exercise: connect_container". A cable must run from
    // the bridge into the container: a pair of linked interfaces named after
    // the lease's two ends, the host's end attached to `bridge` and up, the
    // other end in the container's network namespace.
    todo!("run a cable from the bridge into the container")
}
// ANCHOR_END: connect_container

// ANCHOR: configure_eth0
/// Inside the container: its end of the veth pair becomes `eth0`, with
/// the leased address, up; and the default route goes via the gateway.
fn configure_eth0(netlink: &mut Netlink, lease: &Lease) -> Result<()> {
    // Book: chapter 06, "Exercise: configure_eth0". Inside, the container's end
    // must be called eth0, hold the lease's address with the subnet's prefix,
    // be up, and carry the default route via the gateway. The route comes last:
    // the kernel refuses a route via a gateway that no link that is up can
    // reach.
    todo!("make the container's end of the cable eth0")
}
// ANCHOR_END: configure_eth0

// ANCHOR: helpers
/// The subnet of the bridge network: `--subnet`, or the default.
fn subnet_of(config: &Config) -> Subnet {
    config.subnet.unwrap_or(DEFAULT_SUBNET)
}

/// The gateway of `subnet`, the bridge's address: its first host address.
pub fn gateway(subnet: &Subnet) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(subnet.network).wrapping_add(1))
}

fn no_free_address(subnet: &Subnet) -> Error {
    Error::new(format!(
        "--subnet {subnet} is exhausted: running containers hold every address"
    ))
    .fix("stop one of them, or use a larger subnet")
}

/// The host's routes that the subnet must not overlap: those of the main
/// table, but for the default route (it overlaps everything: it is where
/// everything else goes) and the routes through our own bridge.
fn host_routes() -> Result<Vec<Subnet>> {
    let mut netlink = connect()?;
    // Another container may add the bridge, or remove it, while we look:
    // a route on the bridge as it was before the dump or after it is ours.
    let bridge_before = netlink.link_index(BRIDGE).ok();
    let routes = netlink.ipv4_routes().context("list the host's routes")?;
    let bridge_after = netlink.link_index(BRIDGE).ok();
    let on_the_bridge = |device: Option<u32>| {
        device.is_some() && (device == bridge_before || device == bridge_after)
    };
    let main = u32::from(RouteHeader::RT_TABLE_MAIN);
    Ok(routes
        .into_iter()
        .filter(|route| route.table == main && route.destination.prefix_len > 0)
        .filter(|route| !on_the_bridge(route.device))
        .map(|route| route.destination)
        .collect())
}

/// Wait until the gateway answers, so that the command's first packet is
/// not lost. A link that has just come up is switched on a moment later,
/// by a worker of the kernel's ("link watch"), for each end of the veth
/// pair on its own: until the host's end is on, what reaches it is
/// dropped, and the kernel asks again for the gateway's hardware address
/// (ARP) only after a second. So ask, and ask again, until it is known.
fn wait_for_the_gateway(netlink: &mut Netlink, lease: &Lease) -> Result<()> {
    let (eth0, gateway) = (find(netlink, "eth0")?, gateway(&lease.subnet));
    // Sending a datagram to the gateway makes the kernel ask for its
    // hardware address; port 9 is "discard".
    let probe = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).context("open a UDP socket")?;
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut asked: Option<Instant> = None;
    loop {
        if asked.is_none_or(|at| at.elapsed() > Duration::from_millis(50)) {
            // Forget an unanswered question, so that the kernel asks anew.
            let _ = netlink.delete_neighbour(eth0, gateway);
            let _ = probe.send_to(&[], (gateway, 9));
            asked = Some(Instant::now());
        }
        std::thread::sleep(Duration::from_millis(1));
        let state = netlink
            .neighbour_state(eth0, gateway)
            .context("read the neighbour table")?;
        let unknown = [
            NeighbourState::None,
            NeighbourState::Incomplete,
            NeighbourState::Failed,
        ];
        if state.is_some_and(|state| !unknown.contains(&state)) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(Error::new(format!("the gateway {gateway} does not answer"))
                .fix("the host's end of the veth pair must be on the bridge and up, and eth0 up"));
        }
    }
}

fn connect() -> Result<Netlink> {
    Netlink::connect().context("open a netlink socket")
}

/// The index of the link `name` in this network namespace.
fn find(netlink: &mut Netlink, name: &str) -> Result<u32> {
    netlink
        .link_index(name)
        .with_context(|| format!("find the link {name}"))
}

/// EEXIST means another container has made it already: fine.
fn made_already_is_fine(result: nix::Result<()>) -> nix::Result<()> {
    match result {
        Err(Errno::EEXIST) => Ok(()),
        other => other,
    }
}

/// A safety net while `clone_flags` is unfinished: in the host's network
/// namespace, the container's end of the cable would stay on the host,
/// and its setup would rename and route the host's links.
fn refuse_the_hosts_network_namespace(child: Pid) -> Result<()> {
    let namespace = |pid: String| fs::read_link(format!("/proc/{pid}/ns/net")).ok();
    if namespace(child.to_string()).is_some_and(|theirs| namespace("self".into()) == Some(theirs)) {
        return Err(Error::new(
            "the container is in the host's network namespace; nothing was changed",
        )
        .fix("return CloneFlags::CLONE_NEWNET from clone_flags"));
    }
    Ok(())
}
// ANCHOR_END: helpers
