//! `lesson-06`: the runtime core, the solutions below lesson 06, and your lesson 06.
fn main() -> std::process::ExitCode {
    nslab::exercise(6)
}
