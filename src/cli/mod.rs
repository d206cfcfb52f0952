//! The headless commands' arguments and their dispatch. Clap parses every value, files named
//! on the command line included (a CA file, a WAV clip, a saved session), so anything the
//! command line gets wrong exits with status 2 before work starts; a failure while working
//! exits with 1. `anyhow` lives only here, at the binary's edge; the work is in `commands`.

mod args;
mod commands;
mod converse;
mod github;
mod output;
mod parse;
mod telnyx;
mod watch;
mod window;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use args::{
    CaFile, CheckArgs, CompareArgs, ConnectArgs, ExplainArgs, FailOn, Format, ListenArgs,
    ReplayArgs, ReportArgs, ReportFormat, SummaryFormat,
};

/// Exit status when the command line is wrong, as clap uses it too.
const USAGE: u8 = 2;

/// The version, with the git commit it was built from (`build.rs`).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("STREAM_DOCTOR_COMMIT"),
    ")"
);

#[derive(Parser)]
#[command(
    name = "stream-doctor",
    version = VERSION,
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
    /// Place a short, real call as the provider and judge the way back: the bot's audio
    /// (format, rate, pacing), its timing, its control messages.
    Converse(Box<converse::ConverseArgs>),
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
    /// Write the shell completions for SHELL to standard output.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the man page (roff) to standard output.
    Manpage,
}

/// Whether the person asked for no color (https://no-color.org: set and not empty).
fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

pub fn main() -> ExitCode {
    let launched = std::time::Instant::now();
    let definition = if no_color() {
        Cli::command().color(clap::ColorChoice::Never)
    } else {
        Cli::command()
    };
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
            let out = output::Output::new(redactor);
            let shown = if no_color() {
                e.render().to_string()
            } else {
                e.render().ansi().to_string()
            };
            // --help and --version are output; a usage error is a message.
            if e.use_stderr() {
                out.progress(&shown);
                return ExitCode::from(USAGE);
            }
            return match out.write(None, &shown) {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::FAILURE,
            };
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
        Command::Converse(args) => runtime.block_on(converse::run(*args, &out)),
        Command::Report(args) => commands::report(args, &out),
        Command::Explain(args) => runtime.block_on(commands::explain(args, &out)),
        Command::Telnyx(args) => runtime.block_on(telnyx::run(*args, &out)),
        Command::Watch(args) => runtime.block_on(watch::run(args, &out)),
        Command::Compare(args) => commands::compare(args, &out),
        Command::Completions { shell } => {
            let mut written = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "stream-doctor", &mut written);
            out.write(None, &String::from_utf8_lossy(&written))
                .map(|()| 0)
        }
        Command::Manpage => {
            let mut written = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut written)
                .map_err(anyhow::Error::from)
                .and_then(|()| out.write(None, &String::from_utf8_lossy(&written)))
                .map(|()| 0)
        }
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            out.error(format!("{e:#}"));
            ExitCode::FAILURE
        }
    }
}
