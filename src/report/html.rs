//! One self-contained HTML page: no external assets, no scripts. Readable on a phone, printable;
//! the level history as inline SVG; the certificate chain and raw headers in collapsible
//! sections. Written with `maud`, which escapes every value by construction.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::{dbfs_text, key_evidence, severity_icon, status_icon, verdict_line};
use crate::audio::meter::{FLOOR_DBFS, LevelPoint};
use crate::catalog::Severity;
use crate::check::evidence::Evidence;
use crate::check::{CheckResult, Status};
use crate::checklist::ITEMS;
use crate::clock;
use crate::diagnosis::snippet;
use crate::records::certificate::{self, ChainEntry};
use crate::session::{Session, StreamRecord};

/// `text` as HTML would show it, for tests that look for a string in the page.
pub fn escape(text: &str) -> String {
    html! { (text) }.into_string()
}

/// `text` with its `backtick spans` as <code>, as the Markdown shows them.
fn prose(text: &str) -> Markup {
    html! {
        @for (i, piece) in text.split('`').enumerate() {
            @if i % 2 == 1 { code { (piece) } } @else { (piece) }
        }
    }
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;line-height:1.45;color:#1f2328}\
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:1.6rem;border-bottom:1px solid #d0d7de}\
table{border-collapse:collapse;width:100%;font-size:.95rem}td,th{border-bottom:1px solid #d0d7de;padding:.3rem .4rem;text-align:left;vertical-align:top}\
.pass{color:#1a7f37}.warn{color:#9a6700}.fail,.error{color:#cf222e}.skip,.info{color:#57606a}\
.verdict{padding:.6rem .8rem;border-radius:6px;background:#f6f8fa;border-left:6px solid #57606a}.verdict.fail{border-color:#cf222e}.verdict.warn{border-color:#9a6700}.verdict.info{border-color:#1a7f37}\
pre{background:#f6f8fa;padding:.5rem;overflow-x:auto;white-space:pre-wrap;word-break:break-word}code{font-size:.9em}\
details{margin:.3rem 0}summary{cursor:pointer}svg{width:100%;height:auto;background:#fbfcfd;border:1px solid #d0d7de}\
.meta{color:#57606a;font-size:.9rem}@media print{details{display:block}details>*{display:block}body{max-width:none}}";

const TRACK_COLORS: [&str; 4] = ["#0969da", "#bf3989", "#1a7f37", "#9a6700"];

/// A self-contained page around `body`, in the reports' style.
pub(crate) fn page(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width,initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body { h1 { (title) } (body) }
        }
    }
    .into_string()
}

pub(crate) fn render(session: &Session) -> String {
    let verdict = verdict_line(&session.checks, session.diagnosis.as_ref());
    let severity = session
        .diagnosis
        .as_ref()
        .and_then(|d| d.verdict())
        .map_or("info", |c| c.severity.as_str());
    let ended = session
        .ended_at
        .map(|e| format!(" to {}", clock::rfc3339(e)))
        .unwrap_or_default();
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width,initial-scale=1";
                title { "Stream Doctor: " (session.target) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "Stream Doctor report" }
                p class={ "verdict " (severity) } { strong { (verdict) } }
                p.meta {
                    "Target " code { (session.target) } br;
                    "Checked " (clock::rfc3339(session.started_at)) (ended)
                    " by " (session.tool.name) " " (session.tool.version) " on " (session.host_os)
                }
                (causes(session))
                (checks(session))
                (manual(session))
                @for (i, stream) in session.streams.iter().enumerate() {
                    (stream_section(i + 1, stream))
                }
                @if let Some(conversation) = &session.conversation {
                    (super::converse::section(conversation))
                }
                @if !session.webhooks.is_empty() {
                    h2 { "Webhooks" }
                    table {
                        tr { th { "received" } th { "event" } th { "signature" } th { "reason" } }
                        @for hook in &session.webhooks {
                            tr {
                                td { (clock::rfc3339(hook.received_at)) }
                                td { code { (hook.event_type) } }
                                td { (hook.signature.as_str()) }
                                td { (hook.failure_reason.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
        }
    };
    page.into_string() + "\n"
}

fn causes(session: &Session) -> Markup {
    let Some(diagnosis) = session.diagnosis.as_ref().filter(|d| !d.causes.is_empty()) else {
        return html! {};
    };
    html! {
        h2 { "Causes" }
        ol {
            @for cause in &diagnosis.causes {
                li {
                    span class=(cause.severity.as_str()) {
                        strong { (severity_icon(cause.severity)) " " (cause.title) }
                    }
                    " " code { (cause.id.as_str()) } br;
                    (prose(&cause.summary)) br;
                    em { "Fix:" } " " (prose(&cause.fix))
                    @if let Some(code) = snippet(cause.id).filter(|_| cause.severity == Severity::Fail) {
                        pre { code { (code) } }
                    }
                }
            }
        }
    }
}

fn checks(session: &Session) -> Markup {
    if session.checks.is_empty() {
        return html! {};
    }
    html! {
        h2 { "Checks" }
        table {
            tr { th {} th { "check" } th { "time" } th { "result" } }
            @for check in &session.checks {
                tr {
                    td class=(check.status.as_str()) {
                        (status_icon(check.status)) " " (check.status.as_str())
                    }
                    td { (check.id.as_str()) }
                    td { (format!("{:.1}\u{a0}ms", check.duration_ms)) }
                    td { (check.summary) (evidence(check)) }
                }
            }
        }
    }
}

/// Collapsible evidence: the certificate chain, the raw answer to the upgrade, the variants.
fn evidence(check: &CheckResult) -> Markup {
    if check.status == Status::Skip {
        return html! {};
    }
    match &check.details {
        Evidence::Tls(tls) if !tls.chain.is_empty() => html! {
            details {
                summary { "Certificate chain (" (tls.chain.len()) " sent)" }
                table {
                    tr { th { "subject" } th { "issuer" } th { "valid" } th { "names" } }
                    @for entry in &tls.chain {
                        @match entry {
                            ChainEntry::Cert(cert) => {
                                tr {
                                    td { (cert.subject) }
                                    td { (cert.issuer) }
                                    td {
                                        (clock::minutes::text(cert.not_before)) " to "
                                        (clock::minutes::text(cert.not_after))
                                    }
                                    td { (cert.names.join(", ")) }
                                }
                            },
                            ChainEntry::Unreadable { .. } => {
                                tr { td colspan="4" { (certificate::UNREADABLE) } }
                            },
                        }
                    }
                }
            }
        },
        Evidence::Tls(_) => html! {},
        Evidence::Upgrade(exchange) => html! {
            details {
                summary { "Raw request and answer" }
                pre { (exchange.exchange.request.trim_end()) }
                pre { (key_evidence(check).join("\n")) }
            }
        },
        _ => {
            let lines = key_evidence(check);
            html! {
                @if !lines.is_empty() {
                    details { summary { "Evidence" } pre { (lines.join("\n")) } }
                }
            }
        }
    }
}

fn manual(session: &Session) -> Markup {
    let rows: Vec<_> = ITEMS
        .iter()
        .filter_map(|item| session.manual.get(item.id).map(|r| (item, r)))
        .filter(|(_, r)| r.verdict.is_some() || !r.notes.is_empty())
        .collect();
    if rows.is_empty() {
        return html! {};
    }
    html! {
        h2 { "Manual steps" }
        table {
            tr { th { "step" } th { "verdict" } th { "notes" } }
            @for (item, record) in rows {
                tr {
                    td { (item.title) }
                    td { (record.verdict.map_or("not judged", |v| v.label())) }
                    td {
                        @for (i, line) in record.notes.lines().enumerate() {
                            @if i > 0 { br; }
                            (line)
                        }
                    }
                }
            }
        }
    }
}

fn stream_section(number: usize, stream: &StreamRecord) -> Markup {
    let s = &stream.summary;
    let format = s.media_format.as_ref().map_or("no start".to_string(), |f| {
        format!("{} / {} Hz", f.encoding, f.sample_rate)
    });
    let closed = s
        .closed
        .as_ref()
        .map(|c| format!(", {c}"))
        .unwrap_or_default();
    html! {
        h2 { "Stream " (number) ": " (s.protocol.as_deref().unwrap_or("unknown")) " " (format) }
        p.meta {
            "Path " code { (s.path) } ", " (format)
            ", stream " code { (s.stream_id.as_deref().unwrap_or("-")) }
            ", call " code { (s.call_control_id.as_deref().unwrap_or("-")) }
            (format!(", {:.1} s", s.duration_ms / 1000.0)) (closed)
        }
        table {
            tr {
                th { "track" } th { "frames" } th { "RMS" } th { "peak" }
                th { "gaps" } th { "out of order" } th { "late" }
            }
            @for (name, track) in &s.tracks {
                tr {
                    td { (name) }
                    td { (track.frames) }
                    td { (dbfs_text(track.rms_dbfs)) }
                    td { (dbfs_text(track.peak_dbfs)) }
                    td { (track.sequence_gaps) }
                    td { (track.out_of_order) }
                    td { (track.late_frames) }
                }
            }
        }
        @if stream.levels.values().any(|points| !points.is_empty()) {
            (level_svg(stream))
        }
    }
}

/// RMS (solid) and peak (faint) dBFS over time, one colour a track, from −96 to 0 dBFS.
fn level_svg(stream: &StreamRecord) -> Markup {
    const WIDTH: f64 = 720.0;
    const HEIGHT: f64 = 180.0;
    const LEFT: f64 = 40.0;
    const BOTTOM: f64 = 20.0;
    let end_ms = stream
        .levels
        .values()
        .flat_map(|p| p.iter().map(|x| x.at_ms))
        .fold(0.0f64, f64::max)
        .max(20.0);
    let x = |ms: f64| LEFT + (ms / end_ms) * (WIDTH - LEFT - 10.0);
    let y = |db: Option<f64>| {
        let v = db.unwrap_or(FLOOR_DBFS).max(FLOOR_DBFS);
        10.0 + (v / FLOOR_DBFS) * (HEIGHT - BOTTOM - 10.0)
    };
    let line = |points: &[LevelPoint], pick: fn(&LevelPoint) -> Option<f64>| -> String {
        points
            .iter()
            .map(|p| format!("{:.1},{:.1}", x(p.at_ms), y(pick(p))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let at = |v: f64| format!("{v:.1}");
    html! {
        svg viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } xmlns="http://www.w3.org/2000/svg"
            role="img" aria-label="audio levels over time" {
            @for db in [0.0, -24.0, -48.0, -72.0, -96.0] {
                line x1=(LEFT) x2=(WIDTH - 10.0) y1=(at(y(Some(db)))) y2=(at(y(Some(db))))
                    stroke="#d0d7de" stroke-width="0.5" {}
                text x="4" y=(at(y(Some(db)) + 3.0)) font-size="9" fill="#57606a" { (db) }
            }
            text x=(LEFT) y=(HEIGHT - 4.0) font-size="9" fill="#57606a" { "0 s" }
            text x=(WIDTH - 10.0) y=(HEIGHT - 4.0) font-size="9" fill="#57606a" text-anchor="end" {
                (format!("{:.1} s", end_ms / 1000.0))
            }
            @for (i, (name, points)) in stream.levels.iter().enumerate() {
                @let color = TRACK_COLORS[i % TRACK_COLORS.len()];
                polyline fill="none" stroke=(color) stroke-opacity="0.35" stroke-width="1"
                    points=(line(points, |p| p.peak_dbfs)) {}
                polyline fill="none" stroke=(color) stroke-width="1.5"
                    points=(line(points, |p| p.rms_dbfs)) {}
                text x=(LEFT + 6.0 + 150.0 * i as f64) y="22" font-size="10" fill=(color) {
                    (name) " RMS (peak faint)"
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backtick_spans_become_code() {
        let shown = |text: &str| prose(text).into_string();
        assert_eq!(
            shown("use `a<b` and `c`"),
            "use <code>a&lt;b</code> and <code>c</code>"
        );
        assert_eq!(shown("no code"), "no code");
        assert_eq!(shown("odd `one"), "odd <code>one</code>");
    }

    #[test]
    fn values_are_escaped_by_construction() {
        let session = Session {
            target: "wss://h.example/<script>alert(1)</script>".into(),
            ..Session::default()
        };
        let page = render(&session);
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;"));
    }
}
