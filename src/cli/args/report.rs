//! `report`'s arguments.

use std::path::PathBuf;

use super::ReportFormat;
use crate::cli::parse;
use stream_doctor::session::Session;

#[derive(clap::Args)]
pub struct ReportArgs {
    /// A session saved as JSON (by `check --format json`, or Export JSON in the window).
    #[arg(value_name = "SESSION", value_parser = parse::saved_session)]
    pub session: Box<Session>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
    pub format: ReportFormat,
    /// Write to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}
