//! The headless commands: argument parsing, output formats and exit codes. A consumer of the
//! same core as the window; `anyhow` lives only here, at the binary's edge.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anstyle::{AnsiColor, Style};
use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use stream_doctor::check::{CheckId, CheckReport, Status};
use stream_doctor::demo::{DemoMode, DemoTarget};
use stream_doctor::diagnosis::{Severity, snippet};
use stream_doctor::probe::{self, CheckOptions, Progress, ResolvePin};
use stream_doctor::report::{self, key_evidence, severity_icon, status_icon, verdict_line};
use stream_doctor::secret::Secret;
use stream_doctor::session::{Session, SessionOptions};

/// Exit status for bad usage, as clap uses it too.
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
    #[arg(long, value_name = "SECS", hide = true, value_parser = parse_secs)]
    measure_frames: Option<f64>,
    /// With --measure-frames: start "Run all" on the demo target to measure frames while checks run.
    #[arg(long, hide = true, requires = "measure_frames")]
    measure_run_all: bool,
    /// With --measure-frames: play the demo stream to measure frames while two tracks are plotted.
    #[arg(long, hide = true, requires = "measure_frames")]
    measure_demo_stream: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Run every check against a stream URL and name the cause.
    Check(CheckArgs),
    /// Stand in for your server: accept media streams, show their levels, summarise them.
    Listen(ListenArgs),
    /// Stand in for the provider: send a media stream (tone or WAV) to a URL.
    Replay(ReplayArgs),
    /// Render a saved session (the JSON report) as Markdown, HTML or JSON.
    Report(ReportArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportFormat {
    Markdown,
    Html,
    Json,
}

impl ReportFormat {
    fn format(self) -> report::Format {
        match self {
            ReportFormat::Markdown => report::Format::Markdown,
            ReportFormat::Html => report::Format::Html,
            ReportFormat::Json => report::Format::Json,
        }
    }
}

#[derive(clap::Args)]
struct ReportArgs {
    /// A session saved as JSON (by `check --format json`, or Export JSON in the window).
    session: PathBuf,
    #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
    format: ReportFormat,
    /// Write to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum SummaryFormat {
    Text,
    Json,
}

#[derive(clap::Args)]
#[command(
    after_help = "Give the provider wss://PUBLIC-HOST/any/path (through a tunnel such as `ngrok http 5001`).\nEnds after --max-streams streams have closed, after --duration, or on Ctrl-C, then prints the summary."
)]
struct ListenArgs {
    /// Address to listen on (a tunnel forwards to it).
    #[arg(long, default_value = "127.0.0.1:5001")]
    bind: std::net::SocketAddr,
    /// Accept only paths that contain this token; others get 404 (and are logged).
    #[arg(long, env = "STREAM_DOCTOR_LISTEN_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Serve TLS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Stop after this many streams have closed.
    #[arg(long, value_name = "N")]
    max_streams: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    duration: Option<f64>,
    /// Write one WAV per stream and track into DIR.
    #[arg(long, value_name = "DIR")]
    record: Option<PathBuf>,
    /// Answer each stream with a second of tone and a `mark`, to test the way back.
    #[arg(long)]
    reply_tone: bool,
    /// A frame larger than this closes its stream with 1009.
    #[arg(long, value_name = "BYTES", default_value_t = stream_doctor::stream::listener::DEFAULT_MAX_FRAME_BYTES)]
    max_frame_bytes: usize,
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
    #[arg(long, default_value = "telnyx", value_parser = parse_provider)]
    protocol: stream_doctor::stream::Provider,
    #[arg(long, default_value = "PCMU", value_parser = parse_codec)]
    codec: stream_doctor::audio::Codec,
    /// Send this WAV file (16-bit PCM; resampled to the codec's rate).
    #[arg(long, value_name = "FILE", conflicts_with = "tone")]
    wav: Option<PathBuf>,
    /// Send a sine at this frequency (the default: 440 Hz).
    #[arg(long, value_name = "HZ")]
    tone: Option<f64>,
    /// Length of the tone, in seconds.
    #[arg(long, value_name = "S", default_value_t = 5.0, value_parser = parse_secs)]
    seconds: f64,
    #[arg(long, value_enum, default_value_t = TrackArg::Inbound)]
    track: TrackArg,
    #[arg(long, value_enum, default_value_t = PaceArg::Realtime)]
    pace: PaceArg,
    /// Open this many streams at once.
    #[arg(long, value_name = "N", default_value_t = 1)]
    streams: usize,
    #[command(flatten)]
    connect: ConnectArgs,
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    format: SummaryFormat,
}

/// How to reach a stream URL: shared by `check` and `replay`.
#[derive(clap::Args)]
struct ConnectArgs {
    /// Deadline of each step, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = parse_secs)]
    timeout: f64,
    /// Connect to ADDR for HOST:PORT instead of looking the name up (as curl does).
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    resolve: Vec<ResolvePin>,
    /// Extra trust roots (PEM), for private CAs and tests; the report says when only they trust the chain.
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,
    /// The stream_auth_token, sent as Telnyx sends it (header and `connected` message).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "STREAM_DOCTOR_AUTH_TOKEN",
        hide_env_values = true
    )]
    auth_token: Option<String>,
}

impl ConnectArgs {
    fn extra_roots(&self) -> anyhow::Result<Vec<rustls_pki_types::CertificateDer<'static>>> {
        Ok(match &self.ca_file {
            Some(path) => probe::load_ca_file(path)?,
            None => Vec::new(),
        })
    }
}

fn parse_provider(s: &str) -> Result<stream_doctor::stream::Provider, String> {
    s.parse()
}

fn parse_codec(s: &str) -> Result<stream_doctor::audio::Codec, String> {
    s.parse()
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
    Markdown,
    Html,
}

#[derive(clap::Args)]
#[command(
    after_help = "Exit status: 0 when nothing stops the provider, 1 when a cause fails (or a check broke), 2 for bad usage.\n\nExamples:\n  stream-doctor check wss://api.example.com/api/calls/123/audio\n  stream-doctor check --demo                     (a built-in local target)\n  stream-doctor check --demo path-mismatch       (watch a diagnosis happen)"
)]
struct CheckArgs {
    /// The stream URL exactly as given to the provider (wss://host/path).
    #[arg(required_unless_present = "demo")]
    url: Option<String>,
    /// Check the built-in demo target on 127.0.0.1 instead of a URL; optionally in a faulty
    /// mode: healthy, path-mismatch, no-upgrade, auth-required, closes-stream.
    #[arg(long, value_name = "MODE", num_args = 0..=1, default_missing_value = "healthy", conflicts_with = "url", value_parser = parse_demo)]
    demo: Option<DemoMode>,
    #[command(flatten)]
    connect: ConnectArgs,
    /// How long to watch a new WebSocket for the server closing it, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 2.0, value_parser = parse_secs_or_zero)]
    observe: f64,
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
}

fn parse_demo(s: &str) -> Result<DemoMode, String> {
    s.parse()
}

fn parse_secs(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 3600.0 => Ok(v),
        _ => Err(format!(
            "'{s}' is not a number of seconds between 0 and 3600"
        )),
    }
}

fn parse_secs_or_zero(s: &str) -> Result<f64, String> {
    if s.trim() == "0" {
        Ok(0.0)
    } else {
        parse_secs(s)
    }
}

fn parse_header(s: &str) -> Result<(String, String), String> {
    probe::parse_header(s).map_err(|e| e.to_string())
}

pub fn main() -> ExitCode {
    let launched = std::time::Instant::now();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { USAGE } else { 0 });
        }
    };
    let Some(command) = cli.command else {
        return window(
            launched,
            cli.measure_frames,
            cli.measure_run_all,
            cli.measure_demo_stream,
        );
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = match command {
        Command::Check(args) => runtime.block_on(check(args)),
        Command::Listen(args) => runtime.block_on(listen(args)),
        Command::Replay(args) => runtime.block_on(replay(args)),
        Command::Report(args) => render_saved(args),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(USAGE)
        }
    }
}

#[cfg(feature = "gui")]
fn window(
    launched: std::time::Instant,
    measure_secs: Option<f64>,
    run_all: bool,
    demo_stream: bool,
) -> ExitCode {
    use stream_doctor::ui::{AppOptions, app::Measure};
    let options = AppOptions {
        launched,
        measure: measure_secs.map(|seconds| Measure {
            seconds,
            run_all,
            demo_stream,
        }),
        ..AppOptions::default()
    };
    match stream_doctor::ui::run(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "error: the window could not open: {e}\n(headless? `stream-doctor check --help` works without one)"
            );
            ExitCode::FAILURE
        }
    }
}

#[cfg(not(feature = "gui"))]
fn window(_: std::time::Instant, _: Option<f64>, _: bool, _: bool) -> ExitCode {
    eprintln!(
        "error: this build has no window (built without the `gui` feature); try `stream-doctor check --help`"
    );
    ExitCode::from(USAGE)
}

async fn check(args: CheckArgs) -> anyhow::Result<u8> {
    let mut options = CheckOptions {
        timeout: Duration::from_secs_f64(args.connect.timeout),
        observe: Duration::from_secs_f64(args.observe),
        extra_roots: args.connect.extra_roots()?,
        resolve: args.connect.resolve.clone(),
        headers: args.headers,
        auth_token: args.connect.auth_token.clone().map(Secret::new),
        provider: !args.no_provider,
    };
    let demo = match args.demo {
        Some(mode) => Some(
            DemoTarget::start(mode.behavior())
                .await
                .context("starting the demo target")?,
        ),
        None => None,
    };
    let url = match (&demo, args.url) {
        (Some(demo), _) => {
            options.resolve.push(demo.pin.clone());
            options.extra_roots.push(demo.root.clone());
            demo.url.clone()
        }
        (None, Some(url)) => url,
        (None, None) => anyhow::bail!("give a stream URL or --demo"),
    };
    let show_progress = matches!(args.format, Format::Text) && std::io::stderr().is_terminal();
    let progress = move |event: Progress| {
        if show_progress && let Progress::Started(id) = event {
            eprint!("\r\x1b[2K  checking {}…", id.as_str());
        }
    };
    let report = probe::run(&url, &options, &progress).await;
    if show_progress {
        eprint!("\r\x1b[2K");
    }
    let secrets: Vec<String> = options
        .auth_token
        .iter()
        .map(|t| t.expose().to_string())
        .chain(options.headers.iter().map(|(_, v)| v.clone()))
        .collect();
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let session = || {
        let ca_file = args
            .connect
            .ca_file
            .as_ref()
            .map(|p| p.display().to_string());
        Session::from_check(&report, SessionOptions::from_check(&options, ca_file))
    };
    let rendered = match args.format {
        Format::Text => stream_doctor::secret::scrub(&text(&report), &secrets),
        Format::Json => report::render(&session(), report::Format::Json, &secrets),
        Format::Markdown => report::render(&session(), report::Format::Markdown, &secrets),
        Format::Html => report::render(&session(), report::Format::Html, &secrets),
    };
    match &args.out {
        Some(path) => {
            std::fs::write(path, anstream::adapter::strip_str(&rendered).to_string())
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("{}", verdict_line(&report.checks, Some(&report.diagnosis)));
        }
        None => {
            let mut stdout = anstream::stdout();
            let _ = stdout.write_all(rendered.as_bytes());
        }
    }
    Ok(u8::try_from(report.exit_code()).unwrap_or(1))
}

fn style_of(status: Status) -> Style {
    let color = match status {
        Status::Pass => AnsiColor::Green,
        Status::Warn => AnsiColor::Yellow,
        Status::Fail | Status::Error => AnsiColor::Red,
        Status::Skip => AnsiColor::BrightBlack,
    };
    Style::new().fg_color(Some(color.into()))
}

/// Text for people: the verdict first, then each check with its time and key evidence, then
/// the causes with their fixes. Colour codes are stripped by anstream when not a terminal.
fn text(report: &CheckReport) -> String {
    let bold = Style::new().bold();
    let dim = Style::new().dimmed();
    let verdict_status = match report.diagnosis.verdict().map(|c| c.severity) {
        _ if !report.diagnosis.reachable => Status::Fail,
        Some(Severity::Warn) => Status::Warn,
        _ => Status::Pass,
    };
    let vs = style_of(verdict_status).bold();
    let mut out = format!(
        "{vs}{} {}{vs:#}\n{dim}{}  ({}, {:.2} s){dim:#}\n\n",
        status_icon(verdict_status),
        verdict_line(&report.checks, Some(&report.diagnosis)),
        report.target,
        report.started_at,
        report.duration_ms / 1000.0
    );
    for check in &report.checks {
        let st = style_of(check.status);
        let time = if check.status == Status::Skip {
            String::new()
        } else {
            format!("{:.1} ms", check.duration_ms)
        };
        out.push_str(&format!(
            "  {st}{} {:<5}{st:#} {bold}{:<9}{bold:#} {time:>9}  {}\n",
            status_icon(check.status),
            check.status.as_str(),
            check.id.as_str(),
            check.summary
        ));
        // Evidence for what went wrong, and the chain always: it is what people ask about.
        if check.status != Status::Pass || check.id == CheckId::Tls {
            for line in key_evidence(check) {
                out.push_str(&format!("{dim}{:28}{line}{dim:#}\n", ""));
            }
        }
    }
    if !report.diagnosis.causes.is_empty() {
        out.push_str(&format!("\n{bold}Causes{bold:#}\n"));
        for (i, cause) in report.diagnosis.causes.iter().enumerate() {
            let st = style_of(match cause.severity {
                Severity::Fail => Status::Fail,
                Severity::Warn => Status::Warn,
                Severity::Info => Status::Pass,
            });
            out.push_str(&format!(
                "  {}. {st}{} {}{st:#}: {}\n     {}\n     {bold}fix:{bold:#} {}\n",
                i + 1,
                severity_icon(cause.severity),
                cause.id.as_str(),
                cause.title,
                cause.summary,
                cause.fix
            ));
            if let Some(code) = snippet(cause.id) {
                for line in code.lines() {
                    out.push_str(&format!("{dim}       {line}{dim:#}\n"));
                }
            }
        }
    }
    out
}

async fn listen(args: ListenArgs) -> anyhow::Result<u8> {
    use stream_doctor::stream::listener::{ListenOptions, Listener, Notice};
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(load_tls(cert, key)?),
        _ => None,
    };
    if let Some(dir) = &args.record {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let has_token = args.token.is_some();
    let options = ListenOptions {
        bind: args.bind,
        token: args.token.map(Secret::new),
        tls,
        max_frame_bytes: args.max_frame_bytes,
        record_dir: args.record.clone(),
        reply_tone: args.reply_tone,
        ..ListenOptions::default()
    };
    let json = matches!(args.format, SummaryFormat::Json);
    let say = move |line: String| {
        if json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    let notify_say = say;
    let notify = std::sync::Arc::new(move |notice: Notice| notify_say(notice.to_string()));
    let mut listener = match Listener::start(options, notify).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", args.bind);
            return Ok(1);
        }
    };
    let scheme = if args.tls_cert.is_some() { "wss" } else { "ws" };
    say(format!(
        "listening on {scheme}://{}/ (any path{})",
        listener.addr(),
        if has_token { " holding the token" } else { "" }
    ));
    let store = listener.store();
    let levels_say = say;
    let ticker = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.tick().await;
        loop {
            tick.tick().await;
            let lines: Vec<String> = match store.lock() {
                Ok(live) => live
                    .streams
                    .iter()
                    .filter(|s| s.is_open())
                    .flat_map(|s| {
                        s.tracks.iter().filter_map(move |(name, track)| {
                            let last = track.recent.back()?;
                            let level = |v: Option<f64>| v.map_or("  -inf".to_string(), |d| format!("{d:6.1}"));
                            Some(format!(
                                "#{} {name:<8} rms {} dBFS  peak {} dBFS  frames {}  gaps {}  late {}",
                                s.number,
                                level(last.rms_dbfs),
                                level(last.peak_dbfs),
                                track.frames,
                                track.sequence_gaps,
                                track.late_frames
                            ))
                        })
                    })
                    .collect(),
                Err(_) => Vec::new(),
            };
            for line in lines {
                levels_say(line);
            }
        }
    });
    let until_streams = async {
        match args.max_streams {
            Some(n) => listener.wait_for_closed(n).await,
            None => std::future::pending().await,
        }
    };
    let until_time = async {
        match args.duration {
            Some(secs) => tokio::time::sleep(Duration::from_secs_f64(secs)).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = until_streams => {}
        _ = until_time => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    ticker.abort();
    let summary = listener.stop();
    let rendered = if json {
        serde_json::to_string_pretty(&summary).context("serialising the summary")? + "\n"
    } else {
        listen_text(&summary)
    };
    match &args.out {
        Some(path) => {
            std::fs::write(path, rendered).with_context(|| format!("writing {}", path.display()))?
        }
        None => print!("{rendered}"),
    }
    Ok(0)
}

fn load_tls(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> anyhow::Result<std::sync::Arc<rustls::ServerConfig>> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading {}", cert.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("{} holds a certificate that does not parse", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("reading the key {}", key.display()))?;
    let served = stream_doctor::demo::certs::ServedCert { chain, key };
    Ok(stream_doctor::demo::certs::server_config(
        served,
        &[b"http/1.1"],
    )?)
}

fn listen_text(summary: &stream_doctor::stream::listener::ListenSummary) -> String {
    let mut out = format!(
        "\nSummary: {} stream(s) on {}, {} request(s) refused\n",
        summary.streams.len(),
        summary.listen,
        summary.refused
    );
    for (i, stream) in summary.streams.iter().enumerate() {
        let format = stream
            .media_format
            .as_ref()
            .map_or("no start".to_string(), |f| {
                format!("{}/{}", f.encoding, f.sample_rate)
            });
        out.push_str(&format!(
            "#{} {} {} {} stream {} call {}, {:.1} s\n",
            i + 1,
            stream.protocol.as_deref().unwrap_or("unknown protocol"),
            stream.path,
            format,
            stream.stream_id.as_deref().unwrap_or("-"),
            stream.call_control_id.as_deref().unwrap_or("-"),
            stream.duration_ms / 1000.0
        ));
        let m = &stream.messages;
        out.push_str(&format!(
            "   messages: connected {} start {} media {} stop {} dtmf {} mark {} other {} invalid {} binary {}\n",
            m.connected, m.start, m.media, m.stop, m.dtmf, m.mark, m.other, m.invalid, m.binary
        ));
        for (name, track) in &stream.tracks {
            let level = |v: Option<f64>| v.map_or("-inf".to_string(), |d| format!("{d:.1}"));
            out.push_str(&format!(
                "   {name}: {} frames, {:.1} s, rms {} dBFS, peak {} dBFS, gaps {}, out of order {}, late {}\n",
                track.frames,
                track.duration_ms / 1000.0,
                level(track.rms_dbfs),
                level(track.peak_dbfs),
                track.sequence_gaps,
                track.out_of_order,
                track.late_frames
            ));
        }
        if let Some(closed) = &stream.closed {
            out.push_str(&format!(
                "   closed by {} {} {}\n",
                closed.by,
                closed.code.map(|c| c.to_string()).unwrap_or_default(),
                closed.reason
            ));
        }
    }
    out
}

async fn replay(args: ReplayArgs) -> anyhow::Result<u8> {
    use stream_doctor::stream::replay::{self, Pace, ReplayOptions, Source, Tracks};
    let source = match &args.wav {
        Some(path) => Source::Clip(stream_doctor::audio::wav::read_file(path)?),
        None => Source::Tone {
            freq_hz: args.tone.unwrap_or(440.0),
            seconds: args.seconds,
        },
    };
    let options = ReplayOptions {
        url: args.url.clone(),
        protocol: args.protocol,
        codec: args.codec,
        source,
        tracks: match args.track {
            TrackArg::Inbound => Tracks::Inbound,
            TrackArg::Outbound => Tracks::Outbound,
            TrackArg::Both => Tracks::Both,
        },
        pace: match args.pace {
            PaceArg::Realtime => Pace::Realtime,
            PaceArg::Max => Pace::Max,
        },
        streams: args.streams.max(1),
        timeout: Duration::from_secs_f64(args.connect.timeout),
        extra_roots: args.connect.extra_roots()?,
        resolve: args.connect.resolve,
        auth_token: args.connect.auth_token.map(Secret::new),
    };
    let json = matches!(args.format, SummaryFormat::Json);
    let notify = move |line: String| {
        if !json {
            println!("{line}");
        }
    };
    let summary = replay::run(&options, &notify).await;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&summary).context("serialising the summary")?
        );
    } else {
        println!(
            "sent {} media frame(s) over {} stream(s) in {:.2} s ({} frames/s)",
            summary.media_frames_sent,
            summary.streams.len(),
            summary.duration_ms / 1000.0,
            summary.frames_per_sec
        );
        for stream in &summary.streams {
            let close = stream
                .close
                .as_ref()
                .map(probe::websocket::describe_close)
                .unwrap_or_default();
            let marks = if stream.received.marks.is_empty() {
                String::new()
            } else {
                format!(", marks {:?}", stream.received.marks)
            };
            println!(
                "stream {}: media back {}, marks {}{marks}, close: {close}{}",
                stream.stream,
                stream.received.media,
                stream.received.mark,
                stream
                    .error
                    .as_ref()
                    .map(|e| format!(" (error: {e})"))
                    .unwrap_or_default()
            );
        }
    }
    Ok(if summary.streams.iter().all(|s| s.error.is_none()) {
        0
    } else {
        1
    })
}

fn render_saved(args: ReportArgs) -> anyhow::Result<u8> {
    let session = Session::load(&args.session)?;
    let rendered = report::render(&session, args.format.format(), &[]);
    match &args.out {
        Some(path) => {
            std::fs::write(path, rendered)
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{rendered}"),
    }
    Ok(0)
}
