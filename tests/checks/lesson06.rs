//! Lesson 06 (net): the container has a network stack of its own. With
//! `--net none`, the default, it holds only `lo`, up. With `--net bridge`
//! it has an `eth0` at the end of a veth pair from the host's bridge, with
//! an address of the subnet and a default route via the gateway, and
//! reaches the bridge and the other containers on it; with `--nat` also a
//! network beyond the host. Refusals come before anything exists.
//!
//! Checks that put a bridge, a veth pair, a rule or a route on the host
//! are `#[file_serial(host)]`. They send traffic only to the bridge, to
//! their own containers, and to an "outside" namespace they make. Without
//! `--rootfs`, the container runs the host's `ip` and `ping`.

use std::io::Read as _;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};
use std::time::Duration;

use nslab_runtime::config::DEFAULT_SUBNET;
use nslab_runtime::network::BRIDGE;
use serial_test::{file_parallel, file_serial};

use crate::support::mounts::shared_rootfs_flag;
use crate::support::net::{
    BlackholeRoute, OutsideNetwork, a_subnet_clear_of_the_hosts_routes, bridge, bridged,
    eth0_address, forwarding, gateway, host_addresses, host_link, host_links,
    is_a_containers_address, lease_file, links_in, nat_table, random_octet, start_waiting, stop,
};
use crate::support::run::{Running, trapping};
use crate::support::{Container, HostGuard, TempDir, expect_a_namespace_of_its_own};

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn only_lo_is_inside_and_it_is_up() {
    let _host = HostGuard::begin();
    let outcome = Container::for_lesson(6).run(&["ip", "-o", "link", "show"]);
    outcome.expect_success();
    match links_in(&outcome.stdout).as_slice() {
        [lo] if lo.name == "lo" && lo.up => {}
        [lo] if lo.name == "lo" => outcome
            .fail("should show lo UP: a new network namespace has a loopback device, but down"),
        _ => outcome
            .fail("should list lo and nothing else: a new network namespace has no other link"),
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn ping_to_127_0_0_1_works_inside() {
    let _host = HostGuard::begin();
    let outcome = Container::for_lesson(6).run(&["ping", "-c1", "-W1", "127.0.0.1"]);
    if outcome.status != Some(0) {
        outcome.fail("should get an answer from 127.0.0.1, which needs lo up");
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn the_network_namespace_is_not_the_hosts() {
    let _host = HostGuard::begin();
    expect_a_namespace_of_its_own(&Container::for_lesson(6), "net");
}

/// `ip -o -4 address show`, one `NAME inet ADDRESS/PREFIX scope SCOPE`
/// per address, without lifetimes and labels.
fn addresses_shape(listing: &str) -> String {
    listing
        .lines()
        .map(|line| {
            // `ip -o` ends the first line of each entry with a backslash.
            let first_line = line.split('\\').next().unwrap_or(line);
            let words: Vec<&str> = first_line.split_whitespace().skip(1).collect();
            match words.split_last() {
                Some((label, rest)) if Some(label) == words.first() => rest.join(" "),
                _ => words.join(" "),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn eth0_has_an_address_of_the_subnet_and_a_default_route() {
    let _host = HostGuard::begin();
    let outcome = bridged().run(&[
        "sh",
        "-c",
        "ip -o -4 address show; echo ---; ip -4 route show",
    ]);
    outcome.expect_success();
    let Some(address) = eth0_address(&outcome.stdout) else {
        outcome.fail(&format!(
            "should list an IPv4 address on a link called eth0: the container's end of the \
             veth pair, renamed, with an address of {DEFAULT_SUBNET}"
        ));
    };
    if !is_a_containers_address(&DEFAULT_SUBNET, address) {
        outcome.fail(&format!(
            "should give eth0 an address of {DEFAULT_SUBNET} other than the network's, the \
             gateway's and the broadcast address, not {address}"
        ));
    }
    let (addresses, routes) = outcome.stdout.split_once("---\n").unwrap_or_default();
    let shape = format!("{}\n---\n{}", addresses_shape(addresses), routes.trim_end())
        .replace(&address.to_string(), "[ADDRESS]");
    let lines: Vec<&str> = shape.lines().map(str::trim_end).collect();
    insta::assert_snapshot!("eth0-and-routes", lines.join("\n"));
}

#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn the_gateway_answers_ping() {
    let _host = HostGuard::begin();
    let gateway = gateway(&DEFAULT_SUBNET).to_string();
    let outcome = bridged().run(&["ping", "-c1", "-W1", &gateway]);
    if outcome.status != Some(0) {
        outcome.fail(&format!(
            "should get an answer from the gateway {gateway}, the address of the bridge \
             {BRIDGE} on the host: the bridge must have it and be up, and the host's end of \
             the veth pair must be on the bridge and up"
        ));
    }
}

/// A `--subnet` of another size than the default /24: its prefix length
/// goes to eth0's address and the bridge's, and the gateway answers.
#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn a_subnet_of_another_size_gives_its_prefix_to_eth0_and_the_bridge() {
    let _host = HostGuard::begin();
    let subnet = a_subnet_clear_of_the_hosts_routes(26);
    let gateway = gateway(&subnet);
    let script = format!(
        "ip -o -4 address show dev eth0; \
         ping -c1 -W1 {gateway} > /dev/null && echo the gateway answers; \
         {}",
        trapping("TERM", 0)
    );
    let mut running = bridged()
        .flag("--subnet")
        .flag(subnet.to_string())
        .start(&["sh", "-c", &script]);
    let lines = running.lines_until("ready").join("\n");
    let on_the_bridge = host_addresses(BRIDGE);
    let eth0 = eth0_address(&lines);
    let prefix = format!("/{}", subnet.prefix_len);
    let eth0_has_the_prefix = lines.contains(&format!("{}{prefix} ", eth0.unwrap_or(gateway)));
    if !eth0.is_some_and(|address| is_a_containers_address(&subnet, address))
        || !eth0_has_the_prefix
    {
        running.fail(&format!(
            "should give eth0 an address of {subnet} with its prefix, {prefix}, not a fixed \
             one: `add_address` takes `lease.subnet.prefix_len`"
        ));
    }
    if !on_the_bridge.contains(&format!("{gateway}{prefix}")) {
        running.fail(&format!(
            "should give the bridge {BRIDGE} the gateway's address {gateway}{prefix}, but it \
             has {on_the_bridge:?}: `add_address` takes `subnet.prefix_len`"
        ));
    }
    if !lines.ends_with("the gateway answers") {
        running.fail(&format!("should get an answer from the gateway {gateway}"));
    }
    stop(running);
}

#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn while_it_runs_the_host_sees_its_veth_on_the_bridge_and_afterwards_nothing() {
    let _host = HostGuard::begin();
    let mut running = start_waiting(bridged(), "");
    let runtime = running.runtime_pid();
    let host_end = format!("nslab-{runtime}");
    let gateway = format!("{}/{}", gateway(&DEFAULT_SUBNET), DEFAULT_SUBNET.prefix_len);
    match host_link(&host_end) {
        Some(link) if link.up && link.master.as_deref() == Some(BRIDGE) => {}
        Some(link) => running.fail(&format!(
            "while it runs, the host's end of the veth pair should be up and on {BRIDGE} \
             (`ip -o link show master {BRIDGE}`), but it is {link}"
        )),
        None => running.fail(&format!(
            "while it runs, the host should have its end of the veth pair, {host_end}"
        )),
    }
    let addresses = host_addresses(BRIDGE);
    if !bridge().is_some_and(|bridge| bridge.up) || !addresses.contains(&gateway) {
        running.fail(&format!(
            "while it runs, the host's bridge {BRIDGE} should be up with the gateway's address \
             {gateway}; it has {addresses:?}"
        ));
    }
    if !lease_file(runtime).exists() {
        running.fail(&format!(
            "while it runs, its address lease should be in {}",
            lease_file(runtime).display()
        ));
    }
    let outcome = stop(running);
    let left: Vec<String> = host_links()
        .into_iter()
        .filter(|link| link.name == host_end || link.name == BRIDGE)
        .map(|link| link.to_string())
        .collect();
    if !left.is_empty() || lease_file(runtime).exists() {
        outcome.fail(&format!(
            "should leave nothing behind when it ends, but the host still has {left:?}, and \
             the lease {} is {}: `cleanup` must release them (`network::release`: the veth \
             pair, the lease, and the bridge once no other container uses it)",
            lease_file(runtime).display(),
            if lease_file(runtime).exists() {
                "there"
            } else {
                "gone"
            }
        ));
    }
}

#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn the_bridge_has_a_hardware_address_of_its_own() {
    let _host = HostGuard::begin();
    let mut running = start_waiting(bridged(), "");
    let file = format!("/sys/class/net/{BRIDGE}/addr_assign_type");
    let assigned = std::fs::read_to_string(&file).unwrap_or_default();
    // 3 is NET_ADDR_SET (linux/netdevice.h): an address given to it. Any
    // other, and the kernel gives the bridge the lowest of its ports'
    // addresses, and changes it as containers come and go.
    if assigned.trim() != "3" {
        running.fail(&format!(
            "while it runs, the bridge {BRIDGE} should have a hardware address of its own \
             ({file} 3, \"set\"), but it says {:?}: without one, the bridge takes the lowest \
             of its ports' addresses and changes it as containers come and go, and a container \
             that learnt the old one loses the gateway",
            assigned.trim()
        ));
    }
    stop(running);
}

#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn the_containers_end_is_made_in_its_namespace_never_on_the_host() {
    let _host = HostGuard::begin();
    let watch = LinkWatch::start();
    let running = start_waiting(bridged(), "");
    let runtime = running.runtime_pid();
    stop(running);
    let seen = watch.stop();
    // A line names a link as `NAME@PEER:` or `NAME:`.
    let names: Vec<&str> = seen
        .split_whitespace()
        .map(|word| word.trim_end_matches(':'))
        .map(|word| word.split('@').next().unwrap_or(word))
        .collect();
    let host_end = format!("nslab-{runtime}");
    let container_end = format!("{host_end}-c");
    assert!(
        names.contains(&host_end.as_str()),
        "`ip monitor link` should have seen the host's end {host_end} come and go; it saw:\n{seen}"
    );
    if names.contains(&container_end.as_str()) {
        panic!(
            "the container's end of the veth pair, {container_end}, should never be on the \
             host, but `ip monitor link` saw it there:\n{seen}\nIt was made on the host and \
             moved: make it in the container's namespace instead"
        );
    }
}

/// `ip -o monitor link` on the host: every link the host's namespace gains
/// or loses, as netlink tells it. Killed however the check ends, so that
/// no watcher outlives it.
struct LinkWatch(std::process::Child);

impl LinkWatch {
    fn start() -> LinkWatch {
        let child = Command::new("ip")
            .args(["-o", "monitor", "link"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("run `ip monitor link`");
        // `ip` subscribes as it starts; give it the time to.
        std::thread::sleep(Duration::from_millis(300));
        LinkWatch(child)
    }

    /// Everything it saw.
    fn stop(mut self) -> String {
        let _ = self.0.kill();
        let mut seen = String::new();
        if let Some(mut out) = self.0.stdout.take() {
            let _ = out.read_to_string(&mut seen);
        }
        seen
    }
}

impl Drop for LinkWatch {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Writes this container's address to `/shared/$1`, waits for the other's
/// in `/shared/$2`, pings it, checks `/etc/hosts`, and waits until the
/// other is done too, so that each is there while the other pings it.
const EXCHANGE: &str = r#"
me=$(ip -o -4 address show dev eth0 | awk '{ split($4, a, "/"); print a[1] }')
echo "$me" > /shared/$1.new && mv /shared/$1.new /shared/$1
wait_for() { i=0; while [ ! -e "$1" ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i + 1)); done; }
wait_for /shared/$2
other=$(cat /shared/$2 2>/dev/null)
if ping -c1 -W2 "$other" > /dev/null; then reached=yes; else reached=no; fi
if grep -q "^$me[[:space:]]$(hostname)\$" /etc/hosts; then hosts=yes; else hosts=no; fi
touch /shared/$1.done
wait_for /shared/$2.done
echo "me=$me other=$other reached=$reached hosts=$hosts"
"#;

#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn two_containers_reach_each_other_by_address() {
    let _host = HostGuard::begin();
    let shared = TempDir::new();
    let volume = format!("--volume={}:/shared", shared.path.display());
    let start = |me: &str, other: &str| {
        bridged()
            .flag("--rootfs")
            .flag(shared_rootfs_flag())
            .flag(&volume)
            .flag("--hostname")
            .flag(me)
            .start(&["sh", "-c", EXCHANGE, "sh", me, other])
    };
    let (one, two) = (start("one", "two"), start("two", "one"));
    let outcomes = [one.finish(), two.finish()];
    let mut seen = Vec::new();
    for outcome in &outcomes {
        outcome.expect_success();
        let fields: Vec<&str> = outcome
            .stdout
            .split_whitespace()
            .filter_map(|field| field.split_once('=').map(|(_, value)| value))
            .collect();
        let [me, other, reached, hosts] = fields.as_slice() else {
            outcome.fail("should print its address, the other's, and what it found");
        };
        let Ok(me) = me.parse::<Ipv4Addr>() else {
            outcome.fail("should find an IPv4 address on its eth0");
        };
        if !is_a_containers_address(&DEFAULT_SUBNET, me) {
            outcome.fail(&format!("should have an address of {DEFAULT_SUBNET}"));
        }
        if *reached != "yes" {
            outcome.fail(&format!(
                "should get an answer from the other container at {other:?}, through the bridge"
            ));
        }
        if *hosts != "yes" {
            outcome.fail(&format!(
                "should find its address {me} and its hostname in its /etc/hosts"
            ));
        }
        seen.push(me);
    }
    if seen[0] == seen[1] {
        outcomes[1].fail(&format!(
            "should have an address of its own, but both containers have {}",
            seen[0]
        ));
    }
}

#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn ten_containers_at_once_get_ten_distinct_addresses() {
    let _host = HostGuard::begin();
    // All ten start before any is waited for, so that they lease at once.
    let script = format!("ip -o -4 address show dev eth0; {}", trapping("TERM", 0));
    let mut all: Vec<Running> = (0..10)
        .map(|_| bridged().start(&["sh", "-c", &script]))
        .collect();
    let mut addresses: Vec<Ipv4Addr> = Vec::new();
    for running in &mut all {
        let printed = running.lines_until("ready").join("\n");
        match eth0_address(&printed) {
            Some(address) if is_a_containers_address(&DEFAULT_SUBNET, address) => {
                addresses.push(address)
            }
            _ => running.fail(&format!(
                "should have an address of {DEFAULT_SUBNET} on eth0"
            )),
        }
    }
    let ports = host_links()
        .into_iter()
        .filter(|link| link.master.as_deref() == Some(BRIDGE))
        .count();
    let mut distinct = addresses.clone();
    distinct.sort();
    distinct.dedup();
    assert!(
        distinct.len() == 10 && ports == 10,
        "ten containers running at once should have ten distinct addresses and ten veth \
         pairs on {BRIDGE}; they have {addresses:?}, and {BRIDGE} has {ports} ports"
    );
    // The last one to end removes the bridge; the host guard checks that
    // nothing is left.
    all.into_iter().for_each(|running| {
        stop(running);
    });
}

#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn with_nat_an_outside_namespace_answers_and_the_rule_goes_with_the_container() {
    let _host = HostGuard::begin();
    let outside = OutsideNetwork::new();
    let forwarding_before = forwarding();
    let try_outside = format!(
        "if ping -c1 -W2 {} > /dev/null; then echo reached; else echo unreachable; fi; ",
        outside.address
    );
    let mut running = bridged().flag("--nat").start(&[
        "sh",
        "-c",
        &format!("{try_outside}{}", trapping("TERM", 0)),
    ]);
    let printed = running.lines_until("ready");
    let rule = format!("ip saddr {DEFAULT_SUBNET} oifname != \"{BRIDGE}\" masquerade");
    if !nat_table().is_some_and(|table| table.contains(&rule)) || forwarding() != "1" {
        running.fail(&format!(
            "while it runs with --nat, IPv4 forwarding should be 1 (it is {}) and `nft list \
             table ip nslab` should hold `{rule}`: {:?}",
            forwarding(),
            nat_table()
        ));
    }
    if printed != ["reached"] {
        running.fail(&format!(
            "should get an answer from {}, a network beyond the host: through eth0's default \
             route via the gateway, then forwarded and masqueraded by the host",
            outside.address
        ));
    }
    let outcome = stop(running);
    if nat_table().is_some() || forwarding() != forwarding_before {
        outcome.fail(&format!(
            "should remove the table ip nslab and put IPv4 forwarding back to \
             {forwarding_before} when it ends (it is {})",
            forwarding()
        ));
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn subnet_or_nat_without_bridge_is_refused() {
    let _host = HostGuard::begin();
    let subnet = DEFAULT_SUBNET.to_string();
    for (flags, flag) in [
        (&["--subnet", &subnet][..], "--subnet"),
        (&["--nat"][..], "--nat"),
    ] {
        let mut container = Container::for_lesson(6).narrated();
        for value in flags {
            container = container.flag(*value);
        }
        container
            .run(&["true"])
            .expect_one_error_line(125, &[flag, "--net bridge"]);
    }
}

#[test]
#[ignore = "needs root"]
#[file_parallel(host)]
fn bridge_as_a_normal_user_is_refused() {
    let _host = HostGuard::begin();
    Container::for_lesson(6)
        .by_nobody()
        .flag("--net")
        .flag("bridge")
        .run(&["true"])
        .expect_one_error_line(125, &["--net bridge", "root"]);
}

#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn a_subnet_too_small_for_a_container_is_refused() {
    let _host = HostGuard::begin();
    for subnet in ["10.77.0.0/31", "10.77.0.0/32"] {
        bridged()
            .narrated()
            .flag("--subnet")
            .flag(subnet)
            .run(&["true"])
            .expect_one_error_line(125, &[subnet, "too small"]);
    }
}

#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn a_subnet_that_overlaps_a_host_route_is_refused() {
    let _host = HostGuard::begin();
    let octet = random_octet();
    let route = BlackholeRoute::add(&format!("198.18.{octet}.0/24"));
    // One inside the host's route, one around it.
    for subnet in [
        format!("198.18.{octet}.128/25"),
        "198.18.0.0/16".to_string(),
    ] {
        bridged()
            .narrated()
            .flag("--subnet")
            .flag(&subnet)
            .run(&["true"])
            .expect_one_error_line(125, &[&subnet, &route.network]);
    }
}

#[test]
#[ignore = "needs root"]
#[file_serial(host)]
fn an_exhausted_subnet_is_refused() {
    let _host = HostGuard::begin();
    // Network .0, gateway .1, one container .2, broadcast .3.
    let subnet = format!("198.18.{}.0/30", random_octet());
    let first = start_waiting(bridged().flag("--subnet").flag(&subnet), "");
    let second = bridged()
        .narrated()
        .flag("--subnet")
        .flag(&subnet)
        .run(&["true"]);
    stop(first);
    second.expect_one_error_line(125, &[&subnet, "exhausted"]);
}
