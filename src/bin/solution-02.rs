//! `solution-02`: the runtime core and the reference solutions up to lesson 02.
fn main() -> std::process::ExitCode {
    nslab::solution(2)
}
