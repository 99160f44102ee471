//! A small rtnetlink client: send one request and read the kernel's
//! acknowledgement, or read a dump.
//!
//! `ip link add`, `ip addr add` and `ip route add` are netlink messages to
//! the kernel; Docker and every other runtime send them directly rather
//! than running `ip`. Lesson 06 builds the container's network this way:
//! the messages come from the maintained `netlink-packet-route` crate
//! (re-exported here as [`route`]), and this module only carries them. It is
//! synchronous: one request, one answer, no async runtime to build.
//!
//! A socket talks to the network namespace of the thread that created it,
//! so connect inside the namespace you want to change.
//!
//! Below the transport, a few requests every networking lesson needs
//! (find a link, bring it up, change it, delete it, add an address or a
//! default route, list the routes), each named after the `ip` command that
//! sends the same message. Which link goes where is the lessons' business.

use std::net::Ipv4Addr;

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage,
    NetlinkPayload,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};
use nix::errno::Errno;

pub use netlink_packet_core as core;
pub use netlink_packet_route as route;
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::config::Subnet;

/// Large enough for the biggest answer the kernel sends in one datagram.
const RECEIVE_BUFFER: usize = 64 * 1024;

pub struct Netlink {
    socket: Socket,
    sequence: u32,
}

impl Netlink {
    /// A socket to the kernel's routing subsystem, in this process's
    /// network namespace.
    pub fn connect() -> nix::Result<Netlink> {
        let mut socket = Socket::new(NETLINK_ROUTE).map_err(io_errno)?;
        socket.bind_auto().map_err(io_errno)?;
        socket.connect(&SocketAddr::new(0, 0)).map_err(io_errno)?;
        Ok(Netlink {
            socket,
            sequence: 0,
        })
    }

    /// Send `message` and wait for the kernel's answer: `Ok` if it was done,
    /// else the errno the kernel gave (EEXIST, ENODEV, EPERM...). `flags`
    /// adds to `NLM_F_REQUEST | NLM_F_ACK`, e.g. `NLM_F_CREATE | NLM_F_EXCL`.
    pub fn request(&mut self, message: RouteNetlinkMessage, flags: u16) -> nix::Result<()> {
        let sequence = self.send(message, NLM_F_REQUEST | NLM_F_ACK | flags)?;
        let mut answered = false;
        self.receive(sequence, |payload| match payload {
            NetlinkPayload::Error(error) => {
                answered = true;
                match error.code {
                    None => Ok(Flow::Done),
                    Some(code) => Err(Errno::from_raw(-code.get())),
                }
            }
            _ => Ok(Flow::More),
        })?;
        if answered { Ok(()) } else { Err(Errno::EPROTO) }
    }

    /// Send a dump request (`ip link show`, `ip route show`) and collect
    /// every message of the answer.
    pub fn dump(&mut self, message: RouteNetlinkMessage) -> nix::Result<Vec<RouteNetlinkMessage>> {
        let sequence = self.send(message, NLM_F_REQUEST | NLM_F_DUMP)?;
        let mut messages = Vec::new();
        self.receive(sequence, |payload| match payload {
            NetlinkPayload::InnerMessage(message) => {
                messages.push(message);
                Ok(Flow::More)
            }
            NetlinkPayload::Done(_) => Ok(Flow::Done),
            NetlinkPayload::Error(error) => match error.code {
                None => Ok(Flow::Done),
                Some(code) => Err(Errno::from_raw(-code.get())),
            },
            _ => Ok(Flow::More),
        })?;
        Ok(messages)
    }

    fn send(&mut self, message: RouteNetlinkMessage, flags: u16) -> nix::Result<u32> {
        self.sequence = self.sequence.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = self.sequence;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::from(message));
        packet.finalize();
        let mut buffer = vec![0; packet.buffer_len()];
        packet.serialize(&mut buffer);
        self.socket.send(&buffer, 0).map_err(io_errno)?;
        Ok(self.sequence)
    }

    /// Read answers to `sequence` and hand each to `handle` until it says
    /// it is done (or fails).
    fn receive(
        &mut self,
        sequence: u32,
        mut handle: impl FnMut(NetlinkPayload<RouteNetlinkMessage>) -> nix::Result<Flow>,
    ) -> nix::Result<()> {
        let mut buffer = vec![0u8; RECEIVE_BUFFER];
        loop {
            let length = loop {
                match self.socket.recv(&mut &mut buffer[..], 0) {
                    Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
                    other => break other.map_err(io_errno)?,
                }
            };
            // One datagram may hold several messages, each padded to 4 bytes.
            let mut offset = 0;
            while offset < length {
                let packet =
                    NetlinkMessage::<RouteNetlinkMessage>::deserialize(&buffer[offset..length])
                        .map_err(|_| Errno::EBADMSG)?;
                let size = packet.header.length as usize;
                offset += size.div_ceil(4) * 4;
                if packet.header.sequence_number != sequence {
                    continue; // an answer to an earlier request
                }
                if handle(packet.payload)? == Flow::Done {
                    return Ok(());
                }
                if size == 0 {
                    return Err(Errno::EBADMSG);
                }
            }
        }
    }
}

// ANCHOR: helpers
impl Netlink {
    /// `ip link show NAME`: the index the kernel knows the link by, or
    /// ENODEV if this namespace has no link of that name.
    pub fn link_index(&mut self, name: &str) -> nix::Result<u32> {
        let links = self.dump(RouteNetlinkMessage::GetLink(LinkMessage::default()))?;
        links
            .iter()
            .find_map(|message| match message {
                RouteNetlinkMessage::NewLink(link) if link_name(link) == Some(name) => {
                    Some(link.header.index)
                }
                _ => None,
            })
            .ok_or(Errno::ENODEV)
    }

    /// `ip link set dev LINK up`.
    pub fn set_up(&mut self, index: u32) -> nix::Result<()> {
        let mut link = LinkMessage::default();
        link.header.index = index;
        link.header.flags = LinkFlags::Up;
        link.header.change_mask = LinkFlags::Up;
        self.request(RouteNetlinkMessage::SetLink(link), 0)
    }

    /// `ip link set dev LINK ...`, one change: `IfName` renames it,
    /// `Controller` attaches it to a bridge (`master`), `NetNsPid` moves it
    /// into the network namespace of a process (`netns`).
    pub fn set_link(&mut self, index: u32, change: LinkAttribute) -> nix::Result<()> {
        let mut link = LinkMessage::default();
        link.header.index = index;
        link.attributes.push(change);
        self.request(RouteNetlinkMessage::SetLink(link), 0)
    }

    /// `ip link delete dev LINK`. Deleting one end of a veth pair deletes
    /// both; deleting a bridge sets its ports free.
    pub fn delete_link(&mut self, index: u32) -> nix::Result<()> {
        let mut link = LinkMessage::default();
        link.header.index = index;
        self.request(RouteNetlinkMessage::DelLink(link), 0)
    }

    /// `ip address add ADDRESS/PREFIX dev LINK`: EEXIST if it has it already.
    pub fn add_address(
        &mut self,
        index: u32,
        address: Ipv4Addr,
        prefix_len: u8,
    ) -> nix::Result<()> {
        let mut message = AddressMessage::default();
        message.header.family = AddressFamily::Inet;
        message.header.prefix_len = prefix_len;
        message.header.index = index;
        // An IPv4 address is given twice: the local address of the link,
        // and the address of its end of the network (the same, but on
        // point-to-point links).
        message
            .attributes
            .push(AddressAttribute::Local(address.into()));
        message
            .attributes
            .push(AddressAttribute::Address(address.into()));
        self.request(
            RouteNetlinkMessage::NewAddress(message),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    /// `ip route add default via GATEWAY`: EEXIST if there is a default
    /// route already, ENETUNREACH if no link that is up reaches `gateway`.
    pub fn add_default_route(&mut self, gateway: Ipv4Addr) -> nix::Result<()> {
        let mut message = RouteMessage::default();
        message.header.address_family = AddressFamily::Inet;
        message.header.table = RouteHeader::RT_TABLE_MAIN;
        message.header.protocol = RouteProtocol::Boot;
        message.header.scope = RouteScope::Universe;
        message.header.kind = RouteType::Unicast;
        message
            .attributes
            .push(RouteAttribute::Gateway(RouteAddress::Inet(gateway)));
        self.request(
            RouteNetlinkMessage::NewRoute(message),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    /// `ip neighbour show ADDRESS dev LINK`: how far the kernel has got
    /// in learning the hardware address of `address`, if it has tried.
    pub fn neighbour_state(
        &mut self,
        index: u32,
        address: Ipv4Addr,
    ) -> nix::Result<Option<NeighbourState>> {
        let mut request = NeighbourMessage::default();
        request.header.family = AddressFamily::Inet;
        let answer = self.dump(RouteNetlinkMessage::GetNeighbour(request))?;
        Ok(answer.iter().find_map(|message| match message {
            RouteNetlinkMessage::NewNeighbour(entry)
                if entry.header.ifindex == index
                    && entry.attributes.contains(&NeighbourAttribute::Destination(
                        NeighbourAddress::Inet(address),
                    )) =>
            {
                Some(entry.header.state)
            }
            _ => None,
        }))
    }

    /// `ip neighbour delete ADDRESS dev LINK`: forget what the kernel
    /// learned (or failed to learn) about `address`.
    pub fn delete_neighbour(&mut self, index: u32, address: Ipv4Addr) -> nix::Result<()> {
        let mut entry = NeighbourMessage::default();
        entry.header.family = AddressFamily::Inet;
        entry.header.ifindex = index;
        entry
            .attributes
            .push(NeighbourAttribute::Destination(NeighbourAddress::Inet(
                address,
            )));
        self.request(RouteNetlinkMessage::DelNeighbour(entry), 0)
    }

    /// `ip -4 route show table all`: every IPv4 route of this namespace.
    pub fn ipv4_routes(&mut self) -> nix::Result<Vec<Route>> {
        let mut request = RouteMessage::default();
        request.header.address_family = AddressFamily::Inet;
        let answer = self.dump(RouteNetlinkMessage::GetRoute(request))?;
        Ok(answer
            .iter()
            .filter_map(|message| match message {
                RouteNetlinkMessage::NewRoute(route) => Some(Route::from(route)),
                _ => None,
            })
            .collect())
    }
}
// ANCHOR_END: helpers

/// One route of a routing table, as far as the lessons care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Where it leads: `0.0.0.0/0` for a default route.
    pub destination: Subnet,
    /// The index of the link it goes out of, if it names one.
    pub device: Option<u32>,
    /// The routing table: 254 is `main`, 255 `local`.
    pub table: u32,
    pub kind: RouteType,
}

impl From<&RouteMessage> for Route {
    fn from(route: &RouteMessage) -> Route {
        let mut network = Ipv4Addr::UNSPECIFIED;
        let mut device = None;
        let mut table = u32::from(route.header.table);
        for attribute in &route.attributes {
            match attribute {
                RouteAttribute::Destination(RouteAddress::Inet(address)) => network = *address,
                RouteAttribute::Oif(index) => device = Some(*index),
                RouteAttribute::Table(number) => table = *number,
                _ => {}
            }
        }
        Route {
            destination: Subnet {
                network,
                prefix_len: route.header.destination_prefix_length,
            },
            device,
            table,
            kind: route.header.kind,
        }
    }
}

/// A link's name, from its `IfName` attribute.
pub fn link_name(link: &LinkMessage) -> Option<&str> {
    link.attributes
        .iter()
        .find_map(|attribute| match attribute {
            LinkAttribute::IfName(name) => Some(name.as_str()),
            _ => None,
        })
}

#[derive(PartialEq, Eq)]
enum Flow {
    More,
    Done,
}

fn io_errno(error: std::io::Error) -> Errno {
    Errno::from_raw(error.raw_os_error().unwrap_or(libc::EIO))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reading the link table needs no privilege.
    #[test]
    fn a_dump_lists_the_loopback_device() {
        let mut netlink = Netlink::connect().unwrap();
        let links = netlink
            .dump(RouteNetlinkMessage::GetLink(LinkMessage::default()))
            .unwrap();
        let names: Vec<&str> = links
            .iter()
            .filter_map(|message| match message {
                RouteNetlinkMessage::NewLink(link) => link_name(link),
                _ => None,
            })
            .collect();
        assert!(names.contains(&"lo"), "{names:?}");
    }

    /// The kernel's refusal comes back as its errno. Deleting a link that
    /// does not exist changes nothing, whoever runs the test: as root the
    /// answer is ENODEV, as anyone else EPERM.
    #[test]
    fn a_refused_request_returns_the_kernels_errno() {
        let mut netlink = Netlink::connect().unwrap();
        let mut link = LinkMessage::default();
        link.attributes
            .push(LinkAttribute::IfName("nslab-none0".into()));
        let error = netlink
            .request(RouteNetlinkMessage::DelLink(link), 0)
            .unwrap_err();
        assert!(matches!(error, Errno::ENODEV | Errno::EPERM), "{error}");
    }

    #[test]
    fn the_loopback_device_is_found_by_name_and_a_missing_one_is_enodev() {
        let mut netlink = Netlink::connect().unwrap();
        assert_eq!(netlink.link_index("lo"), Ok(1));
        assert_eq!(netlink.link_index("nslab-none0"), Err(Errno::ENODEV));
    }

    /// Every namespace has local routes to its loopback addresses.
    #[test]
    fn the_route_dump_holds_the_local_route_to_127_0_0_1() {
        let mut netlink = Netlink::connect().unwrap();
        let routes = netlink.ipv4_routes().unwrap();
        let local = routes
            .iter()
            .find(|route| route.table == 255 && route.destination.network == Ipv4Addr::LOCALHOST);
        assert!(
            local.is_some_and(|route| route.device == Some(1)),
            "{routes:?}"
        );
    }
}
