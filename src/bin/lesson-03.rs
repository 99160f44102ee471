//! `lesson-03`: the runtime core, the solutions below lesson 03, and your lesson 03.
fn main() -> std::process::ExitCode {
    nslab::exercise(3)
}
