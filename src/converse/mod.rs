//! `converse`: a short, real call placed as the provider, and the way back judged. The caller
//! speaks recorded utterances on a phone line's 20 ms clock (`call`), what the server sends
//! back is heard against the provider's playback clock (`ear`), and the records are judged
//! (`judge`) into causes with their fixes. The JSON is a public contract (docs/converse.md).

mod call;
mod ear;
mod judge;

use std::time::Duration;

use rustls_pki_types::CertificateDer;
use serde::{Deserialize, Serialize};

pub use ear::Mode;

use crate::audio::Codec;
use crate::audio::wav::{self, WavError};
use crate::catalog::{CauseId, FoundBy, Provider};
use crate::diagnosis::Cause;
use crate::net::target::Target;
use crate::records::address::ResolvePin;
use crate::records::conversation::{CallRecord, Concurrency};
use crate::secret::Secret;
use crate::stream::caller::Dial;

/// The caller's utterances: short recorded speech, made by `scripts/make-caller-speech`.
const UTTERANCES: [&[u8]; 2] = [
    include_bytes!("../../assets/caller-1.wav"),
    include_bytes!("../../assets/caller-2.wav"),
];

/// The report's schema, raised when a field changes meaning.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Debug)]
pub struct ConverseOptions {
    pub url: String,
    pub protocol: Provider,
    pub codec: Codec,
    pub mode: Mode,
    pub turns: u32,
    /// Per turn: how long a reply may take to start; also each connection's deadline.
    pub timeout: Duration,
    pub hold: Duration,
    pub barge_in: bool,
    /// The same call this many times, one after another.
    pub calls: u32,
    /// This many calls at once instead (more than 1): how many callers the bot holds.
    pub concurrent: u32,
    pub auth_token: Option<Secret>,
    pub twilio_auth_token: Option<Secret>,
    pub resolve: Vec<ResolvePin>,
    pub extra_roots: Vec<CertificateDer<'static>>,
}

impl Default for ConverseOptions {
    fn default() -> Self {
        Self {
            url: String::new(),
            protocol: Provider::Telnyx,
            codec: Codec::Pcmu,
            mode: Mode::Rtp,
            turns: 2,
            timeout: Duration::from_secs(10),
            hold: Duration::ZERO,
            barge_in: false,
            calls: 1,
            concurrent: 1,
            auth_token: None,
            twilio_auth_token: None,
            resolve: Vec::new(),
            extra_roots: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConverseError {
    #[error("'{0}' is not a stream URL (ws:// or wss://)")]
    BadUrl(String),
    #[error("{0}")]
    Lookup(String),
    #[error("the built-in speech does not read: {0}")]
    Speech(#[from] WavError),
    #[error("the demo bot could not start: {0}")]
    Demo(#[from] crate::demo::DemoError),
}

/// The options as the report records them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptionsRecord {
    pub codec: String,
    pub bidirectional: String,
    pub turns: u32,
    pub barge_in: bool,
    pub hold_secs: f64,
    pub calls: u32,
    pub concurrent: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConverseDiagnosis {
    /// The first cause's id.
    pub verdict: Option<CauseId>,
    pub causes: Vec<Cause>,
}

/// What `converse` reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConverseReport {
    pub schema_version: u32,
    pub url: String,
    pub protocol: Provider,
    pub options: OptionsRecord,
    pub calls: Vec<CallRecord>,
    /// With `--concurrent N`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<Concurrency>,
    pub diagnosis: ConverseDiagnosis,
}

impl ConverseReport {
    /// A cause stops the way back.
    pub fn fails(&self) -> bool {
        self.diagnosis
            .causes
            .iter()
            .any(|c| c.severity == crate::catalog::Severity::Fail)
    }
}

/// The utterances at `rate_hz`.
fn utterances(rate_hz: u32) -> Result<Vec<Vec<i16>>, WavError> {
    UTTERANCES
        .iter()
        .enumerate()
        .map(|(n, bytes)| {
            let name = format!("caller-{}.wav", n + 1);
            wav::read_clip(bytes, &name).map(|clip| clip.resampled(rate_hz).samples)
        })
        .collect()
}

/// Places the calls one after another and judges them.
pub async fn run(options: &ConverseOptions) -> Result<ConverseReport, ConverseError> {
    let target =
        Target::parse(&options.url).map_err(|_| ConverseError::BadUrl(options.url.clone()))?;
    let addr = target
        .address(&options.resolve, options.timeout)
        .await
        .map_err(|e| ConverseError::Lookup(e.to_string()))?;
    let utterances = utterances(options.codec.audio_rate(8000))?;
    let dial = Dial {
        addr,
        target: &target,
        extra_roots: &options.extra_roots,
        auth_token: options.auth_token.as_ref(),
        account_token: options.twilio_auth_token.as_ref(),
        timeout: options.timeout,
    };
    let plan = call::Plan {
        provider: options.protocol,
        codec: options.codec,
        mode: options.mode,
        turns: options.turns.max(1),
        turn_timeout: options.timeout,
        hold: options.hold,
        barge_in: options.barge_in,
        utterances: &utterances,
    };
    let calls = if options.concurrent > 1 {
        let at_once = (1..=options.concurrent).map(|number| call::place(&dial, &plan, number));
        futures_util::future::join_all(at_once).await
    } else {
        let mut calls = Vec::new();
        for number in 1..=options.calls.max(1) {
            calls.push(call::place(&dial, &plan, number).await);
        }
        calls
    };
    let concurrency = (options.concurrent > 1).then(|| Concurrency::of(&calls));
    let causes: Vec<Cause> = judge::judge(options.protocol, &calls, options.concurrent <= 1)
        .iter()
        .map(|f| Cause::of(f, FoundBy::Converse, &[]))
        .collect();
    Ok(ConverseReport {
        schema_version: SCHEMA_VERSION,
        url: options.url.clone(),
        protocol: options.protocol,
        options: OptionsRecord {
            codec: options.codec.name().into(),
            bidirectional: options.mode.name().into(),
            turns: options.turns.max(1),
            barge_in: options.barge_in,
            hold_secs: options.hold.as_secs_f64(),
            calls: options.calls.max(1),
            concurrent: options.concurrent.max(1),
        },
        diagnosis: ConverseDiagnosis {
            verdict: causes.first().map(|c| c.id),
            causes,
        },
        calls,
        concurrency,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::meter::Summary;

    /// What a bot can rely on in the caller's speech: 1.5 to 2.5 s, every 20 ms frame above
    /// -40 dBFS except pauses shorter than 600 ms.
    #[test]
    fn the_utterances_keep_the_rules_a_bot_relies_on() {
        for (n, speech) in utterances(8000).expect("the clips read").iter().enumerate() {
            let seconds = speech.len() as f64 / 8000.0;
            assert!((1.5..=2.5).contains(&seconds), "clip {n}: {seconds} s");
            let mut quiet_run = 0;
            let mut longest = 0;
            for frame in speech.chunks(160) {
                let loud = Summary::of(frame).rms_dbfs().is_some_and(|db| db > -40.0);
                quiet_run = if loud { 0 } else { quiet_run + 1 };
                longest = longest.max(quiet_run);
            }
            assert!(
                longest * 20 < 600,
                "clip {n}: a pause of {} ms",
                longest * 20
            );
        }
    }
}
