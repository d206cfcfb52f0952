//! What `listen` and `replay` print for people: the summary of the streams a listener saw, and
//! what a replay sent and got back. (The lines `listen` prints as it runs are its events'.)

use std::fmt::Write;

use serde::Serialize;

use crate::diagnosis::Cause;
use crate::records::call::ReplaySummary;
use crate::records::live::ListenSummary;

fn level(value: Option<f64>) -> String {
    value.map_or("-inf".to_string(), |d| format!("{d:.1}"))
}

/// The findings as cause records, with their fixes.
fn causes(summary: &ListenSummary) -> Vec<Cause> {
    summary
        .findings
        .iter()
        .map(|f| Cause::of(f, f.cause.found_by(), &[]))
        .collect()
}

/// `listen --format json`: the summary, and its findings as the same cause records `check`
/// writes.
pub fn listen_json(summary: &ListenSummary) -> String {
    #[derive(Serialize)]
    struct Report<'a> {
        #[serde(flatten)]
        summary: &'a ListenSummary,
        findings: Vec<Cause>,
    }
    let report = Report {
        summary,
        findings: causes(summary),
    };
    serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
}

/// The summary `listen` prints when it stops.
pub fn listen(summary: &ListenSummary) -> String {
    let mut out = format!(
        "\nSummary: {} stream(s) on {}, {} request(s) refused\n",
        summary.streams.len(),
        summary.listen,
        summary.refused
    );
    let dropped = summary.dropped;
    if dropped.any() {
        let _ = writeln!(
            out,
            "(to stay bounded, the oldest {} closed stream(s), {} webhook(s) and {} finding(s) were let go)",
            dropped.streams, dropped.webhooks, dropped.findings
        );
    }
    for (i, stream) in summary.streams.iter().enumerate() {
        let format = stream
            .media_format
            .as_ref()
            .map_or("no start".to_string(), |f| {
                format!("{}/{}", f.encoding, f.sample_rate)
            });
        let _ = writeln!(
            out,
            "#{} {} {} {} stream {} call {}, {:.1} s",
            i + 1,
            stream.protocol.as_deref().unwrap_or("unknown protocol"),
            stream.path,
            format,
            stream.stream_id.as_deref().unwrap_or("-"),
            stream.call_control_id.as_deref().unwrap_or("-"),
            stream.duration_ms / 1000.0
        );
        let m = &stream.messages;
        let _ = writeln!(
            out,
            "   messages: connected {} start {} media {} stop {} dtmf {} mark {} other {} invalid {} binary {}",
            m.connected, m.start, m.media, m.stop, m.dtmf, m.mark, m.other, m.invalid, m.binary
        );
        for (name, track) in &stream.tracks {
            let _ = writeln!(
                out,
                "   {name}: {} frames, {:.1} s, rms {} dBFS, peak {} dBFS, gaps {}, out of order {}, late {}",
                track.frames,
                track.duration_ms / 1000.0,
                level(track.rms_dbfs),
                level(track.peak_dbfs),
                track.sequence_gaps,
                track.out_of_order,
                track.late_frames
            );
        }
        if let Some(closed) = &stream.closed {
            let _ = writeln!(out, "   {closed}");
        }
    }
    if !summary.webhooks.is_empty() {
        let _ = writeln!(out, "Webhooks: {}", summary.webhooks.len());
        for hook in &summary.webhooks {
            let reason = hook
                .failure_reason
                .as_ref()
                .map(|r| format!(", {r}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "   {} {} (signature {}){reason}",
                crate::clock::rfc3339(hook.received_at),
                hook.event_type,
                hook.signature.as_str()
            );
        }
    }
    for cause in causes(summary) {
        let _ = writeln!(
            out,
            "Finding {}: {}\n   fix: {}",
            cause.id.as_str(),
            cause.summary,
            cause.fix
        );
    }
    out
}

/// What `replay` prints when its streams are done.
pub fn replay(summary: &ReplaySummary) -> String {
    let mut out = format!(
        "sent {} media frame(s) over {} stream(s) in {:.2} s ({} frames/s)\n",
        summary.media_frames_sent,
        summary.streams.len(),
        summary.duration_ms / 1000.0,
        summary.frames_per_sec
    );
    for stream in &summary.streams {
        let close = stream
            .close
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let marks = if stream.received.marks.is_empty() {
            String::new()
        } else {
            format!(", marks {:?}", stream.received.marks)
        };
        let error = stream
            .error
            .as_ref()
            .map(|e| format!(" (error: {e})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "stream {}: media back {}, marks {}{marks}, close: {close}{error}",
            stream.stream, stream.received.media, stream.received.mark,
        );
    }
    out
}
