//! The `wkfuzz` command: see `wkfuzz --help`.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
