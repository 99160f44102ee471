//! A binary of the course: its name says which (see src/lib.rs).
fn main() -> std::process::ExitCode {
    nslab::main(env!("CARGO_BIN_NAME"))
}
