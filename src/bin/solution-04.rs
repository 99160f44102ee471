//! `solution-04`: the runtime core and the reference solutions up to lesson 04.
fn main() -> std::process::ExitCode {
    nslab::solution(4)
}
