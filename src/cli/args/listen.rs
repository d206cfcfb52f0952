//! `listen`'s arguments.

use std::path::PathBuf;

use super::SummaryFormat;
use crate::cli::parse;
use stream_doctor::server::listener::DEFAULT_MAX_FRAME_BYTES;
use stream_doctor::server::receiver::ReplyMode;

#[derive(clap::Args)]
#[command(
    after_help = "Give the provider wss://PUBLIC-HOST/any/path (through a tunnel such as `ngrok http 5001`), and\nhttps://PUBLIC-HOST/webhooks/telnyx (or /webhooks/twilio) as its webhook URL.\nEnds after --max-streams streams have closed, after --duration, or on Ctrl-C, then prints the summary."
)]
pub struct ListenArgs {
    /// Address to listen on (a tunnel forwards to it). Default: 0.0.0.0:$PORT when the
    /// platform sets PORT, else 127.0.0.1:5001. Off loopback it needs --token.
    #[arg(long)]
    pub bind: Option<std::net::SocketAddr>,
    /// Accept only streams and webhooks holding this token (in the path, or for streams the
    /// provider's auth-token header) and the monitor with it as a Bearer token; others get 404.
    /// Also read from STREAM_DOCTOR_LISTEN_TOKEN.
    #[arg(long, env = "STREAM_DOCTOR_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Listen off loopback without a token (anyone who finds the address can use it).
    #[arg(long)]
    pub public_without_token: bool,
    /// Serve TLS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Stop after this many streams have closed.
    #[arg(long, value_name = "N")]
    pub max_streams: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECS", value_parser = parse::seconds)]
    pub duration: Option<f64>,
    /// Write one WAV per stream and track into DIR.
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,
    /// Answer each stream with a second of tone and a `mark`, to test the way back.
    #[arg(long)]
    pub reply_tone: bool,
    /// What the tone is sent as: the call's codec in 20 ms frames (rtp: Telnyx started with
    /// stream_bidirectional_mode=rtp, and Twilio), or one base64 MP3 message (mp3: Telnyx
    /// started without it, which plays MP3, at most one message a second).
    #[arg(long, value_enum, default_value_t = ReplyModeArg::Rtp, requires = "reply_tone")]
    pub reply_mode: ReplyModeArg,
    /// A frame larger than this closes its stream with 1009.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_FRAME_BYTES)]
    pub max_frame_bytes: usize,
    /// The Telnyx account's Ed25519 public key (base64), to judge webhook signatures.
    #[arg(long, value_name = "BASE64", env = "TELNYX_PUBLIC_KEY", value_parser = parse::public_key)]
    pub webhook_public_key: Option<ed25519_dalek::VerifyingKey>,
    /// The Twilio auth token, to judge X-Twilio-Signature on status callbacks.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "TWILIO_AUTH_TOKEN",
        hide_env_values = true
    )]
    pub twilio_auth_token: Option<String>,
    /// How long a stream the provider says it started may take to arrive, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = parse::seconds)]
    pub started_grace: f64,
    /// The stream URL you give the provider: a webhook naming another one is a finding.
    #[arg(long, value_name = "URL")]
    pub expect_url: Option<String>,
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    pub format: SummaryFormat,
    /// Write the summary to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReplyModeArg {
    Rtp,
    Mp3,
}

impl From<ReplyModeArg> for ReplyMode {
    fn from(mode: ReplyModeArg) -> Self {
        match mode {
            ReplyModeArg::Rtp => ReplyMode::Rtp,
            ReplyModeArg::Mp3 => ReplyMode::Mp3,
        }
    }
}
