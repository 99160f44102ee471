//! `solution-08`: the runtime core and the reference solutions up to lesson 08.
fn main() -> std::process::ExitCode {
    nslab::solution(8)
}
