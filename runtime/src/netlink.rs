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

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};
use nix::errno::Errno;

pub use netlink_packet_core as core;
pub use netlink_packet_route as route;
use netlink_packet_route::RouteNetlinkMessage;

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
    use netlink_packet_route::link::{LinkAttribute, LinkMessage};

    fn name(link: &LinkMessage) -> Option<&str> {
        link.attributes
            .iter()
            .find_map(|attribute| match attribute {
                LinkAttribute::IfName(name) => Some(name.as_str()),
                _ => None,
            })
    }

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
                RouteNetlinkMessage::NewLink(link) => name(link),
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
}
