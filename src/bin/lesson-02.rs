//! `lesson-02`: the runtime core, the solutions below lesson 02, and your lesson 02.
fn main() -> std::process::ExitCode {
    nslab::exercise(2)
}
