//! `solution-06`: the runtime core and the reference solutions up to lesson 06.
fn main() -> std::process::ExitCode {
    nslab::solution(6)
}
