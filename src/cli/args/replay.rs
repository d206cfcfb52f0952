//! `replay`'s arguments.

use clap::ValueEnum;

use super::{ConnectArgs, SummaryFormat};
use crate::cli::parse;
use stream_doctor::audio::Codec;
use stream_doctor::audio::wav::Clip;
use stream_doctor::catalog::Provider;
use stream_doctor::stream::replay::{Pace, Tracks};

#[derive(Clone, Copy, ValueEnum)]
pub enum PaceArg {
    Realtime,
    Max,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum TrackArg {
    Inbound,
    Outbound,
    Both,
}

#[derive(clap::Args)]
pub struct ReplayArgs {
    /// The stream URL to send to (ws:// or wss://).
    pub url: String,
    #[arg(long, default_value = "telnyx")]
    pub protocol: Provider,
    #[arg(long, default_value = "PCMU")]
    pub codec: Codec,
    /// Send this WAV file (16-bit PCM; resampled to the codec's rate).
    #[arg(long, value_name = "FILE", conflicts_with = "tone", value_parser = parse::wav_clip)]
    pub wav: Option<Clip>,
    /// Send a sine at this frequency (the default: 440 Hz).
    #[arg(long, value_name = "HZ")]
    pub tone: Option<f64>,
    /// Length of the tone, in seconds.
    #[arg(long, value_name = "S", default_value_t = 5.0, value_parser = parse::seconds)]
    pub seconds: f64,
    #[arg(long, value_enum, default_value_t = TrackArg::Inbound)]
    pub track: TrackArg,
    #[arg(long, value_enum, default_value_t = PaceArg::Realtime)]
    pub pace: PaceArg,
    /// Open this many streams at once.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub streams: usize,
    /// The call id the streams carry (a live call's call_control_id, to match its webhooks).
    #[arg(long, value_name = "ID")]
    pub call_id: Option<String>,
    /// NAME=VALUE the `start` message carries in its custom parameters (repeatable), as a
    /// stream started with them does.
    #[arg(long = "custom-parameter", value_name = "NAME=VALUE", value_parser = parse::name_value)]
    pub custom_parameters: Vec<(String, String)>,
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    pub format: SummaryFormat,
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
