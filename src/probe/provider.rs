//! The `provider` check: a second of a 440 Hz tone sent exactly as Telnyx would send it
//! (`stream::caller`, the code `replay` runs too), then a reading of what happened: did the
//! upgrade go through with only the provider's headers, did every message go out, and how did
//! the server end the stream. The stream runs beside the other checks (`stream`); it is judged
//! once the `websocket` check has said whether the server answers pings (`judge`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::catalog::Provider;

use super::upgrade::status_cause;
use crate::audio::{Codec, tone};
use crate::catalog::{CauseId, CheckId};
use crate::check::CheckResult;
use crate::check::evidence::{ProviderEvidence, SentStream};
use crate::check::options::CheckOptions;
use crate::clock::millis;
use crate::net::target::Target;
use crate::records::live::MediaFormat;
use crate::stream::caller::{self, CLOCK_RATE_HZ, Call, Dial, OpenError, Pace, Plan};
use crate::stream::script::FRAME_MS;

/// One second of audio.
const SAMPLES: usize = CLOCK_RATE_HZ as usize;

/// The provider's stream as it went, not yet judged.
pub(crate) struct Attempt {
    call: Call,
    provider: Provider,
    took: Duration,
}

/// Streams a second of tone to `addr` as the provider does.
pub(crate) async fn stream(addr: SocketAddr, target: &Target, options: &CheckOptions) -> Attempt {
    let started = Instant::now();
    let provider = options.protocol;
    let codec = Codec::Pcmu;
    let samples = tone(440.0, 0.5, CLOCK_RATE_HZ, SAMPLES);
    let dial = Dial {
        addr,
        target,
        extra_roots: &options.extra_roots,
        auth_token: options.auth_token.as_ref(),
        account_token: options.twilio_auth_token.as_ref(),
        timeout: options.timeout,
    };
    let plan = Plan {
        provider,
        codec,
        tracks: &["inbound"],
        samples: &samples,
        pace: Pace::Max,
        start_mark: true,
        call_id: None,
        parameters: &BTreeMap::new(),
    };
    let call = caller::call(&dial, &plan, &|| {}).await;
    Attempt {
        call,
        provider,
        took: started.elapsed(),
    }
}

/// The verdict on a stream; `pings_answered`: the `websocket` check got its pong, so the start
/// mark's pong tells how far the server read.
pub(crate) fn judge(attempt: Attempt, pings_answered: bool) -> CheckResult {
    let Attempt {
        call,
        provider,
        took,
    } = attempt;
    let codec = Codec::Pcmu;
    let elapsed = || millis(took);
    let found = |cause: CauseId, summary: String, evidence: ProviderEvidence| {
        CheckResult::found(CheckId::Provider, cause, summary, elapsed(), evidence)
    };
    let stream = match call.outcome {
        Ok(stream) if pings_answered => stream.read_by_server(),
        Ok(stream) => stream,
        Err(OpenError::Refused {
            status,
            answered_by,
        }) => {
            let headers = if call.headers_sent.is_empty() {
                "standard only".to_string()
            } else {
                call.headers_sent.join(", ")
            };
            let from = answered_by
                .as_ref()
                .map(|b| format!(" from {}", b.describe()))
                .unwrap_or_default();
            let summary =
                format!("the provider's upgrade (headers it sends: {headers}) gets {status}{from}");
            let evidence = ProviderEvidence::Refused {
                status,
                headers_sent: call.headers_sent,
                answered_by,
            };
            return found(status_cause(status), summary, evidence);
        }
        Err(OpenError::Timeout(timeout)) => {
            let summary = format!("the provider's upgrade got no answer within {timeout:?}");
            return found(
                CauseId::WsHandshakeTimeout,
                summary,
                ProviderEvidence::NotOpened {},
            );
        }
        Err(OpenError::Request(e)) => {
            return CheckResult::broken(CheckId::Provider, e.to_string(), elapsed());
        }
        Err(OpenError::Connect(e)) => {
            let summary = format!("could not connect as the provider: {e}");
            return found(
                CauseId::StreamRejected,
                summary,
                ProviderEvidence::NotOpened {},
            );
        }
        Err(OpenError::Handshake(e)) => {
            let summary = format!("the provider's upgrade failed: {e}");
            return found(
                CauseId::StreamRejected,
                summary,
                ProviderEvidence::NotOpened {},
            );
        }
    };
    let cut_short = stream.cut_short();
    let close_text = stream.ending.close.to_string();
    let media_sent = stream.sent.media;
    let received_count = stream.replies.count();
    let evidence = ProviderEvidence::Streamed(SentStream {
        headers_sent: call.headers_sent,
        media_format: MediaFormat {
            encoding: provider.protocol().encoding(codec).to_string(),
            sample_rate: CLOCK_RATE_HZ,
            channels: 1,
        },
        sent: stream.sent,
        last_sent: stream.last_sent,
        send_error: stream.send_error,
        received_count,
        received: stream.replies.messages,
        close: stream.ending,
    });
    if let Some(summary) = cut_short {
        return found(CauseId::StreamRejected, summary, evidence);
    }
    let summary = format!(
        "sent connected, start (PCMU/8000), {media_sent} media frames ({:.1} s), stop; the server sent {received_count} message(s) back; {close_text}",
        (media_sent * FRAME_MS) as f64 / 1000.0
    );
    CheckResult::from_findings(CheckId::Provider, summary, elapsed(), evidence, Vec::new())
}
