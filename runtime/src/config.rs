//! What the container should look like, parsed from the command line.
//!
//! The core checks only the *shape* of each value here (is it `IN:OUT:LEN`,
//! is it a CIDR). Whether the value makes sense on this machine (does the
//! rootfs exist, may this user map that id) is each lesson's `validate`.

use std::ffi::CString;
use std::fmt;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::str::FromStr;

use nix::mount::MsFlags;

use crate::limits::Limits;

/// The command run when none is given, as in the articles.
pub const DEFAULT_COMMAND: &str = "/bin/sh";
pub const DEFAULT_HOSTNAME: &str = "container";
/// `PATH` inside the container: the container gets a clean environment,
/// never the host's (see docs/decisions/0016-what-the-command-inherits.md).
pub const CONTAINER_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// The bridge network when `--subnet` is not given (lesson 06): a /24 from
/// the private 10.0.0.0/8 that no common tool claims (Docker takes
/// 172.17.0.0/16 and up, Podman 10.88.0.0/16, Kubernetes 10.96.0.0/12 and
/// 10.244.0.0/16); `--subnet` picks another if it collides all the same.
pub const DEFAULT_SUBNET: Subnet = Subnet {
    network: Ipv4Addr::new(10, 77, 0, 0),
    prefix_len: 24,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Silence the parent/container transcript on stderr.
    pub quiet: bool,
    /// Lesson 01: the container's hostname.
    pub hostname: String,
    /// Lesson 01: the container's NIS domain name, if set.
    pub domainname: Option<String>,
    /// Lesson 03: run a tiny init as PID 1 that starts the command.
    pub init: bool,
    /// Lesson 04: the directory that becomes the container's `/`.
    pub rootfs: Option<PathBuf>,
    /// Lesson 04: host directories bind-mounted into the container.
    pub volumes: Vec<Volume>,
    /// Lesson 04: the rootfs read-only for the container (`--read-only`,
    /// an OCI bundle's `root.readonly`); its `/tmp`, `/run`, `/dev` and
    /// volumes stay as they are.
    pub read_only_root: bool,
    /// Lesson 04: tmpfs mounts of the container's own beyond `/tmp` and
    /// `/run`; only an OCI bundle asks for them (podman's `--read-only`
    /// adds one at `/var/tmp`).
    pub tmpfs: Vec<Tmpfs>,
    /// Lesson 05: user and group id maps.
    pub uid_maps: Vec<IdMap>,
    pub gid_maps: Vec<IdMap>,
    /// Lesson 06: how the container is networked.
    pub net: NetMode,
    pub subnet: Option<Subnet>,
    pub nat: bool,
    /// Lesson 07: the name the container is registered under.
    pub name: Option<String>,
    /// Lesson 07: the name under /run/netns that keeps the container's
    /// network namespace, for `ip netns exec`.
    pub keep_net: Option<String>,
    /// Lesson 08: memory, processes and CPU time the container may use.
    pub limits: Limits,
    /// Lesson 09: what the container's boot-time and monotonic clocks
    /// read when it starts, in seconds (`None`: the host's clocks).
    pub uptime: Option<u64>,
    /// Lesson 10: capabilities added to and dropped from Docker's default
    /// set, as written on the command line (`SYS_TIME`, `cap_sys_time`,
    /// `ALL`); the lesson decides which names exist.
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    /// Lesson 10: `--seccomp`, as written; `None` is the default filter.
    pub seccomp: Option<String>,
    /// Lesson 10: the paths of /proc and /sys to mask and to make
    /// read-only; `None` is Docker's (lesson 10's lists), lesson 11's OCI
    /// bundle lists its own.
    pub masked_paths: Option<Vec<String>>,
    pub read_only_paths: Option<Vec<String>>,
    /// The command and its arguments.
    pub command: Vec<String>,
    /// Lesson 11: what an OCI bundle's `config.json` asks of the process
    /// beyond the course's flags; `None` for the course's own command line.
    pub oci: Option<Box<OciProcess>>,
}

/// Lesson 11: the process an OCI bundle describes, and how it starts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OciProcess {
    /// The whole environment, `NAME=value`, instead of the course's.
    pub env: Vec<String>,
    /// The working directory, inside the container.
    pub cwd: PathBuf,
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    pub rlimits: Vec<Rlimit>,
    /// Kernel parameters of the container's namespaces
    /// (`net.ipv4.ping_group_range`), written under its `/proc/sys`.
    pub sysctl: Vec<(String, String)>,
    /// Namespaces to join rather than create, by their `/proc/PID/ns`
    /// name and the file that names one (`net`, `/run/netns/NAME`).
    pub join: Vec<(String, PathBuf)>,
    /// The file mode creation mask (`umask(2)`); `None` keeps the
    /// runtime's.
    pub umask: Option<u32>,
    /// The bundle's seccomp profile, compiled (by the core, at `create`);
    /// installed just before `exec`.
    pub seccomp: Vec<seccompiler::BpfProgram>,
}

/// One resource limit (`setrlimit(2)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rlimit {
    /// The `RLIMIT_*` number.
    pub resource: u32,
    pub soft: u64,
    pub hard: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            quiet: false,
            hostname: DEFAULT_HOSTNAME.to_string(),
            domainname: None,
            init: false,
            rootfs: None,
            volumes: Vec::new(),
            read_only_root: false,
            tmpfs: Vec::new(),
            uid_maps: Vec::new(),
            gid_maps: Vec::new(),
            net: NetMode::None,
            subnet: None,
            nat: false,
            name: None,
            keep_net: None,
            limits: Limits::default(),
            uptime: None,
            cap_add: Vec::new(),
            cap_drop: Vec::new(),
            seccomp: None,
            masked_paths: None,
            read_only_paths: None,
            command: vec![DEFAULT_COMMAND.to_string()],
            oci: None,
        }
    }
}

impl Config {
    /// The command as `exec` wants it. The parser has already refused
    /// arguments with NUL bytes, which the kernel could not take.
    pub fn argv(&self) -> Vec<CString> {
        self.command
            .iter()
            .map(|arg| CString::new(arg.as_str()).expect("the parser refuses NUL bytes"))
            .collect()
    }

    // ANCHOR: environment
    /// The container's environment: a short, clean list. The host's
    /// variables never leak in; only `TERM` is carried over, so that an
    /// interactive shell can draw its prompt.
    pub fn environment(&self) -> Vec<CString> {
        if let Some(oci) = &self.oci {
            // An OCI bundle says the whole environment (lesson 11).
            return oci
                .env
                .iter()
                .filter_map(|var| CString::new(var.as_str()).ok())
                .collect();
        }
        let mut env = vec![
            format!("PATH={CONTAINER_PATH}"),
            "HOME=/root".to_string(),
            format!("HOSTNAME={}", self.hostname),
            "container=nslab".to_string(),
        ];
        if let Some(term) = std::env::var_os("TERM").and_then(|t| t.into_string().ok()) {
            env.push(format!("TERM={term}"));
        }
        env.into_iter()
            .filter_map(|var| CString::new(var).ok())
            .collect()
    }
    // ANCHOR_END: environment
}

/// A tmpfs mounted at `container` in the rootfs, with the mount `flags`
/// and the file system's own options `data` (`size=64m,mode=1777`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tmpfs {
    pub container: PathBuf,
    pub flags: MsFlags,
    pub data: String,
}

/// `HOST:CONTAINER[:ro]`, like `docker run -v`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub host: PathBuf,
    pub container: PathBuf,
    pub read_only: bool,
}

impl FromStr for Volume {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let shape = "expected HOST:CONTAINER or HOST:CONTAINER:ro";
        let parts: Vec<&str> = text.split(':').collect();
        let (host, container, read_only) = match parts.as_slice() {
            [host, container] => (host, container, false),
            [host, container, "ro"] => (host, container, true),
            [host, container, "rw"] => (host, container, false),
            [_, _, mode] => return Err(format!("unknown mode {mode:?}: {shape}")),
            _ => return Err(shape.to_string()),
        };
        if host.is_empty() || container.is_empty() {
            return Err(format!("empty path: {shape}"));
        }
        Ok(Volume {
            host: PathBuf::from(host),
            container: PathBuf::from(container),
            read_only,
        })
    }
}

/// As it is written on the command line, for messages: `/srv:/data:ro`.
impl fmt::Display for Volume {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = if self.read_only { ":ro" } else { "" };
        write!(
            f,
            "{}:{}{mode}",
            self.host.display(),
            self.container.display()
        )
    }
}

/// One line of `/proc/PID/uid_map` or `gid_map`: ids `inside..inside+count`
/// in the container are ids `outside..outside+count` on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdMap {
    pub inside: u32,
    pub outside: u32,
    pub count: u32,
}

impl FromStr for IdMap {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let shape = "expected INSIDE:OUTSIDE:COUNT, e.g. 0:100000:65536";
        let numbers: Vec<&str> = text.split(':').collect();
        let [inside, outside, count] = numbers.as_slice() else {
            return Err(shape.to_string());
        };
        let number = |field: &str| {
            field
                .parse::<u32>()
                .map_err(|_| format!("{field:?} is not a number from 0 to 4294967295: {shape}"))
        };
        let map = IdMap {
            inside: number(inside)?,
            outside: number(outside)?,
            count: number(count)?,
        };
        if map.count == 0 {
            return Err(format!("COUNT must be at least 1: {shape}"));
        }
        // The kernel keeps ids below 2^32 - 1 (that one means "no id").
        let fits = |start: u32| u64::from(start) + u64::from(map.count) <= u64::from(u32::MAX);
        if !fits(map.inside) || !fits(map.outside) {
            return Err("the range runs past the largest id, 4294967294".to_string());
        }
        Ok(map)
    }
}

impl fmt::Display for IdMap {
    /// The line the kernel expects in `uid_map`: `inside outside count`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.inside, self.outside, self.count)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NetMode {
    /// A network namespace with only a loopback device.
    #[default]
    None,
    /// A veth pair to a host bridge, with an address from the subnet.
    Bridge,
}

impl FromStr for NetMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "none" => Ok(NetMode::None),
            "bridge" => Ok(NetMode::Bridge),
            _ => Err("expected none or bridge".to_string()),
        }
    }
}

/// An IPv4 network in CIDR notation, e.g. `10.88.0.0/24`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subnet {
    pub network: Ipv4Addr,
    pub prefix_len: u8,
}

impl Subnet {
    pub fn mask(&self) -> u32 {
        u32::MAX
            .checked_shl(32 - u32::from(self.prefix_len))
            .unwrap_or(0)
    }

    pub fn contains(&self, address: Ipv4Addr) -> bool {
        u32::from(address) & self.mask() == u32::from(self.network)
    }

    /// The last address of the network, every host bit set: packets to it
    /// go to every host of the subnet, so no host may have it.
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) | !self.mask())
    }

    // ANCHOR: overlaps
    /// Whether some address belongs to both networks. Two networks either
    /// nest or are disjoint, so it is enough that the larger one contains
    /// the smaller one's first address.
    pub fn overlaps(&self, other: &Subnet) -> bool {
        let (larger, smaller) = if self.prefix_len <= other.prefix_len {
            (self, other)
        } else {
            (other, self)
        };
        larger.contains(smaller.network)
    }
    // ANCHOR_END: overlaps
}

impl FromStr for Subnet {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let shape = "expected an IPv4 network like 10.88.0.0/24";
        let (address, prefix_len) = text.split_once('/').ok_or(shape)?;
        let address: Ipv4Addr = address
            .parse()
            .map_err(|_| format!("{address:?} is not an IPv4 address: {shape}"))?;
        let prefix_len: u8 = match prefix_len.parse() {
            Ok(len) if len <= 32 => len,
            _ => return Err(format!("/{prefix_len} is not a prefix length from 0 to 32")),
        };
        let subnet = Subnet {
            network: address,
            prefix_len,
        };
        let network = Ipv4Addr::from(u32::from(address) & subnet.mask());
        if network != address {
            return Err(format!(
                "{text} has host bits set; the network is {network}/{prefix_len}"
            ));
        }
        Ok(subnet)
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix_len)
    }
}

/// A container name, as Docker allows them: a letter or digit, then
/// letters, digits, `_`, `.` or `-`; at most 64 bytes so it can name files.
pub fn parse_name(text: &str) -> Result<String, String> {
    let mut chars = text.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if first_ok && rest_ok && text.len() <= 64 {
        Ok(text.to_string())
    } else {
        Err("use 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit".into())
    }
}

/// A number of seconds for `--uptime`: digits only, 0 or more. Whether
/// the kernel's clocks can show it is lesson 09's `validate`.
pub fn parse_uptime(text: &str) -> Result<u64, String> {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    match text.parse() {
        Ok(seconds) if digits => Ok(seconds),
        _ => Err("use a whole number of seconds, 0 or more, like 0 or 86400".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptimes_are_whole_seconds_from_zero() {
        assert_eq!(parse_uptime("0"), Ok(0));
        assert_eq!(parse_uptime("86400"), Ok(86400));
        for bad in [
            "",
            "-1",
            "+1",
            "abc",
            "1.5",
            "1d",
            " 1",
            "99999999999999999999",
        ] {
            assert!(parse_uptime(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn volumes() {
        let v: Volume = "/srv/data:/data:ro".parse().unwrap();
        assert_eq!(v.host, PathBuf::from("/srv/data"));
        assert_eq!(v.container, PathBuf::from("/data"));
        assert!(v.read_only);
        assert!(!"/a:/b".parse::<Volume>().unwrap().read_only);
        assert_eq!(v.to_string(), "/srv/data:/data:ro");
        assert_eq!("/a:/b:rw".parse::<Volume>().unwrap().to_string(), "/a:/b");
        for bad in ["", "/a", ":/b", "/a:", "/a:/b:rx", "/a:/b:ro:x"] {
            assert!(bad.parse::<Volume>().is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn id_maps() {
        let m: IdMap = "0:100000:65536".parse().unwrap();
        assert_eq!(m.to_string(), "0 100000 65536");
        for bad in [
            "",
            "0:1",
            "0:1:2:3",
            "a:1:1",
            "0:1:0",
            "-1:0:1",
            "0:4294967295:1",
            "1:0:4294967295",
        ] {
            assert!(bad.parse::<IdMap>().is_err(), "{bad:?} should be refused");
        }
        assert!("0:4294967294:1".parse::<IdMap>().is_ok());
    }

    #[test]
    fn subnets() {
        let s: Subnet = "10.88.0.0/24".parse().unwrap();
        assert_eq!(s.to_string(), "10.88.0.0/24");
        assert!(s.contains("10.88.0.9".parse().unwrap()));
        assert!(!s.contains("10.88.1.9".parse().unwrap()));
        assert_eq!("0.0.0.0/0".parse::<Subnet>().unwrap().mask(), 0);
        assert_eq!(s.broadcast(), Ipv4Addr::new(10, 88, 0, 255));
        assert_eq!(DEFAULT_SUBNET.to_string(), "10.77.0.0/24");
        for bad in [
            "10.88.0.0",
            "10.88.0.1/24",
            "10.88.0.0/33",
            "300.0.0.0/8",
            "x/8",
        ] {
            assert!(bad.parse::<Subnet>().is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn subnets_overlap_when_one_holds_the_other() {
        let net = |text: &str| text.parse::<Subnet>().unwrap();
        let route = net("192.168.1.0/24");
        for (other, overlaps) in [
            ("192.168.1.0/24", true),
            ("192.168.1.128/25", true),
            ("192.168.0.0/16", true),
            ("0.0.0.0/0", true),
            ("192.168.2.0/24", false),
            ("192.168.0.0/24", false),
            ("10.0.0.0/8", false),
        ] {
            assert_eq!(route.overlaps(&net(other)), overlaps, "{other}");
            assert_eq!(net(other).overlaps(&route), overlaps, "{other}");
        }
    }

    #[test]
    fn names() {
        assert!(parse_name("web-1.prod_a").is_ok());
        for bad in ["", "-web", "a/b", "a b", &"x".repeat(65)] {
            assert!(parse_name(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn environment_is_clean() {
        let env = Config::default().environment();
        let names: Vec<String> = env
            .iter()
            .map(|v| v.to_str().unwrap().split('=').next().unwrap().to_string())
            .filter(|name| name != "TERM")
            .collect();
        assert_eq!(names, ["PATH", "HOME", "HOSTNAME", "container"]);
    }
}
