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
