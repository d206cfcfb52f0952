//! `converse`'s report: for the terminal (each call's turns with the bot's latency, what came
//! back, its format as read from the bytes, its pacing, its control messages, the instrument's
//! own send jitter beside it, then the causes with their fixes, the verdict first), as Markdown
//! for a ticket, and as HTML with each call's levels on one timeline.

use std::fmt::Write;

use maud::{Markup, html};

use crate::audio::meter::{FLOOR_DBFS, LevelPoint};
use crate::converse::ConverseReport;
use crate::records::conversation::{CallRecord, ClosedBy, runs};

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
    if let Some(at_once) = &report.concurrency {
        let latency = &at_once.first_reply_ms;
        let _ = writeln!(
            out,
            "\n{} calls at once: {} failed; first reply p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms",
            at_once.calls, at_once.failed, latency.p50, latency.p95, latency.max
        );
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

/// The report as Markdown, to paste into a ticket: the verdict, a table of the turns, the
/// reply's figures, the causes with their fixes.
pub fn markdown(report: &ConverseReport) -> String {
    let mut out = String::new();
    let verdict = report.diagnosis.causes.first();
    let _ = writeln!(
        out,
        "## Stream Doctor: the way back from `{}`\n",
        report.url
    );
    if let Some(cause) = verdict {
        let _ = writeln!(
            out,
            "**Verdict: {}** (`{}`, {})\n",
            cause.title,
            cause.id.as_str(),
            cause.severity.as_str()
        );
    }
    let _ = writeln!(
        out,
        "Called as {} ({} {}), {} turn(s), {} call(s).\n",
        report.protocol.name(),
        report.options.codec,
        report.options.bidirectional,
        report.options.turns,
        report.options.calls.max(report.options.concurrent)
    );
    let _ = writeln!(
        out,
        "| call | turn | caller spoke | first reply | reply audio |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|");
    for call in &report.calls {
        if !call.connected {
            let why = call.problem.as_deref().unwrap_or("not connected");
            let _ = writeln!(out, "| {} | – | – | {why} | – |", call.call);
        }
        for turn in &call.turns {
            let _ = writeln!(
                out,
                "| {} | {} | {:.1} s | {} | {:.1} s |",
                call.call,
                turn.turn,
                turn.caller_speech_ms / 1000.0,
                turn.first_reply_ms
                    .map_or_else(|| "none".into(), |ms| format!("{ms:.0} ms")),
                turn.reply_audio_ms / 1000.0
            );
        }
    }
    if let Some(call) = report.calls.iter().find(|c| c.replied()) {
        let reply = &call.reply;
        let format = reply.detected.map_or("unknown", |d| d.format.name());
        let _ = writeln!(
            out,
            "\nReply (call {}): declared {}/{} {}, read as **{format}**; chunks {:.0}/{:.0}/{:.0} bytes; {} underrun(s); marks {} sent, {} echoed; this side's clock p95 {:.2} ms late.",
            call.call,
            reply.declared.encoding,
            reply.declared.sample_rate,
            reply.declared.mode,
            reply.chunk_bytes.min,
            reply.chunk_bytes.median,
            reply.chunk_bytes.max,
            reply.underruns.count,
            reply.marks.sent,
            reply.marks.echoed,
            call.send_jitter_ms.p95
        );
    }
    if let Some(at_once) = &report.concurrency {
        let _ = writeln!(
            out,
            "\n{} calls at once: {} failed; first reply p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms.",
            at_once.calls,
            at_once.failed,
            at_once.first_reply_ms.p50,
            at_once.first_reply_ms.p95,
            at_once.first_reply_ms.max
        );
    }
    let _ = writeln!(out, "\n### Causes\n");
    for cause in &report.diagnosis.causes {
        let _ = writeln!(
            out,
            "- **{}** (`{}`, {}): {}\n  - Fix: {}",
            cause.title,
            cause.id.as_str(),
            cause.severity.as_str(),
            cause.summary,
            cause.fix
        );
    }
    out
}

/// The report as one self-contained HTML page.
pub fn html(report: &ConverseReport) -> String {
    super::html::page(
        &format!("Stream Doctor: the way back from {}", report.url),
        section(report),
    )
}

/// The report's HTML section: the verdict, each call's levels on one timeline with each turn's
/// latency marked, the causes.
pub(crate) fn section(report: &ConverseReport) -> Markup {
    let severity = report
        .diagnosis
        .causes
        .first()
        .map_or("info", |c| c.severity.as_str());
    html! {
        h2 { "The way back: a call placed as the provider" }
        @if let Some(cause) = report.diagnosis.causes.first() {
            div class={ "verdict " (severity) } {
                strong { (cause.title) } " (" code { (cause.id.as_str()) } ")"
                p { (cause.summary) }
            }
        }
        p class="meta" {
            (report.protocol.name()) ", " (report.options.codec) " " (report.options.bidirectional)
            ", " (report.options.turns) " turn(s): " (report.url)
        }
        @for call in &report.calls {
            h3 { "Call " (call.call) }
            @if !call.connected {
                p class="fail" { (call.problem.as_deref().unwrap_or("not connected")) }
            } @else {
                (timeline(call))
                table {
                    tr { th { "turn" } th { "caller spoke" } th { "first reply" } th { "reply audio" } }
                    @for turn in &call.turns {
                        tr {
                            td { (turn.turn) }
                            td { (format!("{:.1} s", turn.caller_speech_ms / 1000.0)) }
                            td { (turn.first_reply_ms.map_or_else(|| "none".into(), |ms| format!("{ms:.0} ms"))) }
                            td { (format!("{:.1} s", turn.reply_audio_ms / 1000.0)) }
                        }
                    }
                }
            }
        }
        h3 { "Causes" }
        ul {
            @for cause in &report.diagnosis.causes {
                li class=(cause.severity.as_str()) {
                    strong { (cause.title) } " (" code { (cause.id.as_str()) } "): " (cause.summary)
                    br; "Fix: " (cause.fix)
                }
            }
        }
    }
}

/// The caller's and the bot's RMS on one clock, each turn's latency as a shaded span.
fn timeline(call: &CallRecord) -> Markup {
    const WIDTH: f64 = 720.0;
    const HEIGHT: f64 = 160.0;
    const LEFT: f64 = 40.0;
    let levels = &call.levels;
    let end_ms = levels
        .caller
        .iter()
        .chain(&levels.bot)
        .map(|p| p.at_ms)
        .fold(1000.0f64, f64::max);
    let x = |ms: f64| LEFT + (ms / end_ms) * (WIDTH - LEFT - 10.0);
    let y = |db: Option<f64>| {
        let v = db.unwrap_or(FLOOR_DBFS).max(FLOOR_DBFS);
        10.0 + (v / FLOOR_DBFS) * (HEIGHT - 30.0)
    };
    let line = |points: &[LevelPoint]| {
        points
            .iter()
            .map(|p| format!("{:.1},{:.1}", x(p.at_ms), y(p.rms_dbfs)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    html! {
        svg viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } xmlns="http://www.w3.org/2000/svg"
            role="img" aria-label="the caller's and the bot's levels over the call" {
            @for turn in &call.turns {
                @if let (Some(spoke), Some(replied)) = (turn.spoke_until_ms, turn.replied_at_ms) {
                    rect x=(format!("{:.1}", x(spoke))) y="10" width=(format!("{:.1}", (x(replied) - x(spoke)).max(1.0)))
                        height=(format!("{:.1}", HEIGHT - 30.0)) fill="#9a6700" fill-opacity="0.15" {}
                    text x=(format!("{:.1}", x(spoke))) y=(HEIGHT - 6.0) font-size="9" fill="#9a6700" {
                        (format!("{:.0} ms", replied - spoke))
                    }
                }
            }
            polyline fill="none" stroke="#0969da" stroke-width="1.5" points=(line(&levels.caller)) {}
            @for run in runs(&levels.bot) {
                polyline fill="none" stroke="#bf3989" stroke-width="1.5" points=(line(run)) {}
            }
            text x=(LEFT + 6.0) y="22" font-size="10" fill="#0969da" { "caller RMS" }
            text x=(LEFT + 90.0) y="22" font-size="10" fill="#bf3989" { "bot RMS" }
            text x=(WIDTH - 10.0) y=(HEIGHT - 6.0) font-size="9" fill="#57606a" text-anchor="end" {
                (format!("{:.1} s", end_ms / 1000.0))
            }
        }
    }
}
