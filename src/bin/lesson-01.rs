//! `lesson-01`: the runtime core, the solutions below lesson 01, and your lesson 01.
fn main() -> std::process::ExitCode {
    nslab::exercise(1)
}
