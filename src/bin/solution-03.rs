//! `solution-03`: the runtime core and the reference solutions up to lesson 03.
fn main() -> std::process::ExitCode {
    nslab::solution(3)
}
