//! System calls that nix does not wrap, with safe signatures.

use nix::errno::Errno;

// ANCHOR: set_domainname
/// setdomainname(2): set the NIS domain name of this UTS namespace.
pub fn set_domainname(name: &str) -> nix::Result<()> {
    // SAFETY: the pointer and length describe `name`'s bytes, which live
    // for the whole call; the kernel copies them and keeps no pointer.
    let result = unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) };
    Errno::result(result).map(drop)
}
// ANCHOR_END: set_domainname

// ANCHOR: clone_newtime
/// `CLONE_NEWTIME` (Linux 5.6), which nix does not name: the flag of a
/// time namespace for unshare(2), setns(2) and clone3(2). Not for
/// clone(2), where its bit (0x80) lies in the exit signal's byte.
pub const CLONE_NEWTIME: nix::sched::CloneFlags =
    nix::sched::CloneFlags::from_bits_retain(libc::CLONE_NEWTIME);
// ANCHOR_END: clone_newtime
