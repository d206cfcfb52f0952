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
}

#[derive(Subcommand)]
enum Command {
    /// Run every check against a stream URL and name the cause.
    Check(CheckArgs),
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
    /// Deadline of each step, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = parse_secs)]
    timeout: f64,
    /// How long to watch a new WebSocket for the server closing it, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 2.0, value_parser = parse_secs_or_zero)]
    observe: f64,
    /// Connect to ADDR for HOST:PORT instead of looking the name up (as curl does).
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    resolve: Vec<ResolvePin>,
    /// Extra trust roots (PEM), for private CAs and tests; the report says when only they trust the chain.
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,
    /// An extra request header for the upgrade (repeatable).
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE", value_parser = parse_header)]
    headers: Vec<(String, String)>,
    /// The stream_auth_token, sent as Telnyx sends it (header and `connected` message).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "STREAM_DOCTOR_AUTH_TOKEN",
        hide_env_values = true
    )]
    auth_token: Option<String>,
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
        return window(launched, cli.measure_frames, cli.measure_run_all);
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
fn window(launched: std::time::Instant, measure_secs: Option<f64>, run_all: bool) -> ExitCode {
    use stream_doctor::ui::{AppOptions, app::Measure};
    let options = AppOptions {
        launched,
        measure: measure_secs.map(|seconds| Measure { seconds, run_all }),
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
fn window(_: std::time::Instant, _: Option<f64>, _: bool) -> ExitCode {
    eprintln!(
        "error: this build has no window (built without the `gui` feature); try `stream-doctor check --help`"
    );
    ExitCode::from(USAGE)
}

async fn check(args: CheckArgs) -> anyhow::Result<u8> {
    let mut options = CheckOptions {
        timeout: Duration::from_secs_f64(args.timeout),
        observe: Duration::from_secs_f64(args.observe),
        resolve: args.resolve,
        headers: args.headers,
        auth_token: args.auth_token.map(Secret::new),
        provider: !args.no_provider,
        ..CheckOptions::default()
    };
    if let Some(path) = &args.ca_file {
        options.extra_roots = probe::load_ca_file(path)?;
    }
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
    let rendered = match args.format {
        Format::Text => text(&report),
        Format::Json => {
            serde_json::to_string_pretty(&report).context("serialising the report")? + "\n"
        }
        Format::Markdown => report::markdown::render(&report),
        Format::Html => report::html::render(&report),
    };
    match &args.out {
        Some(path) => {
            std::fs::write(path, anstream::adapter::strip_str(&rendered).to_string())
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("{}", verdict_line(&report));
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
        verdict_line(report),
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
