//! `solution-05`: the runtime core and the reference solutions up to lesson 05.
fn main() -> std::process::ExitCode {
    nslab::solution(5)
}
