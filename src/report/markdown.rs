//! Markdown that fits a ticket or a chat message: the verdict first, then the causes with their
//! fixes, a table of checks, a person's verdicts and notes, streams, and the evidence that
//! matters.

use std::fmt::Write;

use super::{dbfs_text, key_evidence, severity_icon, status_icon, verdict_line};
use crate::checklist::ITEMS;
use crate::clock;
use crate::diagnosis::{Cause, snippet};
use crate::secret::Redactor;
use crate::session::Session;

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn indent(code: &str) -> String {
    code.lines()
        .map(|l| format!("   {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One cause as an item of a numbered Markdown list, its fix under it.
pub(super) fn numbered_cause(out: &mut String, number: usize, cause: &Cause) {
    let _ = writeln!(
        out,
        "{number}. {} **{}** `{}`: {}  \n   Fix: {}",
        severity_icon(cause.severity),
        cause.title,
        cause.id.as_str(),
        cause.summary,
        cause.fix
    );
}

pub(crate) fn render(session: &Session) -> String {
    render_with(session, true)
}

/// The report in at most `max_bytes` (a CI job summary's limit): the evidence goes first, then
/// the end of what is left; the verdict and the causes, at the top, stay.
pub fn render_within(session: &Session, max_bytes: usize, redactor: &Redactor) -> String {
    // Measured after masking: a mask may be longer than the value it hides.
    let full = redactor.mask(&render(session));
    if full.len() <= max_bytes {
        return full;
    }
    let mut short = redactor.mask(&render_with(session, false));
    short.push_str(EVIDENCE_CUT);
    if short.len() <= max_bytes {
        return short;
    }
    let mut end = max_bytes.saturating_sub(EVIDENCE_CUT.len());
    while !short.is_char_boundary(end) {
        end -= 1;
    }
    short.truncate(end);
    short.push_str(EVIDENCE_CUT);
    short
}

const EVIDENCE_CUT: &str = "\n_(Cut to fit: the JSON report holds everything.)_\n";

fn render_with(session: &Session, evidence: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Stream Doctor: {}\n",
        verdict_line(&session.checks, session.diagnosis.as_ref())
    );
    let _ = writeln!(
        out,
        "Target `{}`, checked {}{} by {} {} on {}.\n",
        session.target,
        clock::rfc3339(session.started_at),
        session
            .ended_at
            .map(|e| format!(" to {}", clock::rfc3339(e)))
            .unwrap_or_default(),
        session.tool.name,
        session.tool.version,
        session.host_os
    );
    if let Some(vantage) = &session.vantage {
        let _ = writeln!(
            out,
            "From `{}` (host {}, {}).\n",
            vantage.label,
            vantage.hostname,
            if vantage.ipv6 {
                "with IPv6"
            } else {
                "no IPv6 route"
            }
        );
    }
    if let Some(diagnosis) = session.diagnosis.as_ref().filter(|d| !d.causes.is_empty()) {
        let _ = writeln!(out, "### Causes\n");
        for (i, cause) in diagnosis.causes.iter().enumerate() {
            numbered_cause(&mut out, i + 1, cause);
            if let Some(code) = snippet(cause.id) {
                let _ = writeln!(out, "   ```\n{}\n   ```", indent(code));
            }
        }
        out.push('\n');
    }
    if !session.checks.is_empty() {
        let _ = writeln!(
            out,
            "### Checks\n\n| | check | time | result |\n|---|---|---:|---|"
        );
        for check in &session.checks {
            let _ = writeln!(
                out,
                "| {} {} | {} | {:.1} ms | {} |",
                status_icon(check.status),
                check.status.as_str(),
                check.id.as_str(),
                check.duration_ms,
                cell(&check.summary)
            );
        }
    }
    let manual: Vec<_> = ITEMS
        .iter()
        .filter_map(|item| session.manual.get(item.id).map(|r| (item, r)))
        .filter(|(_, r)| r.verdict.is_some() || !r.notes.is_empty())
        .collect();
    if !manual.is_empty() {
        let _ = writeln!(out, "\n### Manual steps\n");
        for (item, record) in manual {
            let verdict = record.verdict.map_or("not judged", |v| v.label());
            let notes = if record.notes.is_empty() {
                String::new()
            } else {
                format!(": {}", record.notes.replace('\n', " "))
            };
            let _ = writeln!(out, "- **{}**: {verdict}{notes}", item.title);
        }
    }
    if !session.streams.is_empty() {
        let _ = writeln!(
            out,
            "\n### Streams\n\n| # | provider | path | format | track | frames | RMS | peak | gaps | late | closed |\n|---|---|---|---|---|---:|---:|---:|---:|---:|---|"
        );
        for (i, stream) in session.streams.iter().enumerate() {
            let s = &stream.summary;
            let format = s.media_format.as_ref().map_or("-".to_string(), |f| {
                format!("{}/{}", f.encoding, f.sample_rate)
            });
            let closed = s
                .closed
                .as_ref()
                .map_or("open".to_string(), ToString::to_string);
            for (name, track) in &s.tracks {
                let _ = writeln!(
                    out,
                    "| {} | {} | `{}` | {format} | {name} | {} | {} | {} | {} | {} | {} |",
                    i + 1,
                    s.protocol.as_deref().unwrap_or("-"),
                    cell(&s.path),
                    track.frames,
                    dbfs_text(track.rms_dbfs),
                    dbfs_text(track.peak_dbfs),
                    track.sequence_gaps,
                    track.late_frames,
                    cell(&closed)
                );
            }
        }
    }
    if let Some(conversation) = &session.conversation {
        let _ = writeln!(out);
        out.push_str(&super::converse::markdown(conversation).replacen("## ", "### ", 1));
    }
    if !session.webhooks.is_empty() {
        let _ = writeln!(out, "\n### Webhooks\n");
        for hook in &session.webhooks {
            let _ = writeln!(
                out,
                "- {} `{}` (signature {}){}",
                clock::rfc3339(hook.received_at),
                hook.event_type,
                hook.signature.as_str(),
                hook.failure_reason
                    .as_ref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            );
        }
    }
    let evidence: Vec<_> = session
        .checks
        .iter()
        .filter(|_| evidence)
        .map(|c| (c.id, key_evidence(c)))
        .filter(|(_, lines)| !lines.is_empty())
        .collect();
    if !evidence.is_empty() {
        let _ = writeln!(out, "\n### Evidence\n");
        for (id, lines) in evidence {
            let _ = writeln!(out, "**{}**\n```\n{}\n```", id.as_str(), lines.join("\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{CauseId, FoundBy, Severity};
    use crate::diagnosis::{Cause, Diagnosis};

    #[test]
    fn a_summary_over_the_limit_keeps_its_verdict_and_causes() {
        let cause = Cause {
            id: CauseId::TcpRefused,
            check: FoundBy::Check(crate::catalog::CheckId::Tcp),
            severity: Severity::Fail,
            title: "refused".into(),
            summary: "x k3y".repeat(1250),
            fix: "start it".into(),
        };
        let session = Session {
            target: "wss://h/p".into(),
            diagnosis: Some(Diagnosis {
                reachable: false,
                causes: vec![cause],
            }),
            ..Session::default()
        };
        let full = render(&session);
        let none = Redactor::new();
        assert_eq!(render_within(&session, full.len(), &none), full);
        // Each three-byte secret grows into a ten-byte mask: the limit holds after masking.
        let key = Redactor::of(["k3y"]);
        assert!(key.mask(&full).len() > full.len());
        let masked = render_within(&session, full.len(), &key);
        assert!(masked.len() <= full.len(), "{}", masked.len());
        assert!(!masked.contains("k3y") && masked.contains("[redacted]"));
        let cut = render_within(&session, 2000, &none);
        assert!(cut.len() <= 2000, "{}", cut.len());
        assert!(cut.starts_with("## Stream Doctor: "));
        assert!(cut.contains("tcp.refused"));
        assert!(cut.ends_with(EVIDENCE_CUT));
    }
}
