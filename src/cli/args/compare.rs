//! `compare`'s arguments.

use std::path::PathBuf;

use super::Format;
use crate::cli::parse;
use stream_doctor::session::Session;

#[derive(clap::Args)]
#[command(
    after_help = "Exit status: 0 when no failing cause results, 1 when one does, 2 for bad usage (a file that is not a report, reports of different URLs).\n\nExample:\n  stream-doctor check wss://api.example.com/s --format json --out here.json\n  (the same from CI or the deployed side: there.json)\n  stream-doctor compare here.json there.json"
)]
pub struct CompareArgs {
    /// The report from here (`check --format json`).
    #[arg(value_name = "HERE.json", value_parser = parse::saved_session)]
    pub here: Box<Session>,
    /// The report from the other place.
    #[arg(value_name = "THERE.json", value_parser = parse::saved_session)]
    pub there: Box<Session>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}
