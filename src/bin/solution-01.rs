//! `solution-01`: the runtime core and the reference solutions up to lesson 01.
fn main() -> std::process::ExitCode {
    nslab::solution(1)
}
