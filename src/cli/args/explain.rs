//! `explain`'s arguments.

use super::SummaryFormat;

#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  stream-doctor explain 31920\n  stream-doctor explain connection_failed\n  stream-doctor explain 31910 --check wss://api.example.com/api/calls/123/audio"
)]
pub struct ExplainArgs {
    /// The code as the provider shows it: 31920, 'Error 31920', connection_failed.
    pub code: String,
    /// Run the checks that answer it against this stream URL.
    #[arg(long, value_name = "URL")]
    pub check: Option<String>,
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    pub format: SummaryFormat,
}
