//! The way back judged: the calls' records in, the findings out, in the order that makes the
//! first failing one the root cause (docs/converse.md): a later call failing, a stream cut
//! mid-call, no reply, a silent one, a file header, the wrong codec, the wrong rate, replies
//! without `streamSid`, invalid messages; then the warnings; `ok.conversation` when nothing
//! fails. Pure: every figure a summary gives is in the records.

use crate::audio::detect::Format;
use crate::catalog::{CauseId, Finding, Provider};
use crate::records::conversation::{CallRecord, ClosedBy, ReplyRecord};

/// A reply whose median time to answer is over this is late.
const LATE_MS: f64 = 1500.0;
/// Paced at this many times the declared bytes a second (or more), the rate is wrong.
const RATE_FACTOR: f64 = 1.8;
/// After a barge-in, a `clear` must come within this long.
const CLEAR_WITHIN_MS: f64 = 1000.0;
/// Below this RMS the reply is silent.
const SILENT_DBFS: f64 = -60.0;

fn found(cause: CauseId, summary: String) -> Finding {
    Finding {
        cause,
        summary,
        severity: None,
    }
}

/// The raw format a declared encoding should read as.
fn expected(declared: &str) -> Option<Format> {
    match declared {
        "PCMU" | "audio/x-mulaw" => Some(Format::Mulaw),
        "PCMA" | "audio/x-alaw" => Some(Format::Alaw),
        "L16" | "audio/l16" => Some(Format::Pcm16be),
        _ => None,
    }
}

/// `sequential`: the calls came one after another (a later one failing is then its own cause);
/// calls placed at once are judged together.
pub(crate) fn judge(provider: Provider, calls: &[CallRecord], sequential: bool) -> Vec<Finding> {
    let mut findings = Vec::new();
    let first_worked = sequential
        && calls
            .first()
            .is_some_and(|c| c.connected && c.replied() && c.cut().is_none());
    if first_worked {
        for later in calls.iter().skip(1) {
            let what = if !later.connected {
                later
                    .problem
                    .clone()
                    .unwrap_or_else(|| "it did not connect".into())
            } else if let Some(cut) = later.cut() {
                format!(
                    "the stream was closed at {:.1} s (code {})",
                    cut.at_ms / 1000.0,
                    code(cut.code)
                )
            } else if !later.replied() {
                "no reply audio came back".into()
            } else {
                continue;
            };
            findings.push(found(
                CauseId::StreamLaterCallFails,
                format!("call 1 worked; call {}: {what}", later.call),
            ));
            break;
        }
    }
    let later_fails = !findings.is_empty();
    let cut = calls
        .iter()
        .filter(|c| !(later_fails && c.call > 1))
        .find_map(|c| c.cut().map(|close| (c.call, close)));
    if let Some((call, close)) = cut {
        let by = if close.by == ClosedBy::Error {
            "the connection broke"
        } else {
            "the server closed it"
        };
        let limit = [55.0, 60.0, 100.0]
            .into_iter()
            .find(|limit| (close.at_ms / 1000.0 - limit).abs() < 2.0)
            .map(|limit| format!(", near a common idle limit of {limit:.0} s"))
            .unwrap_or_default();
        findings.push(found(
            CauseId::StreamClosedMidCall,
            format!(
                "call {call}: {by} at {:.1} s while the caller was on the line (code {}, '{}'){limit}",
                close.at_ms / 1000.0,
                code(close.code),
                close.reason
            ),
        ));
    }
    let connected: Vec<&CallRecord> = calls.iter().filter(|c| c.connected).collect();
    if connected.is_empty() {
        return findings;
    }
    if connected.iter().all(|c| !c.replied()) {
        let spoke: usize = connected.iter().map(|c| c.turns.len()).sum();
        let hint = match provider {
            Provider::Twilio => {
                "a <Start><Stream> is one-way; <Connect><Stream> carries audio back"
            }
            Provider::Telnyx => "a stream not started bidirectional carries no audio back",
        };
        findings.push(found(
            CauseId::ReplyNone,
            format!("the caller spoke in {spoke} turn(s) and no media came back ({hint})"),
        ));
        return findings;
    }
    let reply = &connected
        .iter()
        .find(|c| c.replied())
        .map(|c| &c.reply)
        .unwrap_or(&connected[0].reply);
    judge_reply(provider, reply, &mut findings);
    judge_timing(&connected, &mut findings);
    if !findings
        .iter()
        .any(|f| f.severity() == crate::catalog::Severity::Fail)
    {
        let latencies: Vec<String> = connected
            .iter()
            .flat_map(|c| &c.turns)
            .filter_map(|t| t.first_reply_ms)
            .map(|ms| format!("{ms:.0} ms"))
            .collect();
        let format = reply.detected.map(|d| d.format.name()).unwrap_or("unknown");
        findings.push(found(
            CauseId::OkConversation,
            format!(
                "replies in {format} ({}), first words after {}",
                reply.declared.encoding,
                if latencies.is_empty() {
                    "no turn".into()
                } else {
                    latencies.join(", ")
                }
            ),
        ));
    }
    findings
}

fn code(code: Option<u16>) -> String {
    code.map_or_else(|| "none".into(), |c| c.to_string())
}

fn judge_reply(provider: Provider, reply: &ReplyRecord, findings: &mut Vec<Finding>) {
    let detected = reply.detected;
    let format = detected.map_or(Format::Unknown, |d| d.format);
    let mp3_mode = reply.declared.mode == "mp3";
    let silent = format == Format::Silence
        || (!mp3_mode && reply.rms_dbfs.is_none_or(|db| db < SILENT_DBFS));
    if silent && !matches!(format, Format::Wav | Format::Mp3) {
        findings.push(found(
            CauseId::ReplySilent,
            format!(
                "{} media message(s), {} bytes, all silence (RMS {})",
                reply.frames,
                reply.bytes,
                reply
                    .rms_dbfs
                    .map_or_else(|| "-inf".into(), |db| format!("{db:.1} dBFS"))
            ),
        ));
    } else if format == Format::Wav || (format == Format::Mp3 && !mp3_mode) {
        let rate = detected
            .and_then(|d| d.sample_rate_hz)
            .map(|hz| format!(", {hz} Hz in its header"))
            .unwrap_or_default();
        findings.push(found(
            CauseId::ReplyContainerInPayload,
            format!(
                "the payloads hold a {} file{rate}, where raw {} belongs",
                if format == Format::Wav {
                    "WAV (RIFF/WAVE)"
                } else {
                    "MP3"
                },
                reply.declared.encoding
            ),
        ));
    } else if mp3_mode && format != Format::Mp3 {
        findings.push(found(
            CauseId::ReplyCodecMismatch,
            format!(
                "the stream plays MP3 (bidirectional mp3), and the replies are {}",
                format.name()
            ),
        ));
    } else if !mp3_mode {
        let want = expected(&reply.declared.encoding);
        match (want, format) {
            (Some(want), got) if got != want && got != Format::Unknown => {
                findings.push(found(
                    CauseId::ReplyCodecMismatch,
                    format!(
                        "declared {} ({}), the bytes read as {} (confidence {:.2})",
                        reply.declared.encoding,
                        want.name(),
                        got.name(),
                        detected.map_or(0.0, |d| d.confidence)
                    ),
                ));
            }
            (Some(want), got) if got == want => {
                let declared_bps = want.bytes_per_second(reply.declared.sample_rate);
                if let (Some(paced), Some(declared_bps)) =
                    (reply.paced_bytes_per_second, declared_bps)
                {
                    let factor = paced / declared_bps;
                    if factor >= RATE_FACTOR {
                        findings.push(found(
                            CauseId::ReplySampleRateMismatch,
                            format!(
                                "paced as it plays, the server sends {paced:.0} bytes a second where {} at {} Hz is {declared_bps:.0}: audio at about {:.0} Hz, which plays {factor:.1} times too slow",
                                reply.declared.encoding,
                                reply.declared.sample_rate,
                                f64::from(reply.declared.sample_rate) * factor
                            ),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    if provider == Provider::Twilio && reply.missing_stream_sid > 0 {
        findings.push(found(
            CauseId::ReplyStreamSidMissing,
            format!(
                "{} repl(ies) without this stream's streamSid: Twilio ignores them (31951)",
                reply.missing_stream_sid
            ),
        ));
    }
    if reply.invalid_messages > 0 {
        findings.push(found(
            CauseId::ReplyInvalidMessage,
            format!(
                "{} message(s) the provider does not take, the first: {:?}",
                reply.invalid_messages,
                reply.first_invalid.as_deref().unwrap_or_default()
            ),
        ));
    }
    if reply.underruns.count > 0 {
        findings.push(found(
            CauseId::ReplyUnderrun,
            format!(
                "the queued reply audio ran out {} time(s) mid-reply, {:.0} ms in all",
                reply.underruns.count, reply.underruns.total_ms
            ),
        ));
    }
    let frame_bytes = match reply.declared.encoding.as_str() {
        "L16" | "audio/l16" => 320.0,
        _ => 160.0,
    };
    let sizes = &reply.chunk_bytes;
    let odd = !mp3_mode
        && reply.frames > 0
        && (sizes.min % frame_bytes != 0.0 || sizes.median % frame_bytes != 0.0);
    let uneven = !mp3_mode && sizes.min > 0.0 && sizes.max > sizes.min * 8.0;
    if odd || uneven {
        findings.push(found(
            CauseId::ReplyFrameSize,
            format!(
                "chunks of {:.0} to {:.0} bytes (median {:.0}), where a 20 ms frame is {frame_bytes:.0}",
                sizes.min, sizes.max, sizes.median
            ),
        ));
    }
    let cleared = reply
        .clear
        .after_barge_in_ms
        .is_some_and(|ms| ms <= CLEAR_WITHIN_MS);
    if reply.barge_in_at_ms.is_some() && !cleared {
        let when = reply.clear.after_barge_in_ms.map_or_else(
            || "no clear came".into(),
            |ms| format!("the clear came {ms:.0} ms later"),
        );
        findings.push(found(
            CauseId::ReplyNoClearOnBargeIn,
            format!("the caller spoke over the reply and {when}: the queued audio played on"),
        ));
    }
    if reply.marks.malformed > 0 {
        findings.push(found(
            CauseId::ReplyMarkMalformed,
            format!("{} mark(s) without a name", reply.marks.malformed),
        ));
    }
}

fn judge_timing(calls: &[&CallRecord], findings: &mut Vec<Finding>) {
    let mut latencies: Vec<f64> = calls
        .iter()
        .flat_map(|c| &c.turns)
        .filter_map(|t| t.first_reply_ms)
        .collect();
    if latencies.is_empty() {
        return;
    }
    latencies.sort_by(f64::total_cmp);
    let median = latencies[latencies.len() / 2];
    if median > LATE_MS {
        findings.push(found(
            CauseId::ReplyLate,
            format!(
                "the bot's first words come {median:.0} ms (median) after the caller stops, over the {LATE_MS:.0} ms callers wait"
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::detect::Detected;
    use crate::records::conversation::{ChunkBytes, Declared, TurnRecord};

    fn call(format: Format, paced: Option<f64>, first_reply_ms: f64) -> CallRecord {
        CallRecord {
            call: 1,
            connected: true,
            turns: vec![TurnRecord {
                turn: 1,
                caller_speech_ms: 1800.0,
                first_reply_ms: Some(first_reply_ms),
                reply_audio_ms: 1000.0,
                reply_frames: 50,
                ..TurnRecord::default()
            }],
            reply: ReplyRecord {
                frames: 50,
                bytes: 8000,
                declared: Declared {
                    encoding: "PCMU".into(),
                    sample_rate: 8000,
                    mode: "rtp".into(),
                },
                detected: Some(Detected {
                    format,
                    sample_rate_hz: None,
                    confidence: 0.9,
                }),
                chunk_bytes: ChunkBytes {
                    min: 160.0,
                    median: 160.0,
                    max: 160.0,
                },
                rms_dbfs: Some(-20.0),
                paced_bytes_per_second: paced,
                ..ReplyRecord::default()
            },
            ..CallRecord::default()
        }
    }

    fn ids(findings: &[Finding]) -> Vec<CauseId> {
        findings.iter().map(|f| f.cause).collect()
    }

    #[test]
    fn the_format_is_judged_before_the_rate() {
        let good = judge(
            Provider::Telnyx,
            &[call(Format::Mulaw, Some(8000.0), 600.0)],
            true,
        );
        assert_eq!(ids(&good), [CauseId::OkConversation]);
        let alaw = judge(
            Provider::Telnyx,
            &[call(Format::Alaw, Some(8000.0), 600.0)],
            true,
        );
        assert_eq!(ids(&alaw), [CauseId::ReplyCodecMismatch]);
        assert!(alaw[0].summary.contains("alaw"), "{}", alaw[0].summary);
        let pcm = judge(
            Provider::Telnyx,
            &[call(Format::Pcm16le, Some(16000.0), 600.0)],
            true,
        );
        assert_eq!(
            ids(&pcm),
            [CauseId::ReplyCodecMismatch],
            "twice the bytes is the consequence"
        );
        let fast = judge(
            Provider::Telnyx,
            &[call(Format::Mulaw, Some(24000.0), 600.0)],
            true,
        );
        assert_eq!(ids(&fast), [CauseId::ReplySampleRateMismatch]);
        assert!(fast[0].summary.contains("24000"), "{}", fast[0].summary);
        let burst = judge(Provider::Telnyx, &[call(Format::Mulaw, None, 600.0)], true);
        assert_eq!(
            ids(&burst),
            [CauseId::OkConversation],
            "a burst says nothing of the rate"
        );
        let wav = judge(
            Provider::Telnyx,
            &[call(Format::Wav, Some(8000.0), 600.0)],
            true,
        );
        assert_eq!(ids(&wav), [CauseId::ReplyContainerInPayload]);
        let late = judge(
            Provider::Telnyx,
            &[call(Format::Mulaw, Some(8000.0), 4000.0)],
            true,
        );
        assert_eq!(ids(&late), [CauseId::ReplyLate, CauseId::OkConversation]);
    }

    #[test]
    fn no_reply_and_a_later_failing_call_are_named_first() {
        let mut quiet = call(Format::Mulaw, None, 600.0);
        quiet.reply = ReplyRecord::default();
        quiet.turns[0].first_reply_ms = None;
        let none = judge(Provider::Twilio, &[quiet.clone()], true);
        assert_eq!(ids(&none), [CauseId::ReplyNone]);
        assert!(none[0].summary.contains("<Connect><Stream>"));
        let mut second = quiet;
        second.call = 2;
        let later = judge(
            Provider::Telnyx,
            &[call(Format::Mulaw, Some(8000.0), 600.0), second],
            true,
        );
        assert_eq!(later[0].cause, CauseId::StreamLaterCallFails);
        assert!(later[0].summary.contains("call 2"), "{}", later[0].summary);
    }
}
