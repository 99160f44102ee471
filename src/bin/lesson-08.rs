//! `lesson-08`: the runtime core, the solutions below lesson 08, and your lesson 08.
fn main() -> std::process::ExitCode {
    nslab::exercise(8)
}
