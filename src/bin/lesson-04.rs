//! `lesson-04`: the runtime core, the solutions below lesson 04, and your lesson 04.
fn main() -> std::process::ExitCode {
    nslab::exercise(4)
}
