//! One self-contained HTML page: no external assets, no scripts. Readable on a phone, printable;
//! the level history as inline SVG; the certificate chain and raw headers in collapsible
//! sections.

use std::fmt::Write;

use super::{dbfs_text, key_evidence, severity_icon, status_icon, verdict_line};
use crate::audio::meter::{FLOOR_DBFS, LevelPoint};
use crate::check::{CheckId, CheckResult, Status};
use crate::checklist::ITEMS;
use crate::diagnosis::{Severity, snippet};
use crate::session::{Session, StreamRecord};

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes `text`, then turns `backtick spans` into <code> as the Markdown would.
fn prose(text: &str) -> String {
    let escaped = escape(text);
    let mut out = String::with_capacity(escaped.len());
    let mut open = false;
    for piece in escaped.split('`') {
        if !out.is_empty() || open {
            out.push_str(if open { "<code>" } else { "</code>" });
        }
        out.push_str(piece);
        open = !open;
    }
    if !open {
        // An odd backtick count: close the last span rather than leave the tag open.
        out.push_str("</code>");
    }
    out
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

pub fn render(session: &Session) -> String {
    let mut out = String::new();
    let verdict = verdict_line(&session.checks, session.diagnosis.as_ref());
    let severity = session
        .diagnosis
        .as_ref()
        .and_then(|d| d.verdict())
        .map_or("info", |c| c.severity.as_str());
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>Stream Doctor: {}</title><style>{STYLE}</style></head><body>",
        escape(&session.target)
    );
    let _ = write!(
        out,
        "<h1>Stream Doctor report</h1><p class=\"verdict {severity}\"><strong>{}</strong></p><p class=\"meta\">Target <code>{}</code><br>Checked {}{} by {} {} on {}</p>",
        escape(&verdict),
        escape(&session.target),
        escape(&session.started_at),
        session
            .ended_at
            .as_ref()
            .map(|e| format!(" to {}", escape(e)))
            .unwrap_or_default(),
        escape(&session.tool.name),
        escape(&session.tool.version),
        escape(&session.host_os)
    );
    causes(&mut out, session);
    checks(&mut out, session);
    manual(&mut out, session);
    for (i, stream) in session.streams.iter().enumerate() {
        stream_section(&mut out, i + 1, stream);
    }
    if !session.webhooks.is_empty() {
        out.push_str("<h2>Webhooks</h2><table><tr><th>received</th><th>event</th><th>signature</th><th>reason</th></tr>");
        for hook in &session.webhooks {
            let _ = write!(
                out,
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                escape(&hook.received_at),
                escape(&hook.event_type),
                escape(&hook.signature),
                escape(hook.failure_reason.as_deref().unwrap_or(""))
            );
        }
        out.push_str("</table>");
    }
    out.push_str("</body></html>\n");
    out
}

fn causes(out: &mut String, session: &Session) {
    let Some(diagnosis) = session.diagnosis.as_ref().filter(|d| !d.causes.is_empty()) else {
        return;
    };
    out.push_str("<h2>Causes</h2><ol>");
    for cause in &diagnosis.causes {
        let _ = write!(
            out,
            "<li><span class=\"{}\"><strong>{} {}</strong></span> <code>{}</code><br>{}<br><em>Fix:</em> {}",
            cause.severity.as_str(),
            severity_icon(cause.severity),
            escape(&cause.title),
            cause.id.as_str(),
            prose(&cause.summary),
            prose(&cause.fix)
        );
        if let Some(code) = snippet(cause.id).filter(|_| cause.severity == Severity::Fail) {
            let _ = write!(out, "<pre><code>{}</code></pre>", escape(code));
        }
        out.push_str("</li>");
    }
    out.push_str("</ol>");
}

fn checks(out: &mut String, session: &Session) {
    if session.checks.is_empty() {
        return;
    }
    out.push_str(
        "<h2>Checks</h2><table><tr><th></th><th>check</th><th>time</th><th>result</th></tr>",
    );
    for check in &session.checks {
        let class = check.status.as_str();
        let _ = write!(
            out,
            "<tr><td class=\"{class}\">{} {class}</td><td>{}</td><td>{:.1}&nbsp;ms</td><td>{}{}</td></tr>",
            status_icon(check.status),
            check.id.as_str(),
            check.duration_ms,
            escape(&check.summary),
            evidence(check)
        );
    }
    out.push_str("</table>");
}

/// Collapsible evidence: the certificate chain, the raw answer to the upgrade, the variants.
fn evidence(check: &CheckResult) -> String {
    if check.status == Status::Skip {
        return String::new();
    }
    let d = &check.details;
    match check.id {
        CheckId::Tls => {
            let Some(chain) = d
                .get("chain")
                .and_then(|c| c.as_array())
                .filter(|c| !c.is_empty())
            else {
                return String::new();
            };
            let mut html = format!(
                "<details><summary>Certificate chain ({} sent)</summary><table><tr><th>subject</th><th>issuer</th><th>valid</th><th>names</th></tr>",
                chain.len()
            );
            let text = |v: &serde_json::Value, k: &str| {
                escape(v.get(k).and_then(|x| x.as_str()).unwrap_or_default())
            };
            for cert in chain {
                if let Some(error) = cert.get("error").and_then(|e| e.as_str()) {
                    let _ = write!(html, "<tr><td colspan=\"4\">{}</td></tr>", escape(error));
                    continue;
                }
                let names: Vec<String> = cert
                    .get("names")
                    .and_then(|n| n.as_array())
                    .map(|n| n.iter().filter_map(|x| x.as_str()).map(escape).collect())
                    .unwrap_or_default();
                let _ = write!(
                    html,
                    "<tr><td>{}</td><td>{}</td><td>{} to {}</td><td>{}</td></tr>",
                    text(cert, "subject"),
                    text(cert, "issuer"),
                    text(cert, "not_before"),
                    text(cert, "not_after"),
                    names.join(", ")
                );
            }
            html.push_str("</table></details>");
            html
        }
        CheckId::Upgrade => {
            let request = d
                .get("request")
                .and_then(|r| r.as_str())
                .unwrap_or_default();
            let answer = key_evidence(check).join("\n");
            format!(
                "<details><summary>Raw request and answer</summary><pre>{}</pre><pre>{}</pre></details>",
                escape(request.trim_end()),
                escape(&answer)
            )
        }
        _ => {
            let lines = key_evidence(check);
            if lines.is_empty() {
                String::new()
            } else {
                format!(
                    "<details><summary>Evidence</summary><pre>{}</pre></details>",
                    escape(&lines.join("\n"))
                )
            }
        }
    }
}

fn manual(out: &mut String, session: &Session) {
    let rows: Vec<_> = ITEMS
        .iter()
        .filter_map(|item| session.manual.get(item.id).map(|r| (item, r)))
        .filter(|(_, r)| r.verdict.is_some() || !r.notes.is_empty())
        .collect();
    if rows.is_empty() {
        return;
    }
    out.push_str(
        "<h2>Manual steps</h2><table><tr><th>step</th><th>verdict</th><th>notes</th></tr>",
    );
    for (item, record) in rows {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(item.title),
            record.verdict.map_or("not judged", |v| v.label()),
            escape(&record.notes).replace('\n', "<br>")
        );
    }
    out.push_str("</table>");
}

fn stream_section(out: &mut String, number: usize, stream: &StreamRecord) {
    let s = &stream.summary;
    let format = s.media_format.as_ref().map_or("no start".to_string(), |f| {
        format!("{} / {} Hz", f.encoding, f.sample_rate)
    });
    let _ = write!(
        out,
        "<h2>Stream {number}: {} {}</h2><p class=\"meta\">Path <code>{}</code>, {}, stream <code>{}</code>, call <code>{}</code>, {:.1} s{}</p>",
        escape(s.protocol.as_deref().unwrap_or("unknown")),
        escape(&format),
        escape(&s.path),
        escape(&format),
        escape(s.stream_id.as_deref().unwrap_or("-")),
        escape(s.call_control_id.as_deref().unwrap_or("-")),
        s.duration_ms / 1000.0,
        s.closed
            .as_ref()
            .map(|c| format!(
                ", closed by {} {}",
                escape(&c.by),
                c.code.map(|c| c.to_string()).unwrap_or_default()
            ))
            .unwrap_or_default()
    );
    out.push_str("<table><tr><th>track</th><th>frames</th><th>RMS</th><th>peak</th><th>gaps</th><th>out of order</th><th>late</th></tr>");
    for (name, track) in &s.tracks {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(name),
            track.frames,
            dbfs_text(track.rms_dbfs),
            dbfs_text(track.peak_dbfs),
            track.sequence_gaps,
            track.out_of_order,
            track.late_frames
        );
    }
    out.push_str("</table>");
    if stream.levels.values().any(|points| !points.is_empty()) {
        out.push_str(&level_svg(stream));
    }
}

/// RMS (solid) and peak (faint) dBFS over time, one colour a track, from −96 to 0 dBFS.
fn level_svg(stream: &StreamRecord) -> String {
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
    let mut svg = format!(
        "<svg viewBox=\"0 0 {WIDTH} {HEIGHT}\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"audio levels over time\">"
    );
    for db in [0.0, -24.0, -48.0, -72.0, -96.0] {
        let yy = y(Some(db));
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#d0d7de\" stroke-width=\"0.5\"/><text x=\"4\" y=\"{:.1}\" font-size=\"9\" fill=\"#57606a\">{db}</text>",
            WIDTH - 10.0,
            yy + 3.0
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{LEFT}\" y=\"{}\" font-size=\"9\" fill=\"#57606a\">0 s</text><text x=\"{}\" y=\"{}\" font-size=\"9\" fill=\"#57606a\" text-anchor=\"end\">{:.1} s</text>",
        HEIGHT - 4.0,
        WIDTH - 10.0,
        HEIGHT - 4.0,
        end_ms / 1000.0
    );
    let line = |points: &[LevelPoint], pick: fn(&LevelPoint) -> Option<f64>| -> String {
        points
            .iter()
            .map(|p| format!("{:.1},{:.1}", x(p.at_ms), y(pick(p))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    for (i, (name, points)) in stream.levels.iter().enumerate() {
        let color = TRACK_COLORS[i % TRACK_COLORS.len()];
        let _ = write!(
            svg,
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-opacity=\"0.35\" stroke-width=\"1\" points=\"{}\"/><polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\"{}\"/><text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"{color}\">{} RMS (peak faint)</text>",
            line(points, |p| p.peak_dbfs),
            line(points, |p| p.rms_dbfs),
            LEFT + 6.0 + 150.0 * i as f64,
            22.0,
            escape(name)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backtick_spans_become_code() {
        assert_eq!(
            prose("use `a<b` and `c`"),
            "use <code>a&lt;b</code> and <code>c</code>"
        );
        assert_eq!(prose("no code"), "no code");
        assert_eq!(prose("odd `one"), "odd <code>one</code>");
    }
}
