//! `linux.seccomp`: the OCI profile compiled to seccomp BPF at `create`,
//! installed in the container just before `exec`.
//!
//! # What a profile means
//!
//! We give a profile the meaning libseccomp (what runc uses) gives it: for
//! one system call, an entry *matches* when it names the call and all of its
//! `args` conditions hold (conditions are ANDed; several entries naming one
//! call are alternatives, ORed). If no entry matches, `defaultAction`
//! applies, so `personality(1)` under podman's profile, whose entries allow
//! `personality` only for a few arguments, gets the default (ENOSYS).
//! When several entries with different actions match the same call, the
//! action of highest precedence wins (the order below). libseccomp's answer
//! there depends on the order rules were added (a later rule without
//! conditions replaces earlier ones with conditions, an earlier one without
//! conditions keeps later ones out); podman's profile has one such overlap
//! (`setns` is both allowed and refused with EPERM), where both answers are
//! EPERM.
//!
//! Actions: SCMP_ACT_ALLOW, SCMP_ACT_LOG, SCMP_ACT_ERRNO (with `errnoRet`,
//! for the default `defaultErrnoRet`; EPERM without), SCMP_ACT_TRAP,
//! SCMP_ACT_KILL and SCMP_ACT_KILL_THREAD (the same in libseccomp),
//! SCMP_ACT_KILL_PROCESS.
//!
//! # From one profile to several filters
//!
//! A seccompiler filter has one action for a match and one for a mismatch.
//! The kernel runs every installed filter on each call and keeps the result
//! of highest precedence (seccomp(2): KILL_PROCESS > KILL_THREAD > TRAP >
//! ERRNO > TRACE > LOG > ALLOW; between equals, the filter installed last).
//! ALLOW is the lowest, so a filter that answers ALLOW changes nothing. So:
//!
//! - for each action X of the entries other than ALLOW, one filter holding
//!   the entries with action X: X on a match, ALLOW otherwise. It says X
//!   exactly when an entry with action X matches;
//! - unless the default is ALLOW, one filter holding *every* entry: ALLOW on
//!   a match, the default otherwise. It says the default exactly when no
//!   entry matches.
//!
//! If no entry matches, every filter but the default's says ALLOW and the
//! result is the default. If some match, the default's says ALLOW and the
//! result is the highest action among the matching entries (ALLOW when only
//! ALLOW entries match). That is the meaning above; the tests check it by
//! running the compiled BPF against a direct reading of the profile. Two ERRNO
//! actions with different numbers are two actions, so two filters; should both
//! match, the entry listed first wins, because its filter is installed last.
//!
//! # Architectures and names
//!
//! seccompiler compiles for one architecture, the one we run on: a filter
//! first checks `seccomp_data.arch` and kills the process on any other, since
//! system call numbers differ between architectures (`read` is 0 on x86_64,
//! 3 on i386). So `architectures` other than the native one are ignored: a
//! 32-bit call (`int 0x80`) in the container is killed rather than filtered
//! by a table we do not have, and x32 calls, whose numbers have bit 30 set,
//! match no entry and get the default. Names this architecture does not
//! have (`_llseek`, `fcntl64` on x86_64) are skipped, as libseccomp does: a
//! profile names the calls of every architecture it lists.
//!
//! # Refused, at `create`
//!
//! SCMP_ACT_NOTIFY and `listenerPath`/`listenerMetadata` (a supervisor
//! answering calls), SCMP_ACT_TRACE (a tracer), `errnoRet` on an action
//! other than SCMP_ACT_ERRNO, flags other than SECCOMP_FILTER_FLAG_TSYNC
//! (which we honour trivially: the container has one thread when it
//! installs its filters), an argument index above 5, and a MASKED_EQ whose
//! `valueTwo` has bits outside its mask `value`: compared as written,
//! `(arg & value) == valueTwo` never holds, while seccompiler masks
//! `valueTwo` too and would let it hold; we refuse rather than pick.
//!
//! # Installing
//!
//! [`install`] calls seccomp(2) itself instead of seccompiler's
//! `apply_filter`, which always sets no_new_privs: whether a process gets
//! no_new_privs is not this module's decision. Without it the kernel
//! requires CAP_SYS_ADMIN. In the course's container lesson 10 has set it
//! (always, even where podman leaves `noNewPrivileges` unset and runc
//! keeps NoNewPrivs 0: a difference chapter 11 shows), so the container
//! installs these filters last, after the exec FIFO, just before `exec`.

use std::collections::{BTreeMap, HashMap};

use oci_spec::runtime::{
    LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompFilterFlag, LinuxSeccompOperator,
};
use seccompiler::{BpfProgram, TargetArch};
use serde_json::{Value, json};

use crate::error::{Context, Error, Result};

/// The errno of SCMP_ACT_ERRNO without `errnoRet` (the spec's default).
const DEFAULT_ERRNO: u32 = libc::EPERM as u32;

/// The highest argument index: a system call has six arguments.
const LAST_ARG_INDEX: usize = 5;

/// What a filter tells the kernel to do with a call: the actions
/// seccompiler can express and we support.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Allow,
    Log,
    Errno(u32),
    Trap,
    KillThread,
    KillProcess,
}

impl Action {
    /// The action of `action` with `errno_ret`, or a refusal naming `field`.
    fn from_spec(
        action: LinuxSeccompAction,
        errno_ret: Option<u32>,
        errno_field: &str,
        field: &str,
    ) -> Result<Action> {
        let action = match action {
            LinuxSeccompAction::ScmpActAllow => Action::Allow,
            LinuxSeccompAction::ScmpActLog => Action::Log,
            LinuxSeccompAction::ScmpActErrno => {
                return Ok(Action::Errno(errno_ret.unwrap_or(DEFAULT_ERRNO)));
            }
            LinuxSeccompAction::ScmpActTrap => Action::Trap,
            // libseccomp's SCMP_ACT_KILL is the thread-killing one.
            LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => {
                Action::KillThread
            }
            LinuxSeccompAction::ScmpActKillProcess => Action::KillProcess,
            LinuxSeccompAction::ScmpActNotify | LinuxSeccompAction::ScmpActTrace => {
                return Err(refused(
                    field,
                    format!(
                        "{action} needs a supervising process, which this runtime does not run"
                    ),
                ));
            }
        };
        match errno_ret {
            Some(_) => Err(refused(
                errno_field,
                format!("an errno is only returned by SCMP_ACT_ERRNO, not {action:?}"),
            )),
            None => Ok(action),
        }
    }

    /// The action in seccompiler's JSON.
    fn to_json(self) -> Value {
        match self {
            Action::Allow => json!("allow"),
            Action::Log => json!("log"),
            Action::Errno(errno) => json!({ "errno": errno }),
            Action::Trap => json!("trap"),
            Action::KillThread => json!("kill_thread"),
            Action::KillProcess => json!("kill_process"),
        }
    }
}

/// One entry of `syscalls`, checked: its action, the names this
/// architecture has, and its conditions in seccompiler's JSON (empty: the
/// entry matches whatever the arguments).
struct Entry {
    action: Action,
    names: Vec<String>,
    conditions: Vec<Value>,
}

/// Compiles `profile` into the filters to install, in order; every refusal
/// is an error naming the field.
pub fn compile(profile: &LinuxSeccomp) -> Result<Vec<BpfProgram>> {
    let arch = native_arch()?;
    check_supervision(profile)?;
    let default = Action::from_spec(
        profile.default_action(),
        profile.default_errno_ret(),
        "linux.seccomp.defaultErrnoRet",
        "linux.seccomp.defaultAction",
    )?;
    let mut names = KnownNames::new(arch);
    let entries = profile
        .syscalls()
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, syscall)| {
            let field = format!("linux.seccomp.syscalls[{i}]");
            Ok(Entry {
                action: Action::from_spec(
                    syscall.action(),
                    syscall.errno_ret(),
                    &format!("{field}.errnoRet"),
                    &format!("{field}.action"),
                )?,
                names: names.keep_known(syscall.names()),
                conditions: syscall
                    .args()
                    .iter()
                    .flatten()
                    .enumerate()
                    .map(|(j, arg)| condition(arg, &format!("{field}.args[{j}]")))
                    .collect::<Result<_>>()?,
            })
        })
        .collect::<Result<Vec<_>>>()?;

    // The install order: the default's filter first, then one per action
    // in reverse order of first appearance, so that between two errnos the
    // entry listed first is installed last and wins (see the module doc).
    let mut filters = Vec::new();
    if default != Action::Allow {
        filters.push(filter_json(entries.iter(), Action::Allow, default));
    }
    let mut actions: Vec<Action> = Vec::new();
    for entry in &entries {
        if entry.action != Action::Allow && !actions.contains(&entry.action) {
            actions.push(entry.action);
        }
    }
    for &action in actions.iter().rev() {
        let with_action = entries.iter().filter(|entry| entry.action == action);
        filters.push(filter_json(with_action, action, Action::Allow));
    }
    compile_json(filters, arch)
}

/// Installs `filters` (from [`compile`]) on the calling thread, in order.
///
/// Without no_new_privs set, the caller needs CAP_SYS_ADMIN; with it, the
/// filters are the last thing the process can change about itself.
pub fn install(filters: &[BpfProgram]) -> Result<()> {
    for filter in filters {
        let program = libc::sock_fprog {
            len: u16::try_from(filter.len())
                .map_err(|_| Error::new("install a seccomp filter").because("too long"))?,
            filter: filter.as_ptr().cast::<libc::sock_filter>().cast_mut(),
        };
        // SAFETY: seccomp(2) only reads `program` and the `len`
        // instructions it points to, which `filter` holds for the whole
        // call; seccompiler's `sock_filter` is `repr(C)` with the fields of
        // the kernel's (u16, u8, u8, u32), as libc's is, so the cast keeps
        // the layout.
        let status = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0,
                &raw const program,
            )
        };
        if status != 0 {
            let cause = std::io::Error::last_os_error();
            let error = Error::new("install the seccomp filter");
            // EACCES: neither no_new_privs nor CAP_SYS_ADMIN.
            return Err(if cause.raw_os_error() == Some(libc::EACCES) {
                error
                    .because(cause)
                    .fix("set process.noNewPrivileges, or install before dropping CAP_SYS_ADMIN")
            } else {
                error.because(cause)
            });
        }
    }
    Ok(())
}

/// The architecture we run on, as seccompiler names it.
fn native_arch() -> Result<TargetArch> {
    TargetArch::try_from(std::env::consts::ARCH).map_err(|_| {
        refused(
            "linux.seccomp",
            format!("no seccomp compiler for {}", std::env::consts::ARCH),
        )
    })
}

/// Refuses what needs a supervisor or a filter flag we cannot set.
fn check_supervision(profile: &LinuxSeccomp) -> Result<()> {
    if profile.listener_path().is_some() {
        return Err(refused(
            "linux.seccomp.listenerPath",
            "no seccomp supervisor runs beside this runtime's containers",
        ));
    }
    if profile.listener_metadata().is_some() {
        return Err(refused(
            "linux.seccomp.listenerMetadata",
            "no seccomp supervisor runs beside this runtime's containers",
        ));
    }
    for flag in profile.flags().iter().flatten() {
        if *flag != LinuxSeccompFilterFlag::SeccompFilterFlagTsync {
            return Err(refused(
                "linux.seccomp.flags",
                format!("{flag} cannot be set by this runtime"),
            ));
        }
    }
    Ok(())
}

/// `arg` as a seccompiler condition on the whole 64-bit argument.
fn condition(arg: &LinuxSeccompArg, field: &str) -> Result<Value> {
    if arg.index() > LAST_ARG_INDEX {
        return Err(refused(
            &format!("{field}.index"),
            format!("a system call has arguments 0 to {LAST_ARG_INDEX}"),
        ));
    }
    let (op, value) = match arg.op() {
        LinuxSeccompOperator::ScmpCmpEq => (json!("eq"), arg.value()),
        LinuxSeccompOperator::ScmpCmpNe => (json!("ne"), arg.value()),
        LinuxSeccompOperator::ScmpCmpLt => (json!("lt"), arg.value()),
        LinuxSeccompOperator::ScmpCmpLe => (json!("le"), arg.value()),
        LinuxSeccompOperator::ScmpCmpGt => (json!("gt"), arg.value()),
        LinuxSeccompOperator::ScmpCmpGe => (json!("ge"), arg.value()),
        LinuxSeccompOperator::ScmpCmpMaskedEq => {
            // (argument & value) == valueTwo
            let (mask, wanted) = (arg.value(), arg.value_two().unwrap_or(0));
            if wanted & !mask != 0 {
                return Err(refused(
                    &format!("{field}.valueTwo"),
                    "it has bits outside the mask `value`, so it can never match",
                ));
            }
            (json!({ "masked_eq": mask }), wanted)
        }
    };
    Ok(json!({ "index": arg.index(), "type": "qword", "op": op, "val": value }))
}

/// A seccompiler filter in JSON: `on_match` when one of `entries` matches,
/// `otherwise` else.
fn filter_json<'a>(
    entries: impl Iterator<Item = &'a Entry>,
    on_match: Action,
    otherwise: Action,
) -> Value {
    // Per name, the alternatives; `None` once an entry matches whatever the
    // arguments, which makes the others pointless. (seccompiler would read a
    // rule without conditions next to rules with some as one of those rules
    // being absent: it keeps only the conditional ones.)
    let mut alternatives: BTreeMap<&str, Option<Vec<&[Value]>>> = BTreeMap::new();
    for entry in entries {
        for name in &entry.names {
            let slot = alternatives.entry(name).or_insert_with(|| Some(Vec::new()));
            match slot {
                Some(rules) if !entry.conditions.is_empty() => rules.push(&entry.conditions),
                _ => *slot = None,
            }
        }
    }
    let rules: Vec<Value> = alternatives
        .into_iter()
        .flat_map(|(name, rules)| match rules {
            None => vec![json!({ "syscall": name })],
            Some(rules) => rules
                .into_iter()
                .map(|conditions| json!({ "syscall": name, "args": conditions }))
                .collect(),
        })
        .collect();
    json!({
        "match_action": on_match.to_json(),
        "mismatch_action": otherwise.to_json(),
        "filter": rules,
    })
}

/// Compiles the JSON `filters` into BPF, keeping their order.
fn compile_json(filters: Vec<Value>, arch: TargetArch) -> Result<Vec<BpfProgram>> {
    let by_key: serde_json::Map<String, Value> = filters
        .into_iter()
        .enumerate()
        .map(|(i, filter)| (i.to_string(), filter))
        .collect();
    let count = by_key.len();
    let json = Value::Object(by_key).to_string();
    let mut compiled = seccompiler::compile_from_json(json.as_bytes(), arch)
        .context("compile linux.seccomp into BPF")?;
    Ok((0..count)
        .filter_map(|i| compiled.remove(&i.to_string()))
        .collect())
}

/// Which system call names this architecture has. seccompiler's table is
/// private; its JSON front end refuses a filter naming an unknown call, so
/// we ask it about each name once.
struct KnownNames {
    arch: TargetArch,
    known: HashMap<String, bool>,
}

impl KnownNames {
    fn new(arch: TargetArch) -> Self {
        KnownNames {
            arch,
            known: HashMap::new(),
        }
    }

    fn keep_known(&mut self, names: &[String]) -> Vec<String> {
        names
            .iter()
            .filter(|name| self.is_known(name))
            .cloned()
            .collect()
    }

    fn is_known(&mut self, name: &str) -> bool {
        let arch = self.arch;
        *self.known.entry(name.to_owned()).or_insert_with(|| {
            let probe = json!({ "probe": {
                "match_action": "allow",
                "mismatch_action": "trap",
                "filter": [{ "syscall": name }],
            }});
            seccompiler::compile_from_json(probe.to_string().as_bytes(), arch).is_ok()
        })
    }
}

/// The one-line refusal of `field`, worded as the bundle's other refusals
/// (`bundle` reads this module, so it cannot lend us its helper).
fn refused(field: &str, why: impl std::fmt::Display) -> Error {
    Error::new(format!("config.json: {field}: {why}"))
        .fix("remove it from the bundle, or use runc for this container")
}

// The syscall numbers and the arch word below are x86_64's.
#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use libc::{
        SECCOMP_RET_ACTION_FULL, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS,
        SECCOMP_RET_KILL_THREAD, SECCOMP_RET_LOG, SECCOMP_RET_TRAP,
    };
    use oci_spec::runtime::Spec;
    use proptest::prelude::*;
    use seccompiler::sock_filter;

    /// config.json as podman 4.3 sent it to runc, with its default profile.
    const PODMAN: &str = include_str!("testdata/podman-config.json");
    /// `seccomp_data.arch` of x86_64 and of i386 (linux/audit.h).
    const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
    const AUDIT_ARCH_I386: u32 = 0x4000_0003;
    /// x32 calls are x86_64 calls with this bit in the number.
    const X32_SYSCALL_BIT: i64 = 0x4000_0000;

    fn podman_profile() -> LinuxSeccomp {
        let spec: Spec = serde_json::from_str(PODMAN).expect("podman's config.json parses");
        let linux = spec.linux().as_ref().expect("podman sends linux");
        linux.seccomp().clone().expect("podman sends a profile")
    }

    fn profile(json: Value) -> LinuxSeccomp {
        serde_json::from_value(json).expect("a valid profile")
    }

    /// One system call as a filter sees it.
    #[derive(Clone, Debug)]
    struct Call {
        name: &'static str,
        nr: i64,
        arch: u32,
        args: [u64; 6],
    }

    fn call(name: &'static str, nr: i64, args: &[u64]) -> Call {
        let mut all = [0; 6];
        all[..args.len()].copy_from_slice(args);
        Call {
            name,
            nr,
            arch: AUDIT_ARCH_X86_64,
            args: all,
        }
    }

    /// `struct seccomp_data` for `call`: nr, arch, instruction pointer, args.
    fn seccomp_data(call: &Call) -> [u8; 64] {
        let mut data = [0; 64];
        data[0..4].copy_from_slice(&(call.nr as i32).to_ne_bytes());
        data[4..8].copy_from_slice(&call.arch.to_ne_bytes());
        for (i, arg) in call.args.iter().enumerate() {
            data[16 + 8 * i..24 + 8 * i].copy_from_slice(&arg.to_ne_bytes());
        }
        data
    }

    /// Runs classic BPF as the kernel does, for the instructions
    /// seccompiler emits (a test of its output, not of the kernel).
    fn run(filter: &[sock_filter], data: &[u8; 64]) -> u32 {
        let (mut pc, mut acc) = (0usize, 0u32);
        loop {
            let insn = &filter[pc];
            let k = insn.k;
            let jump = |taken: bool| usize::from(if taken { insn.jt } else { insn.jf });
            pc += 1;
            match insn.code {
                0x20 => {
                    // ld [k]
                    let at = k as usize;
                    acc = u32::from_ne_bytes(data[at..at + 4].try_into().unwrap());
                }
                0x54 => acc &= k,             // and #k
                0x05 => pc += k as usize,     // ja k
                0x15 => pc += jump(acc == k), // jeq #k
                0x25 => pc += jump(acc > k),  // jgt #k
                0x35 => pc += jump(acc >= k), // jge #k
                0x06 => return k,             // ret #k
                code => panic!("instruction {code:#x} not expected from seccompiler"),
            }
        }
    }

    /// The kernel's answer with `filters` installed in order: every filter
    /// runs, the most recent first, and the first answer of the highest
    /// precedence wins (the action as a signed number: lower is higher).
    fn kernel(filters: &[BpfProgram], call: &Call) -> u32 {
        let data = seccomp_data(call);
        let rank = |ret: u32| (ret & SECCOMP_RET_ACTION_FULL) as i32;
        filters.iter().rev().map(|filter| run(filter, &data)).fold(
            SECCOMP_RET_ALLOW,
            |best, ret| {
                if rank(ret) < rank(best) { ret } else { best }
            },
        )
    }

    /// The answer the profile gives `call`, read straight off the spec (no
    /// code of the module): the matching entries' highest action, the
    /// first listed among equals; the default if none matches.
    fn expected(profile: &LinuxSeccomp, call: &Call) -> u32 {
        let answer = |action, errno: Option<u32>| match action {
            LinuxSeccompAction::ScmpActAllow => SECCOMP_RET_ALLOW,
            LinuxSeccompAction::ScmpActLog => SECCOMP_RET_LOG,
            LinuxSeccompAction::ScmpActErrno => SECCOMP_RET_ERRNO | errno.unwrap_or(1),
            LinuxSeccompAction::ScmpActTrap => SECCOMP_RET_TRAP,
            LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => {
                SECCOMP_RET_KILL_THREAD
            }
            LinuxSeccompAction::ScmpActKillProcess => SECCOMP_RET_KILL_PROCESS,
            other => panic!("{other} is refused"),
        };
        let holds = |arg: &LinuxSeccompArg| {
            let (have, value) = (call.args[arg.index()], arg.value());
            match arg.op() {
                LinuxSeccompOperator::ScmpCmpEq => have == value,
                LinuxSeccompOperator::ScmpCmpNe => have != value,
                LinuxSeccompOperator::ScmpCmpLt => have < value,
                LinuxSeccompOperator::ScmpCmpLe => have <= value,
                LinuxSeccompOperator::ScmpCmpGt => have > value,
                LinuxSeccompOperator::ScmpCmpGe => have >= value,
                LinuxSeccompOperator::ScmpCmpMaskedEq => {
                    have & value == arg.value_two().unwrap_or(0)
                }
            }
        };
        if call.arch != AUDIT_ARCH_X86_64 {
            return SECCOMP_RET_KILL_PROCESS;
        }
        let rank = |ret: u32| (ret & SECCOMP_RET_ACTION_FULL) as i32;
        profile
            .syscalls()
            .iter()
            .flatten()
            .filter(|entry| entry.names().iter().any(|name| name == call.name))
            .filter(|entry| entry.args().iter().flatten().all(holds))
            .map(|entry| answer(entry.action(), entry.errno_ret()))
            .reduce(|best, ret| if rank(ret) < rank(best) { ret } else { best })
            .unwrap_or_else(|| answer(profile.default_action(), profile.default_errno_ret()))
    }

    const ENOSYS: u32 = SECCOMP_RET_ERRNO | libc::ENOSYS as u32;
    const EPERM: u32 = SECCOMP_RET_ERRNO | libc::EPERM as u32;
    const EINVAL: u32 = SECCOMP_RET_ERRNO | libc::EINVAL as u32;

    #[test]
    fn podmans_profile_answers_as_libseccomp_would() {
        let profile = podman_profile();
        let filters = compile(&profile).expect("podman's profile compiles");
        // Its default (ENOSYS), and one filter per errno of its entries
        // (EPERM, and EINVAL for netlink audit sockets).
        assert_eq!(filters.len(), 3);
        let i386_read = Call {
            arch: AUDIT_ARCH_I386,
            ..call("read", 3, &[])
        };
        let x32_read = call("x32 read", libc::SYS_read | X32_SYSCALL_BIT, &[]);
        for (call, answer) in [
            (call("read", libc::SYS_read, &[]), SECCOMP_RET_ALLOW),
            (call("execve", libc::SYS_execve, &[]), SECCOMP_RET_ALLOW),
            (
                call("personality", libc::SYS_personality, &[0]),
                SECCOMP_RET_ALLOW,
            ),
            (
                call("personality", libc::SYS_personality, &[0xffff_ffff]),
                SECCOMP_RET_ALLOW,
            ),
            // An allowed name whose conditions fail gets the default.
            (call("personality", libc::SYS_personality, &[1]), ENOSYS),
            // All 64 bits compared: 0xffffffff is allowed, this is not.
            (
                call("personality", libc::SYS_personality, &[0x1_ffff_ffff]),
                ENOSYS,
            ),
            (call("kexec_load", libc::SYS_kexec_load, &[]), EPERM),
            (call("kcmp", libc::SYS_kcmp, &[]), EPERM),
            // Both allowed and refused by podman: the refusal wins.
            (call("setns", libc::SYS_setns, &[]), EPERM),
            // Netlink audit sockets fail with EINVAL, other sockets work.
            (call("socket", libc::SYS_socket, &[16, 3, 9]), EINVAL),
            (
                call("socket", libc::SYS_socket, &[16, 3, 0]),
                SECCOMP_RET_ALLOW,
            ),
            (
                call("socket", libc::SYS_socket, &[2, 1, 9]),
                SECCOMP_RET_ALLOW,
            ),
            // Named nowhere.
            (call("add_key", libc::SYS_add_key, &[]), ENOSYS),
            (call("no such call", 1000, &[]), ENOSYS),
            (x32_read, ENOSYS),
            (i386_read, SECCOMP_RET_KILL_PROCESS),
        ] {
            assert_eq!(kernel(&filters, &call), answer, "{call:?}");
            if !call.name.contains(' ') {
                assert_eq!(expected(&profile, &call), answer, "the reading of {call:?}");
            }
        }
    }

    /// A profile with every supported action, every comparison, values
    /// across the 32-bit halves, and overlapping entries.
    fn many_actions() -> LinuxSeccomp {
        profile(json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "defaultErrnoRet": 38,
            "syscalls": [
                { "names": ["read", "write"], "action": "SCMP_ACT_ALLOW" },
                { "names": ["write"], "action": "SCMP_ACT_ERRNO", "errnoRet": 9,
                  "args": [{ "index": 2, "value": 0x1_0000_0000u64, "op": "SCMP_CMP_GE" }] },
                { "names": ["write"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5,
                  "args": [{ "index": 2, "value": 0x1_0000_0010u64, "op": "SCMP_CMP_GT" }] },
                { "names": ["ioctl"], "action": "SCMP_ACT_KILL_PROCESS",
                  "args": [{ "index": 1, "value": 0xff00, "valueTwo": 0x5400,
                             "op": "SCMP_CMP_MASKED_EQ" },
                           { "index": 0, "value": 3, "op": "SCMP_CMP_LE" }] },
                { "names": ["ioctl"], "action": "SCMP_ACT_TRAP",
                  "args": [{ "index": 0, "value": 2, "op": "SCMP_CMP_LT" }] },
                { "names": ["ioctl"], "action": "SCMP_ACT_ALLOW",
                  "args": [{ "index": 0, "value": 2, "op": "SCMP_CMP_NE" }] },
                { "names": ["ioctl"], "action": "SCMP_ACT_LOG",
                  "args": [{ "index": 1, "value": 0x8000_0000_0000_0000u64, "op": "SCMP_CMP_LE" }] },
                { "names": ["kill"], "action": "SCMP_ACT_KILL" },
                { "names": ["kill", "_llseek"], "action": "SCMP_ACT_ALLOW",
                  "args": [{ "index": 1, "value": 0, "op": "SCMP_CMP_EQ" }] },
                { "names": ["mmap"], "action": "SCMP_ACT_ERRNO",
                  "args": [{ "index": 3, "value": 0x22, "op": "SCMP_CMP_MASKED_EQ" }] },
                { "names": ["mmap"], "action": "SCMP_ACT_ALLOW",
                  "args": [{ "index": 3, "value": 0x22, "op": "SCMP_CMP_NE" }] },
                { "names": ["mmap"], "action": "SCMP_ACT_ALLOW" }
            ]
        }))
    }

    const MANY_ACTIONS_CALLS: [(&str, i64); 6] = [
        ("read", libc::SYS_read),
        ("write", libc::SYS_write),
        ("ioctl", libc::SYS_ioctl),
        ("kill", libc::SYS_kill),
        ("mmap", libc::SYS_mmap),
        ("getpid", libc::SYS_getpid),
    ];

    /// Argument values near every constant of the profile above.
    fn interesting_arg() -> impl Strategy<Value = u64> {
        prop_oneof![
            prop::sample::select(vec![
                0,
                1,
                2,
                3,
                4,
                0x22,
                0x5401,
                0x54ff,
                0x5500,
                0xffff_ffff,
                0x1_0000_0000,
                0x1_0000_0010,
                0x1_0000_0011,
                0x8000_0000_0000_0000,
                0x8000_0000_0000_0001,
                u64::MAX,
            ]),
            any::<u64>(),
        ]
    }

    proptest! {
        #[test]
        fn the_split_into_filters_keeps_the_profiles_meaning(
            which in 0..MANY_ACTIONS_CALLS.len(),
            args in prop::array::uniform6(interesting_arg()),
        ) {
            let profile = many_actions();
            let filters = compile(&profile).unwrap();
            let (name, nr) = MANY_ACTIONS_CALLS[which];
            let call = Call { args, ..call(name, nr, &[]) };
            prop_assert_eq!(kernel(&filters, &call), expected(&profile, &call));
        }
    }

    #[test]
    fn each_action_is_reached_by_the_profile_with_many() {
        // Guards the property above against a profile that says one thing.
        let profile = many_actions();
        let filters = compile(&profile).unwrap();
        // default, then EPERM (mmap), LOG, TRAP, KILL_PROCESS, EIO, EBADF,
        // KILL_THREAD: one per action, most recently listed first.
        assert_eq!(filters.len(), 8);
        for (call, answer) in [
            (call("getpid", libc::SYS_getpid, &[]), ENOSYS),
            (
                call("write", libc::SYS_write, &[1, 0, 0xffff_ffff]),
                SECCOMP_RET_ALLOW,
            ),
            (
                call("write", libc::SYS_write, &[1, 0, 0x1_0000_0000]),
                SECCOMP_RET_ERRNO | 9,
            ),
            // Both errno entries match: the one listed first wins.
            (
                call("write", libc::SYS_write, &[1, 0, 0x1_0000_0011]),
                SECCOMP_RET_ERRNO | 9,
            ),
            (
                call("ioctl", libc::SYS_ioctl, &[3, 0x5401]),
                SECCOMP_RET_KILL_PROCESS,
            ),
            (
                call("ioctl", libc::SYS_ioctl, &[1, 0x5501]),
                SECCOMP_RET_TRAP,
            ),
            (
                call("ioctl", libc::SYS_ioctl, &[3, 0x5501]),
                SECCOMP_RET_LOG,
            ),
            // Only the LOG entry matches: it beats the default, though
            // the default (ERRNO) ranks higher.
            (
                call("ioctl", libc::SYS_ioctl, &[2, 0x5501]),
                SECCOMP_RET_LOG,
            ),
            (
                call("ioctl", libc::SYS_ioctl, &[4, u64::MAX]),
                SECCOMP_RET_ALLOW,
            ),
            // An entry for ioctl matches none of these: the default.
            (call("ioctl", libc::SYS_ioctl, &[2, u64::MAX]), ENOSYS),
            (
                call("kill", libc::SYS_kill, &[1, 0]),
                SECCOMP_RET_KILL_THREAD,
            ),
            // MASKED_EQ without valueTwo: none of the mask's bits set.
            (call("mmap", libc::SYS_mmap, &[0, 0, 0, 0x1]), EPERM),
            (
                call("mmap", libc::SYS_mmap, &[0, 0, 0, 0x22]),
                SECCOMP_RET_ALLOW,
            ),
            (
                call("mmap", libc::SYS_mmap, &[0, 0, 0, 0x2]),
                SECCOMP_RET_ALLOW,
            ),
        ] {
            assert_eq!(kernel(&filters, &call), answer, "{call:?}");
            assert_eq!(expected(&profile, &call), answer, "the reading of {call:?}");
        }
    }

    #[test]
    fn names_of_other_architectures_are_skipped() {
        let profile = profile(json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
            "syscalls": [{ "names": ["_llseek", "fcntl64", "read"], "action": "SCMP_ACT_ALLOW" }]
        }));
        let filters = compile(&profile).unwrap();
        assert_eq!(
            kernel(&filters, &call("read", libc::SYS_read, &[])),
            SECCOMP_RET_ALLOW
        );
        assert_eq!(
            kernel(&filters, &call("fcntl", libc::SYS_fcntl, &[])),
            EPERM
        );
    }

    #[test]
    fn a_profile_that_allows_everything_is_no_filter() {
        let profile = profile(json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "flags": ["SECCOMP_FILTER_FLAG_TSYNC"],
            "syscalls": [{ "names": ["read"], "action": "SCMP_ACT_ALLOW" }]
        }));
        assert_eq!(compile(&profile).unwrap(), Vec::<BpfProgram>::new());
    }

    #[test]
    fn what_cannot_be_honoured_is_refused_by_name() {
        let allow_read = |extra: Value| {
            let mut entry = json!({ "names": ["read"], "action": "SCMP_ACT_ALLOW" });
            entry
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            json!({ "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [entry] })
        };
        let with = |field: &str, value: Value| {
            let mut profile = json!({ "defaultAction": "SCMP_ACT_ERRNO" });
            profile[field] = value;
            profile
        };
        for (profile, field) in [
            (
                with("listenerPath", json!("/run/agent.sock")),
                "linux.seccomp.listenerPath",
            ),
            (
                with("listenerMetadata", json!("x")),
                "linux.seccomp.listenerMetadata",
            ),
            (
                with("flags", json!(["SECCOMP_FILTER_FLAG_LOG"])),
                "linux.seccomp.flags",
            ),
            (
                json!({ "defaultAction": "SCMP_ACT_NOTIFY" }),
                "linux.seccomp.defaultAction",
            ),
            (
                json!({ "defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 1 }),
                "linux.seccomp.defaultErrnoRet",
            ),
            (
                allow_read(json!({ "action": "SCMP_ACT_TRACE" })),
                "linux.seccomp.syscalls[0].action",
            ),
            (
                allow_read(json!({ "errnoRet": 1 })),
                "linux.seccomp.syscalls[0].errnoRet",
            ),
            (
                allow_read(json!({ "args": [{ "index": 6, "value": 0, "op": "SCMP_CMP_EQ" }] })),
                "linux.seccomp.syscalls[0].args[0].index",
            ),
            (
                allow_read(
                    json!({ "args": [{ "index": 0, "value": 0xf0, "valueTwo": 0x1,
                                            "op": "SCMP_CMP_MASKED_EQ" }] }),
                ),
                "linux.seccomp.syscalls[0].args[0].valueTwo",
            ),
        ] {
            let error = compile(&self::profile(profile)).unwrap_err().to_string();
            assert!(
                error.starts_with(&format!("config.json: {field}: ")),
                "{error}"
            );
            assert!(error.contains("(fix: "), "{error}");
            assert!(!error.contains('\n'), "{error}");
        }
    }

    /// Installs podman's profile in a child process (this test binary run
    /// again for this one test), where it can do no harm, and calls: the
    /// persona query personality(0xffffffff) is allowed, kcmp (harmless
    /// without the filter: EINVAL on a bad type) is refused with EPERM, and
    /// add_key, named nowhere, fails with ENOSYS. Unprivileged: with
    /// no_new_privs set, any process may install a filter.
    #[test]
    fn podmans_profile_installed_in_a_child() {
        const CHILD: &str = "NSLAB_SECCOMP_TEST_CHILD";
        if std::env::var_os(CHILD).is_some() {
            nix::sys::prctl::set_no_new_privs().unwrap();
            install(&compile(&podman_profile()).unwrap()).unwrap();
            let errno = |status: libc::c_long| {
                if status == -1 {
                    std::io::Error::last_os_error().raw_os_error()
                } else {
                    None
                }
            };
            // SAFETY: a query of the persona: it changes nothing.
            let persona = unsafe { libc::personality(0xffff_ffff) };
            assert_ne!(persona, -1, "personality(0xffffffff) was refused");
            let pid = libc::c_long::from(std::process::id() as i32);
            // SAFETY: kcmp with an unknown type only compares nothing and
            // fails; it reads and writes no memory of ours.
            let kcmp = unsafe { libc::syscall(libc::SYS_kcmp, pid, pid, 99, 0, 0) };
            assert_eq!(errno(kcmp), Some(libc::EPERM));
            // SAFETY: add_key with null pointers fails with EFAULT at worst;
            // the filter stops it before the kernel reads anything.
            let add_key = unsafe { libc::syscall(libc::SYS_add_key, 0, 0, 0, 0, 0) };
            assert_eq!(errno(add_key), Some(libc::ENOSYS));
            return;
        }
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "oci::seccomp::tests::podmans_profile_installed_in_a_child",
            ])
            .args(["--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .output()
            .unwrap();
        let report =
            String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{report}");
        assert!(report.contains("1 passed"), "{report}");
    }
}
