//! `solution-07`: the runtime core and the reference solutions up to lesson 07.
fn main() -> std::process::ExitCode {
    nslab::solution(7)
}
