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
        if run.config.net == NetMode::None {
            let needs_bridge = match (run.config.subnet, run.config.nat) {
                (Some(subnet), _) => format!("--subnet {subnet}"),
                (None, true) => "--nat".to_string(),
                (None, false) => return Ok(()),
            };
            return Err(Error::new(format!("{needs_bridge} needs --net bridge"))
                .fix("add --net bridge, or leave it out"));
        }
        if !geteuid().is_root() {
            return Err(Error::new(
                "--net bridge needs root: it adds a bridge and veth pairs to the host",
            )
            .fix("run as root (sudo), or use --net none"));
        }
        let subnet = subnet_of(&run.config);
        if subnet.prefix_len > 30 {
            return Err(Error::new(format!(
                "--subnet {subnet} is too small: it has no address for a container \
                 beside the gateway"
            ))
            .fix("use a prefix of /30 or shorter, e.g. /24"));
        }
        if let Some(route) = host_routes()?.iter().find(|route| route.overlaps(&subnet)) {
            return Err(Error::new(format!(
                "--subnet {subnet} overlaps the host's route to {route}"
            ))
            .fix("choose a subnet that no route of the host covers (see `ip route`)"));
        }
        let taken = network::addresses_in_use(&run.state_root, &subnet)?;
        if pick_address(&subnet, &taken).is_none() {
            return Err(no_free_address(&subnet));
        }
        Ok(())
    }
    // ANCHOR_END: validate

    // ANCHOR: clone_flags
    fn clone_flags(&self) -> CloneFlags {
        CloneFlags::CLONE_NEWNET
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
    let first = u32::from(subnet.network).checked_add(2)?;
    let last = u32::from(subnet.broadcast()).checked_sub(1)?;
    (first..=last)
        .map(Ipv4Addr::from)
        .find(|address| !taken.contains(address))
}
// ANCHOR_END: pick_address

// ANCHOR: bring_up_loopback
/// A new network namespace has a loopback device, down: bring it up, and
/// 127.0.0.1 answers inside. (`ip link set lo up`)
fn bring_up_loopback(netlink: &mut Netlink) -> Result<()> {
    let lo = netlink.link_index("lo").context("find lo")?;
    netlink.set_up(lo).context("bring lo up")
}
// ANCHOR_END: bring_up_loopback

// ANCHOR: ensure_bridge
/// The host's bridge, up, with the gateway's address: the first container
/// creates it, the others find it. Returns its index.
fn ensure_bridge(netlink: &mut Netlink, subnet: &Subnet) -> Result<u32> {
    // ip link add nslab0 type bridge
    let mut bridge = LinkMessage::default();
    bridge
        .attributes
        .push(LinkAttribute::IfName(BRIDGE.to_string()));
    bridge
        .attributes
        .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(
            InfoKind::Bridge,
        )]));
    // A hardware address of its own (locally administered, "nslab"), as
    // Docker gives docker0: without one, a bridge takes the lowest of its
    // ports', and changes it as containers come and go, and a container
    // that learnt the old one has its packets to the gateway dropped.
    // 02 (locally administered, unicast), then "nslab" in ASCII.
    bridge.attributes.push(LinkAttribute::Address(vec![
        0x02, b'n', b's', b'l', b'a', b'b',
    ]));
    made_already_is_fine(netlink.request(
        RouteNetlinkMessage::NewLink(bridge),
        NLM_F_CREATE | NLM_F_EXCL,
    ))
    .with_context(|| format!("create the bridge {BRIDGE}"))?;
    let index = netlink
        .link_index(BRIDGE)
        .with_context(|| format!("find the bridge {BRIDGE}"))?;
    // ip address add GATEWAY/PREFIX dev nslab0
    made_already_is_fine(netlink.add_address(index, gateway(subnet), subnet.prefix_len))
        .with_context(|| format!("give {BRIDGE} the gateway's address"))?;
    // ip link set nslab0 up
    netlink
        .set_up(index)
        .with_context(|| format!("bring {BRIDGE} up"))?;
    Ok(index)
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
    // ip link add HOST_END type veth peer name CONTAINER_END netns PID
    // The peer is made in the container's namespace: nothing on the host
    // ever sees it, and there is no move to wait for (moving a link to
    // another namespace makes the kernel wait, tens of milliseconds here).
    let mut peer = LinkMessage::default();
    peer.attributes
        .push(LinkAttribute::IfName(lease.container_end.clone()));
    peer.attributes
        .push(LinkAttribute::NetNsPid(container.as_raw() as u32));
    let mut pair = LinkMessage::default();
    pair.attributes
        .push(LinkAttribute::IfName(lease.host_end.clone()));
    pair.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(InfoKind::Veth),
        LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))),
    ]));
    netlink
        .request(
            RouteNetlinkMessage::NewLink(pair),
            NLM_F_CREATE | NLM_F_EXCL,
        )
        .with_context(|| format!("create the veth pair {}", lease.host_end))?;
    // ip link set HOST_END master nslab0 up
    let host_end = find(netlink, &lease.host_end)?;
    netlink
        .set_link(host_end, LinkAttribute::Controller(bridge))
        .with_context(|| format!("attach {} to {BRIDGE}", lease.host_end))?;
    netlink
        .set_up(host_end)
        .with_context(|| format!("bring {} up", lease.host_end))
}
// ANCHOR_END: connect_container

// ANCHOR: configure_eth0
/// Inside the container: its end of the veth pair becomes `eth0`, with
/// the leased address, up; and the default route goes via the gateway.
fn configure_eth0(netlink: &mut Netlink, lease: &Lease) -> Result<()> {
    // ip link set CONTAINER_END name eth0
    let eth0 = find(netlink, &lease.container_end)?;
    netlink
        .set_link(eth0, LinkAttribute::IfName("eth0".to_string()))
        .with_context(|| format!("rename {} to eth0", lease.container_end))?;
    // ip address add ADDRESS/PREFIX dev eth0
    netlink
        .add_address(eth0, lease.address, lease.subnet.prefix_len)
        .with_context(|| format!("give eth0 the address {}", lease.address))?;
    // ip link set eth0 up
    netlink.set_up(eth0).context("bring eth0 up")?;
    // ip route add default via GATEWAY
    let gateway = gateway(&lease.subnet);
    netlink
        .add_default_route(gateway)
        .with_context(|| format!("add the default route via {gateway}"))
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
