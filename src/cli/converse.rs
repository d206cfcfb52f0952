//! `stream-doctor converse URL|--demo`: a short, real call placed as the provider, and the way
//! back judged (docs/converse.md). Exit status as `check`: 0 with no failing cause, 1 with one,
//! 2 for bad usage.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::ValueEnum;

use super::output::Output;
use super::{ConnectArgs, Format, USAGE, parse};
use stream_doctor::audio::Codec;
use stream_doctor::catalog::Provider;
use stream_doctor::converse::{self, ConverseOptions, Mode};
use stream_doctor::demo::bot::BotStyle;
use stream_doctor::demo::{Behavior, DemoTarget};
use stream_doctor::report;
use stream_doctor::secret::Secret;

#[derive(clap::Args)]
#[command(
    after_help = "Exit status: 0 when the way back works, 1 when a cause fails, 2 for bad usage.\n\nExamples:\n  stream-doctor converse wss://bot.example.com/media --turns 3\n  stream-doctor converse --demo                 (the built-in bot)\n  stream-doctor converse --demo alaw            (watch a codec mismatch named)"
)]
pub struct ConverseArgs {
    /// The stream URL of the bot (ws:// or wss://).
    #[arg(required_unless_present = "demo")]
    url: Option<String>,
    /// Call the built-in demo bot on 127.0.0.1; optionally one with a fault: good, one-way,
    /// alaw, wav, late, fast, no-stream-sid, stutter, silent, hang-up, sloppy, first-call-only.
    #[arg(long, value_name = "BOT", num_args = 0..=1, default_missing_value = "good", conflicts_with = "url")]
    demo: Option<BotStyle>,
    #[arg(long, default_value = "telnyx")]
    protocol: Provider,
    /// The call's codec: PCMU, PCMA, L16 or G722 (Twilio: PCMU only).
    #[arg(long, default_value = "PCMU")]
    codec: Codec,
    /// How the provider plays what comes back: rtp (the call's codec) or mp3 (Telnyx).
    #[arg(long, value_enum, default_value_t = BidirectionalArg::Rtp)]
    bidirectional: BidirectionalArg,
    /// How many times the caller speaks and waits for the answer.
    #[arg(long, value_name = "N", default_value_t = 2)]
    turns: u32,
    /// In the last turn, speak over the bot's reply half a second after it starts.
    #[arg(long)]
    barge_in: bool,
    /// After the turns, stay on the line in silence this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 0.0, value_parser = parse::seconds_or_zero)]
    hold: f64,
    /// The same call this many times, one after another.
    #[arg(long, value_name = "N", default_value_t = 1)]
    calls: u32,
    /// This many calls at once: how many simultaneous callers the bot holds before answers
    /// slow down or calls fail.
    #[arg(long, value_name = "N", default_value_t = 1, conflicts_with = "calls")]
    concurrent: u32,
    #[command(flatten)]
    connect: ConnectArgs,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum BidirectionalArg {
    Rtp,
    Mp3,
}

pub async fn run(args: ConverseArgs, out: &Output) -> anyhow::Result<u8> {
    // Twilio's message reference says its stream is always audio/x-mulaw, 8000 Hz, mono.
    if args.protocol == Provider::Twilio && args.codec != Codec::Pcmu {
        out.error("Twilio streams are always μ-law (PCMU) at 8000 Hz: --protocol twilio takes no other --codec");
        return Ok(USAGE);
    }
    let mode = match args.bidirectional {
        BidirectionalArg::Rtp => Mode::Rtp,
        BidirectionalArg::Mp3 => Mode::Mp3,
    };
    let mut options = ConverseOptions {
        url: args.url.clone().unwrap_or_default(),
        protocol: args.protocol,
        codec: args.codec,
        mode,
        turns: args.turns.max(1),
        timeout: Duration::from_secs_f64(args.connect.timeout),
        hold: Duration::from_secs_f64(args.hold),
        barge_in: args.barge_in,
        calls: args.calls.max(1),
        concurrent: args.concurrent.max(1),
        auth_token: args.connect.auth_token.map(Secret::new),
        twilio_auth_token: args.connect.twilio_auth_token.map(Secret::new),
        resolve: args.connect.resolve,
        extra_roots: args.connect.ca_file.map(|f| f.roots).unwrap_or_default(),
    };
    let demo = match args.demo {
        Some(style) => Some(
            DemoTarget::start(Behavior::Bot(style))
                .await
                .context("starting the demo bot")?,
        ),
        None => None,
    };
    if let Some(demo) = &demo {
        options.url = demo.url.clone();
        options.resolve.push(demo.pin.clone());
        options.extra_roots.push(demo.root.clone());
    }
    let report = converse::run(&options).await?;
    let rendered = match args.format {
        Format::Json => {
            serde_json::to_string_pretty(&report).context("serialising the report")? + "\n"
        }
        Format::Text => report::converse::text(&report),
        Format::Markdown => report::converse::markdown(&report),
        Format::Html => report::converse::html(&report),
    };
    out.write(args.out.as_deref(), &rendered)?;
    Ok(u8::from(report.fails()))
}
