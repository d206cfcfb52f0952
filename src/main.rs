//! The `stream-doctor` binary: arguments in, a headless command out (see `cli`).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
