//! The `stream-doctor` binary: arguments in, a headless command out (see `cli`).

// Every write goes through `cli::output`, which masks secrets; a direct print would not.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
