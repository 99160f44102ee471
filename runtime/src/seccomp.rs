//! A seccomp filter's shortcut for the calls it does not name.
//!
//! When a filter is installed, the kernel runs it once for every system
//! call number of the native architecture, to learn which calls it always
//! allows; those then skip the filter. seccompiler emits one long chain of
//! comparisons, one per named call, so that first pass costs hundreds of
//! runs of up to a few hundred instructions: about 0.7 ms for lesson 10's
//! filter, measured (book: "Benchmarks", "Where the kernel waits").
//!
//! [`with_shortcut`] puts a binary search in front of such a filter: a
//! native call whose number the filter does not name is allowed after a
//! handful of comparisons; every other call (a named number, another
//! architecture) goes on to the filter itself, unchanged. So the filter
//! answers every call exactly as before, and the kernel's first pass
//! reads a few instructions per number instead of the whole chain.

use seccompiler::{BpfProgram, sock_filter};

/// `seccomp_data.arch` of the architecture this runtime is built for
/// (linux/audit.h); None where the course has no shortcut for it.
const NATIVE_ARCH: Option<u32> = if cfg!(target_arch = "x86_64") {
    Some(0xc000_003e)
} else if cfg!(target_arch = "aarch64") {
    Some(0xc000_00b7)
} else {
    None
};

// Classic BPF, as linux/filter.h spells it.
const LOAD_WORD: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JUMP_IF_EQUAL: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JUMP_IF_AT_LEAST: u16 = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const RETURN: u16 = 0x06; // BPF_RET | BPF_K
/// Offsets of `nr` and `arch` in `struct seccomp_data`.
const NR: u32 = 0;
const ARCH: u32 = 4;
const ALLOW: u32 = 0x7fff_0000; // SECCOMP_RET_ALLOW

/// Where a jump of the shortcut goes.
#[derive(Clone, Copy)]
enum To {
    Next,
    /// The instruction at this index of the shortcut.
    At(usize),
    /// "Allow", the shortcut's last instruction.
    Allow,
    /// The filter itself, right after the shortcut.
    Filter,
}

struct Step {
    code: u16,
    k: u32,
    taken: To,
    not_taken: To,
}

/// `filter` with a shortcut in front: native calls whose numbers are not
/// in `named` are allowed at once; everything else runs `filter`.
///
/// Only for a filter that allows every native call it does not name (its
/// mismatch action is "allow", as lesson 10's are): the caller passes the
/// numbers its rules name. Where the shortcut would not fit classic BPF's
/// 8-bit jumps, or the architecture is not one the course knows, `filter`
/// comes back as it was.
pub fn with_shortcut(filter: BpfProgram, named: impl IntoIterator<Item = i64>) -> BpfProgram {
    let Some(native) = NATIVE_ARCH else {
        return filter;
    };
    let mut numbers: Vec<u32> = Vec::new();
    for number in named {
        let Ok(number) = u32::try_from(number) else {
            return filter;
        };
        numbers.push(number);
    }
    numbers.sort_unstable();
    numbers.dedup();
    let mut steps = vec![
        step(LOAD_WORD, ARCH, To::Next, To::Next),
        step(JUMP_IF_EQUAL, native, To::Next, To::Filter),
        step(LOAD_WORD, NR, To::Next, To::Next),
    ];
    search(&numbers, &mut steps);
    steps.push(step(RETURN, ALLOW, To::Next, To::Next));
    let Some(mut shortcut) = assemble(&steps) else {
        return filter;
    };
    shortcut.extend(filter);
    shortcut
}

fn step(code: u16, k: u32, taken: To, not_taken: To) -> Step {
    Step {
        code,
        k,
        taken,
        not_taken,
    }
}

/// A binary search for the number in the accumulator among `numbers`
/// (sorted): a match goes to the filter, anything else to "allow".
fn search(numbers: &[u32], steps: &mut Vec<Step>) {
    match numbers {
        [] => {}
        [only] => steps.push(step(JUMP_IF_EQUAL, *only, To::Filter, To::Allow)),
        _ => {
            let (below, from) = numbers.split_at(numbers.len() / 2);
            let split = steps.len();
            steps.push(step(JUMP_IF_AT_LEAST, from[0], To::Next, To::Next));
            search(below, steps);
            steps[split].taken = To::At(steps.len());
            search(from, steps);
        }
    }
}

/// The steps as instructions, their targets as forward offsets; None if
/// one does not fit in 8 bits.
fn assemble(steps: &[Step]) -> Option<BpfProgram> {
    let allow = steps.len() - 1;
    let filter = steps.len();
    let offset = |from: usize, to: To| -> Option<u8> {
        let target = match to {
            To::Next => from + 1,
            To::At(index) => index,
            To::Allow => allow,
            To::Filter => filter,
        };
        u8::try_from(target.checked_sub(from + 1)?).ok()
    };
    steps
        .iter()
        .enumerate()
        .map(|(index, s)| {
            let jumps = s.code == JUMP_IF_EQUAL || s.code == JUMP_IF_AT_LEAST;
            let (jt, jf) = if jumps {
                (offset(index, s.taken)?, offset(index, s.not_taken)?)
            } else {
                (0, 0)
            };
            Some(sock_filter {
                code: s.code,
                jt,
                jf,
                k: s.k,
            })
        })
        .collect()
}

/// Classic BPF run as the kernel runs it, for the instructions seccompiler
/// and the shortcut emit: for the tests of both.
#[cfg(test)]
pub(crate) mod bpf {
    use seccompiler::sock_filter;

    /// The filter's answer to `data` (a `struct seccomp_data`).
    pub fn run(filter: &[sock_filter], data: &[u8; 64]) -> u32 {
        run_counting(filter, data).0
    }

    /// The answer, and how many instructions it took.
    pub fn run_counting(filter: &[sock_filter], data: &[u8; 64]) -> (u32, usize) {
        let (mut pc, mut acc, mut steps) = (0usize, 0u32, 0usize);
        loop {
            let insn = &filter[pc];
            let k = insn.k;
            let jump = |taken: bool| usize::from(if taken { insn.jt } else { insn.jf });
            pc += 1;
            steps += 1;
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
                0x06 => return (k, steps),    // ret #k
                code => panic!("instruction {code:#x} not expected"),
            }
        }
    }

    /// `struct seccomp_data`: nr, arch, instruction pointer, args.
    pub fn seccomp_data(nr: i64, arch: u32, args: &[u64; 6]) -> [u8; 64] {
        let mut data = [0; 64];
        data[0..4].copy_from_slice(&(nr as i32).to_ne_bytes());
        data[4..8].copy_from_slice(&arch.to_ne_bytes());
        for (i, arg) in args.iter().enumerate() {
            data[16 + 8 * i..24 + 8 * i].copy_from_slice(&arg.to_ne_bytes());
        }
        data
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::bpf::{run, run_counting, seccomp_data};
    use super::*;
    use proptest::prelude::*;
    use seccompiler::{
        SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
        SeccompRule, TargetArch,
    };
    use std::collections::BTreeMap;

    const X86_64: u32 = 0xc000_003e;
    const I386: u32 = 0x4000_0003;
    const X32_SYSCALL_BIT: i64 = 0x4000_0000;

    /// A filter as lesson 10 builds one: `EPERM` for `named`, `clone`
    /// (56) only with a flag in its first argument, everything else
    /// allowed.
    fn lesson_10_like(named: &[i64]) -> (BpfProgram, Vec<i64>) {
        let mut rules: BTreeMap<i64, Vec<SeccompRule>> =
            named.iter().map(|nr| (*nr, Vec::new())).collect();
        let flag = SeccompCondition::new(
            0,
            SeccompCmpArgLen::Qword,
            SeccompCmpOp::MaskedEq(0x1000_0000),
            0x1000_0000,
        )
        .unwrap();
        rules.insert(56, vec![SeccompRule::new(vec![flag]).unwrap()]);
        let keys = rules.keys().copied().collect();
        let filter = SeccompFilter::new(
            rules,
            SeccompAction::Allow,
            SeccompAction::Errno(1),
            TargetArch::x86_64,
        )
        .unwrap();
        (filter.try_into().unwrap(), keys)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn every_call_gets_the_filters_own_answer(
            named in proptest::collection::btree_set(0i64..460, 0..100),
            args in proptest::array::uniform6(prop_oneof![Just(0u64), Just(0x1000_0000), any::<u64>()]),
        ) {
            let named: Vec<i64> = named.into_iter().collect();
            let (filter, keys) = lesson_10_like(&named);
            let fast = with_shortcut(filter.clone(), keys);
            prop_assert!(fast.len() > filter.len(), "the shortcut is in front");
            for nr in (0..520).chain([X32_SYSCALL_BIT, X32_SYSCALL_BIT + 56, -1, i64::from(i32::MAX)]) {
                for arch in [X86_64, I386] {
                    let data = seccomp_data(nr, arch, &args);
                    prop_assert_eq!(run(&fast, &data), run(&filter, &data), "nr {} arch {:#x}", nr, arch);
                }
            }
        }
    }

    #[test]
    fn a_call_the_filter_does_not_name_is_allowed_in_a_few_instructions() {
        let named: Vec<i64> = (100..170).collect();
        let (filter, keys) = lesson_10_like(&named);
        let fast = with_shortcut(filter.clone(), keys);
        let read = seccomp_data(0, X86_64, &[0; 6]);
        let (answer, slow) = run_counting(&filter, &read);
        let (fast_answer, quick) = run_counting(&fast, &read);
        assert_eq!((answer, fast_answer), (ALLOW, ALLOW));
        assert!(quick <= 12, "{quick} instructions with the shortcut");
        assert!(slow > 70, "{slow} instructions without it");
    }

    #[test]
    fn a_shortcut_that_does_not_fit_8_bit_jumps_is_left_out() {
        let named: Vec<i64> = (0..200).collect();
        let (filter, keys) = lesson_10_like(&named);
        assert_eq!(with_shortcut(filter.clone(), keys), filter);
    }
}
