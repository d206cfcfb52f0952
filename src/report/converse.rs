//! `converse`'s report for a person: each call's turns with the bot's latency, what came back
//! (its format as read from the bytes, its pacing, its control messages), the instrument's own
//! send jitter beside it, then the causes with their fixes, the verdict first.

use std::fmt::Write;

use crate::converse::ConverseReport;
use crate::records::conversation::{CallRecord, ClosedBy};

pub fn text(report: &ConverseReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "converse {} as {} ({} {}, {} turn(s), {} call(s))",
        report.url,
        report.protocol.name(),
        report.options.codec,
        report.options.bidirectional,
        report.options.turns,
        report.options.calls
    );
    for call in &report.calls {
        call_text(&mut out, call);
    }
    let _ = writeln!(out);
    for (n, cause) in report.diagnosis.causes.iter().enumerate() {
        let mark = if n == 0 { "verdict" } else { "also" };
        let _ = writeln!(
            out,
            "{mark}: [{}] {} ({})",
            cause.id.as_str(),
            cause.title,
            cause.severity.as_str()
        );
        let _ = writeln!(out, "  seen: {}", cause.summary);
        let _ = writeln!(out, "  fix: {}", cause.fix);
    }
    out
}

fn call_text(out: &mut String, call: &CallRecord) {
    let _ = writeln!(out, "\ncall {}", call.call);
    if !call.connected {
        let why = call.problem.as_deref().unwrap_or("it did not connect");
        let _ = writeln!(out, "  not connected: {why}");
        return;
    }
    for turn in &call.turns {
        let reply = turn.first_reply_ms.map_or_else(
            || "no reply".to_string(),
            |ms| format!("first reply after {ms:.0} ms"),
        );
        let _ = writeln!(
            out,
            "  turn {}: caller spoke {:.1} s, {reply}, {:.1} s of reply audio in {} frame(s)",
            turn.turn,
            turn.caller_speech_ms / 1000.0,
            turn.reply_audio_ms / 1000.0,
            turn.reply_frames
        );
    }
    let reply = &call.reply;
    if reply.frames > 0 {
        let detected = reply.detected.map_or_else(
            || "unknown".to_string(),
            |d| format!("{} (confidence {:.2})", d.format.name(), d.confidence),
        );
        let _ = writeln!(
            out,
            "  reply: {} frame(s), {} bytes, declared {}/{} {}, read as {detected}",
            reply.frames,
            reply.bytes,
            reply.declared.encoding,
            reply.declared.sample_rate,
            reply.declared.mode
        );
        let _ = writeln!(
            out,
            "  pacing: chunks {:.0}/{:.0}/{:.0} bytes (min/median/max), intervals p50 {:.1} ms p95 {:.1} ms, ahead of playback up to {:.0} ms, {} underrun(s) ({:.0} ms){}",
            reply.chunk_bytes.min,
            reply.chunk_bytes.median,
            reply.chunk_bytes.max,
            reply.interval_ms.p50,
            reply.interval_ms.p95,
            reply.ahead_ms_max,
            reply.underruns.count,
            reply.underruns.total_ms,
            reply
                .paced_bytes_per_second
                .map(|bps| format!(", {bps:.0} bytes/s when paced"))
                .unwrap_or_default()
        );
        let _ = writeln!(
            out,
            "  control: marks {} sent, {} echoed, {} malformed; clear {}; {} invalid message(s)",
            reply.marks.sent,
            reply.marks.echoed,
            reply.marks.malformed,
            if reply.clear.sent { "sent" } else { "not sent" },
            reply.invalid_messages
        );
    }
    if let Some(close) = &call.close {
        let by = match close.by {
            ClosedBy::Client => "the caller hung up",
            ClosedBy::Server => "the server closed it",
            ClosedBy::Error => "the connection broke",
        };
        let _ = writeln!(
            out,
            "  end: {by} at {:.1} s (code {})",
            close.at_ms / 1000.0,
            close.code.map_or_else(|| "none".into(), |c| c.to_string())
        );
    }
    let jitter = &call.send_jitter_ms;
    let _ = writeln!(
        out,
        "  this side's 20 ms clock: p50 {:.2} ms late, p95 {:.2} ms, max {:.2} ms",
        jitter.p50, jitter.p95, jitter.max
    );
}
