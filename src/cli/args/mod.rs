//! The command line's arguments, one file per command (`watch`, `telnyx` and `converse` keep
//! theirs beside their code), and the output formats they share.

mod check;
mod compare;
mod explain;
mod listen;
mod replay;
mod report;

use clap::ValueEnum;

pub use check::{CaFile, CheckArgs, ConnectArgs, FailOn};
pub use compare::CompareArgs;
pub use explain::ExplainArgs;
pub use listen::ListenArgs;
pub use replay::ReplayArgs;
pub use report::ReportArgs;

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
    Html,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SummaryFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    Markdown,
    Html,
    Json,
}
