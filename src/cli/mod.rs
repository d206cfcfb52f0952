//! The headless commands' arguments and their dispatch. Clap parses every value, files named
//! on the command line included (a CA file, a WAV clip, a saved session), so anything the
//! command line gets wrong exits with status 2 before work starts; a failure while working
//! exits with 1. `anyhow` lives only here, at the binary's edge; the work is in `commands`.

mod commands;
mod github;
mod output;
mod parse;
mod telnyx;
mod watch;
mod window;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use rustls_pki_types::CertificateDer;

use stream_doctor::audio::Codec;
use stream_doctor::audio::wav::Clip;
use stream_doctor::catalog::Provider;
use stream_doctor::check::options::parse_header;
use stream_doctor::demo::DemoMode;
use stream_doctor::records::address::ResolvePin;
use stream_doctor::session::Session;
use stream_doctor::stream::listener::DEFAULT_MAX_FRAME_BYTES;
use stream_doctor::stream::replay::{Pace, Tracks};

/// Exit status when the command line is wrong, as clap uses it too.
const USAGE: u8 = 2;

#[derive(Parser)]
#[command(
    name = "stream-doctor",
    version,
    about = "Finds out why a telephony provider (Telnyx, Twilio...) does not connect to your WebSocket media-stream server, and proves it."
)]
struct Cli {
    /// Without a command the window opens (when built with the `gui` feature).
    #[command(subcommand)]
    command: Option<Command>,
    /// Open the window, print launch-to-first-frame and CPU time per frame after SECS, close.
    #[arg(long, value_name = "SECS", hide = true, value_parser = parse::seconds)]
    measure_frames: Option<f64>,
    /// With --measure-frames: start "Run all" on the demo target to measure frames while checks run.
    #[arg(long, hide = true, requires = "measure_frames")]
    measure_run_all: bool,
    /// With --measure-frames: play the demo stream to measure frames while two tracks are plotted.
    #[arg(long, hide = true, requires = "measure_frames")]
    measure_demo_stream: bool,
    /// With --measure-frames: this many tone streams (two tracks each) for the whole run.
    #[arg(long, hide = true, requires = "measure_frames", default_value_t = 0)]
    measure_streams: usize,
}

#[derive(Subcommand)]
enum Command {
    /// Run every check against a stream URL and name the cause.
    Check(CheckArgs),
    /// Stand in for your server: accept media streams, show their levels, summarise them.
    Listen(Box<ListenArgs>),
    /// Stand in for the provider: send a media stream (tone or WAV) to a URL.
    Replay(ReplayArgs),
    /// Render a saved session (the JSON report) as Markdown, HTML or JSON.
    Report(ReportArgs),
    /// Explain a provider's error code (Twilio 319xx, a Telnyx failure_reason) and name the
    /// checks that answer it.
    Explain(ExplainArgs),
    /// Put two reports of the same URL from two places side by side and name what the
    /// difference shows (a firewall, split DNS, two different certificates).
    Compare(CompareArgs),
    /// Watch a listener running elsewhere (deployed on your platform) through its monitor.
    Watch(watch::WatchArgs),
    /// Read the provider's own record through its REST API (key from TELNYX_API_KEY):
    /// webhook deliveries, a call's events and status, the application; start or stop a stream.
    Telnyx(Box<telnyx::TelnyxArgs>),
}

#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  stream-doctor explain 31920\n  stream-doctor explain connection_failed\n  stream-doctor explain 31910 --check wss://api.example.com/api/calls/123/audio"
)]
struct ExplainArgs {
    /// The code as the provider shows it: 31920, 'Error 31920', connection_failed.
    code: String,
    /// Run the checks that answer it against this stream URL.
    #[arg(long, value_name = "URL")]
    check: Option<String>,
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    format: SummaryFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
    Markdown,
    Html,
}

#[derive(Clone, Copy, ValueEnum)]
enum SummaryFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportFormat {
    Markdown,
    Html,
    Json,
}

#[derive(clap::Args)]
#[command(
    after_help = "Exit status: 0 when nothing stops the provider, 1 when a cause fails (or a check broke; with --fail-on warn, a warning too), 2 for bad usage.\n\nExtra headers also come from STREAM_DOCTOR_HEADERS (one 'Name: value' per line). Under GitHub Actions (GITHUB_STEP_SUMMARY, GITHUB_OUTPUT set) the Markdown report goes to the job summary and reachable, verdict and report-path to the step's outputs.\n\nExamples:\n  stream-doctor check wss://api.example.com/api/calls/123/audio\n  stream-doctor check --demo                     (a built-in local target)\n  stream-doctor check --demo path-mismatch       (watch a diagnosis happen)"
)]
struct CheckArgs {
    /// The stream URL exactly as given to the provider (wss://host/path).
    #[arg(required_unless_present = "demo")]
    url: Option<String>,
    /// Check the built-in demo target on 127.0.0.1 instead of a URL; optionally in a faulty
    /// mode: healthy, path-mismatch, no-upgrade, auth-required, closes-stream.
    #[arg(long, value_name = "MODE", num_args = 0..=1, default_missing_value = "healthy", conflicts_with = "url")]
    demo: Option<DemoMode>,
    #[command(flatten)]
    connect: ConnectArgs,
    /// How long to watch a new WebSocket for the server closing it, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 2.0, value_parser = parse::seconds_or_zero)]
    observe: f64,
    /// Ask this name server (ADDR or ADDR:PORT) instead of the system's resolvers.
    #[arg(long, value_name = "ADDR", value_parser = stream_doctor::probe::dns::name_server)]
    dns_server: Option<std::net::SocketAddr>,
    /// An extra request header for the upgrade (repeatable).
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE", value_parser = parse_header)]
    headers: Vec<(String, String)>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Skip the provider-style stream (connected, start, media, stop).
    #[arg(long)]
    no_provider: bool,
    /// Name this machine in the report (a CI runner, "office"); default: its host name.
    #[arg(long, value_name = "LABEL")]
    vantage: Option<String>,
    /// Exit 1 on a failing cause (the default), or on a warning too.
    #[arg(long, value_enum, default_value_t = FailOn::Fail)]
    fail_on: FailOn,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Fail,
    Warn,
}

/// How to reach a stream URL: shared by `check` and `replay`.
#[derive(clap::Args)]
struct ConnectArgs {
    /// Deadline of each step, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = parse::seconds)]
    timeout: f64,
    /// Connect to ADDR for HOST:PORT instead of looking the name up (as curl does).
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    resolve: Vec<ResolvePin>,
    /// Extra trust roots (PEM), for private CAs and tests; the report says when only they trust the chain.
    #[arg(long, value_name = "PEM", value_parser = parse::ca_file)]
    ca_file: Option<CaFile>,
    /// The stream_auth_token, sent as Telnyx sends it (header and `connected` message).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "STREAM_DOCTOR_AUTH_TOKEN",
        hide_env_values = true
    )]
    auth_token: Option<String>,
}

/// A `--ca-file`, read while the command line is parsed.
#[derive(Clone)]
struct CaFile {
    path: PathBuf,
    roots: Vec<CertificateDer<'static>>,
}

#[derive(clap::Args)]
#[command(
    after_help = "Give the provider wss://PUBLIC-HOST/any/path (through a tunnel such as `ngrok http 5001`), and\nhttps://PUBLIC-HOST/webhooks/telnyx (or /webhooks/twilio) as its webhook URL.\nEnds after --max-streams streams have closed, after --duration, or on Ctrl-C, then prints the summary."
)]
struct ListenArgs {
    /// Address to listen on (a tunnel forwards to it). Default: 0.0.0.0:$PORT when the
    /// platform sets PORT, else 127.0.0.1:5001. Off loopback it needs --token.
    #[arg(long)]
    bind: Option<std::net::SocketAddr>,
    /// Accept only streams and webhooks holding this token (in the path, or for streams the
    /// provider's auth-token header) and the monitor with it as a Bearer token; others get 404.
    /// Also read from STREAM_DOCTOR_LISTEN_TOKEN.
    #[arg(long, env = "STREAM_DOCTOR_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Listen off loopback without a token (anyone who finds the address can use it).
    #[arg(long)]
    public_without_token: bool,
    /// Serve TLS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Stop after this many streams have closed.
    #[arg(long, value_name = "N")]
    max_streams: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECS", value_parser = parse::seconds)]
    duration: Option<f64>,
    /// Write one WAV per stream and track into DIR.
    #[arg(long, value_name = "DIR")]
    record: Option<PathBuf>,
    /// Answer each stream with a second of tone and a `mark`, to test the way back.
    #[arg(long)]
    reply_tone: bool,
    /// A frame larger than this closes its stream with 1009.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_FRAME_BYTES)]
    max_frame_bytes: usize,
    /// The Telnyx account's Ed25519 public key (base64), to judge webhook signatures.
    #[arg(long, value_name = "BASE64", env = "TELNYX_PUBLIC_KEY", value_parser = parse::public_key)]
    webhook_public_key: Option<ed25519_dalek::VerifyingKey>,
    /// The Twilio auth token, to judge X-Twilio-Signature on status callbacks.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "TWILIO_AUTH_TOKEN",
        hide_env_values = true
    )]
    twilio_auth_token: Option<String>,
    /// How long a stream the provider says it started may take to arrive, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = parse::seconds)]
    started_grace: f64,
    /// The stream URL you give the provider: a webhook naming another one is a finding.
    #[arg(long, value_name = "URL")]
    expect_url: Option<String>,
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    format: SummaryFormat,
    /// Write the summary to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum PaceArg {
    Realtime,
    Max,
}

#[derive(Clone, Copy, ValueEnum)]
enum TrackArg {
    Inbound,
    Outbound,
    Both,
}

#[derive(clap::Args)]
struct ReplayArgs {
    /// The stream URL to send to (ws:// or wss://).
    url: String,
    #[arg(long, default_value = "telnyx")]
    protocol: Provider,
    #[arg(long, default_value = "PCMU")]
    codec: Codec,
    /// Send this WAV file (16-bit PCM; resampled to the codec's rate).
    #[arg(long, value_name = "FILE", conflicts_with = "tone", value_parser = parse::wav_clip)]
    wav: Option<Clip>,
    /// Send a sine at this frequency (the default: 440 Hz).
    #[arg(long, value_name = "HZ")]
    tone: Option<f64>,
    /// Length of the tone, in seconds.
    #[arg(long, value_name = "S", default_value_t = 5.0, value_parser = parse::seconds)]
    seconds: f64,
    #[arg(long, value_enum, default_value_t = TrackArg::Inbound)]
    track: TrackArg,
    #[arg(long, value_enum, default_value_t = PaceArg::Realtime)]
    pace: PaceArg,
    /// Open this many streams at once.
    #[arg(long, value_name = "N", default_value_t = 1)]
    streams: usize,
    /// The call id the streams carry (a live call's call_control_id, to match its webhooks).
    #[arg(long, value_name = "ID")]
    call_id: Option<String>,
    #[command(flatten)]
    connect: ConnectArgs,
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    format: SummaryFormat,
}

#[derive(clap::Args)]
#[command(
    after_help = "Exit status: 0 when no failing cause results, 1 when one does, 2 for bad usage (a file that is not a report, reports of different URLs).\n\nExample:\n  stream-doctor check wss://api.example.com/s --format json --out here.json\n  (the same from CI or the deployed side: there.json)\n  stream-doctor compare here.json there.json"
)]
struct CompareArgs {
    /// The report from here (`check --format json`).
    #[arg(value_name = "HERE.json", value_parser = parse::saved_session)]
    here: Box<Session>,
    /// The report from the other place.
    #[arg(value_name = "THERE.json", value_parser = parse::saved_session)]
    there: Box<Session>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(clap::Args)]
struct ReportArgs {
    /// A session saved as JSON (by `check --format json`, or Export JSON in the window).
    #[arg(value_name = "SESSION", value_parser = parse::saved_session)]
    session: Box<Session>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
    format: ReportFormat,
    /// Write to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

impl From<PaceArg> for Pace {
    fn from(pace: PaceArg) -> Self {
        match pace {
            PaceArg::Realtime => Pace::Realtime,
            PaceArg::Max => Pace::Max,
        }
    }
}

impl From<TrackArg> for Tracks {
    fn from(track: TrackArg) -> Self {
        match track {
            TrackArg::Inbound => Tracks::Inbound,
            TrackArg::Outbound => Tracks::Outbound,
            TrackArg::Both => Tracks::Both,
        }
    }
}

pub fn main() -> ExitCode {
    let launched = std::time::Instant::now();
    let definition = Cli::command();
    let parsed = definition
        .clone()
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches).map(|cli| (cli, matches)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            // Even a usage error may quote a URL or a value from the environment.
            let mut redactor = stream_doctor::secret::Redactor::new();
            redactor.add_env();
            output::Output::new(redactor).progress(&e.render().ansi().to_string());
            return ExitCode::from(if e.use_stderr() { USAGE } else { 0 });
        }
    };
    let out = output::Output::new(output::redactor(&definition, &matches));
    out.mask_panics();
    let Some(command) = cli.command else {
        return window::window(
            &out,
            launched,
            cli.measure_frames,
            cli.measure_run_all,
            cli.measure_demo_stream,
            cli.measure_streams,
        );
    };
    // One thread: a command is one job, and a single-threaded runtime spends less CPU per
    // frame than one that wakes its workers across threads (scripts/bench-listen).
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            out.error(format!("cannot start the async runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let outcome = match command {
        Command::Check(args) => runtime.block_on(commands::check(args, &out)),
        Command::Listen(args) => runtime.block_on(commands::listen(*args, &out)),
        Command::Replay(args) => runtime.block_on(commands::replay(args, &out)),
        Command::Report(args) => commands::report(args, &out),
        Command::Explain(args) => runtime.block_on(commands::explain(args, &out)),
        Command::Telnyx(args) => runtime.block_on(telnyx::run(*args, &out)),
        Command::Watch(args) => runtime.block_on(watch::run(args, &out)),
        Command::Compare(args) => commands::compare(args, &out),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            out.error(format!("{e:#}"));
            ExitCode::FAILURE
        }
    }
}
