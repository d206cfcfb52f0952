//! A simple self-contained HTML page of a check report: no external assets, no scripts.

use std::fmt::Write;

use super::{key_evidence, severity_icon, status_icon, verdict_line};
use crate::check::{CheckReport, Status};

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

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;line-height:1.4}\
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ccc;padding:.3rem;text-align:left;vertical-align:top}\
.pass{color:#1a7f37}.warn{color:#9a6700}.fail,.error{color:#cf222e}.skip{color:#6e7781}pre{background:#f6f8fa;padding:.5rem;overflow-x:auto}";

pub fn render(report: &CheckReport) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>Stream Doctor: {}</title><style>{STYLE}</style></head><body>",
        escape(&report.target)
    );
    let _ = write!(
        out,
        "<h1>{}</h1><p>Target <code>{}</code>, checked {} in {:.2} s.</p>",
        escape(&verdict_line(report)),
        escape(&report.target),
        escape(&report.started_at),
        report.duration_ms / 1000.0
    );
    if !report.diagnosis.causes.is_empty() {
        out.push_str("<h2>Causes</h2><ol>");
        for cause in &report.diagnosis.causes {
            let _ = write!(
                out,
                "<li class=\"{}\"><b>{} {}</b> <code>{}</code>: {}<br>Fix: {}</li>",
                cause.severity.as_str(),
                severity_icon(cause.severity),
                escape(&cause.title),
                cause.id.as_str(),
                escape(&cause.summary),
                escape(&cause.fix)
            );
        }
        out.push_str("</ol>");
    }
    out.push_str(
        "<h2>Checks</h2><table><tr><th></th><th>check</th><th>time</th><th>result</th></tr>",
    );
    for check in &report.checks {
        let class = check.status.as_str();
        let evidence = key_evidence(check);
        let _ = write!(
            out,
            "<tr><td class=\"{class}\">{} {class}</td><td>{}</td><td>{:.1} ms</td><td>{}{}</td></tr>",
            status_icon(check.status),
            check.id.as_str(),
            check.duration_ms,
            escape(&check.summary),
            if evidence.is_empty() || check.status == Status::Skip {
                String::new()
            } else {
                format!("<pre>{}</pre>", escape(&evidence.join("\n")))
            }
        );
    }
    out.push_str("</table></body></html>\n");
    out
}
