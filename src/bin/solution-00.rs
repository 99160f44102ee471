//! `solution-00`: the runtime core and the reference solutions up to lesson 00.
fn main() -> std::process::ExitCode {
    nslab::solution(0)
}
