//! `check`'s arguments, and how to reach a stream URL (shared with `replay`).

use std::path::PathBuf;

use clap::ValueEnum;
use rustls_pki_types::CertificateDer;

use super::Format;
use crate::cli::parse;
use stream_doctor::catalog::Provider;
use stream_doctor::check::options::parse_header;
use stream_doctor::demo::DemoMode;
use stream_doctor::records::address::ResolvePin;

#[derive(clap::Args)]
#[command(
    after_help = "Exit status: 0 when nothing stops the provider, 1 when a cause fails (or a check broke; with --fail-on warn, a warning too), 2 for bad usage.\n\nExtra headers also come from STREAM_DOCTOR_HEADERS (one 'Name: value' per line). Under GitHub Actions (GITHUB_STEP_SUMMARY, GITHUB_OUTPUT set) the Markdown report goes to the job summary and reachable, verdict and report-path to the step's outputs.\n\nExamples:\n  stream-doctor check wss://api.example.com/api/calls/123/audio\n  stream-doctor check --demo                     (a built-in local target)\n  stream-doctor check --demo path-mismatch       (watch a diagnosis happen)"
)]
pub struct CheckArgs {
    /// The stream URL exactly as given to the provider (wss://host/path).
    #[arg(required_unless_present = "demo")]
    pub url: Option<String>,
    /// Check the built-in demo target on 127.0.0.1 instead of a URL; optionally in a faulty
    /// mode: healthy, path-mismatch, no-upgrade, auth-required, closes-stream.
    #[arg(long, value_name = "MODE", num_args = 0..=1, default_missing_value = "healthy", conflicts_with = "url")]
    pub demo: Option<DemoMode>,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// How long to watch a new WebSocket for the server closing it, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 2.0, value_parser = parse::seconds_or_zero)]
    pub observe: f64,
    /// Ask this name server (ADDR or ADDR:PORT) instead of the system's resolvers.
    #[arg(long, value_name = "ADDR", value_parser = stream_doctor::probe::dns::name_server)]
    pub dns_server: Option<std::net::SocketAddr>,
    /// An extra request header for the upgrade (repeatable).
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Skip the provider-style stream (connected, start, media, stop).
    #[arg(long)]
    pub no_provider: bool,
    /// Whose upgrade and stream to send: Telnyx's (its auth token header) or Twilio's (its
    /// signature, with --twilio-auth-token; its message shapes).
    #[arg(long, default_value = "telnyx")]
    pub protocol: Provider,
    /// Name this machine in the report (a CI runner, "office"); default: its host name.
    #[arg(long, value_name = "LABEL")]
    pub vantage: Option<String>,
    /// Exit 1 on a failing cause (the default), or on a warning too.
    #[arg(long, value_enum, default_value_t = FailOn::Fail)]
    pub fail_on: FailOn,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Fail,
    Warn,
}

/// How to reach a stream URL: shared by `check` and `replay`.
#[derive(clap::Args)]
pub struct ConnectArgs {
    /// Deadline of each step, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = parse::seconds)]
    pub timeout: f64,
    /// Connect to ADDR for HOST:PORT instead of looking the name up (as curl does).
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    pub resolve: Vec<ResolvePin>,
    /// Extra trust roots (PEM), for private CAs and tests; the report says when only they trust the chain.
    #[arg(long, value_name = "PEM", value_parser = parse::ca_file)]
    pub ca_file: Option<CaFile>,
    /// The stream_auth_token, sent as Telnyx sends it (header and `connected` message).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "STREAM_DOCTOR_AUTH_TOKEN",
        hide_env_values = true
    )]
    pub auth_token: Option<String>,
    /// The Twilio account's auth token: with --protocol twilio the upgrade carries
    /// X-Twilio-Signature as Twilio signs it (HMAC-SHA1 of the URL as given), so a server that
    /// validates it lets the check in as it lets Twilio in.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "TWILIO_AUTH_TOKEN",
        hide_env_values = true
    )]
    pub twilio_auth_token: Option<String>,
}

/// A `--ca-file`, read while the command line is parsed.
#[derive(Clone)]
pub struct CaFile {
    pub path: PathBuf,
    pub roots: Vec<CertificateDer<'static>>,
}
