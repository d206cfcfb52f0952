//! Markdown for a ticket or a chat message: verdict first, a table of checks, the causes with
//! their fixes, then the evidence that matters.

use std::fmt::Write;

use super::{key_evidence, severity_icon, status_icon, verdict_line};
use crate::check::CheckReport;
use crate::diagnosis::snippet;

fn indent(code: &str) -> String {
    code.lines()
        .map(|l| format!("   {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

pub fn render(report: &CheckReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## Stream Doctor: {}\n", verdict_line(report));
    let _ = writeln!(
        out,
        "Target `{}`, checked {} in {:.2} s by {} {}.\n",
        report.target,
        report.started_at,
        report.duration_ms / 1000.0,
        report.tool.name,
        report.tool.version
    );
    if !report.diagnosis.causes.is_empty() {
        let _ = writeln!(out, "### Causes\n");
        for (i, cause) in report.diagnosis.causes.iter().enumerate() {
            let _ = writeln!(
                out,
                "{}. {} **{}** `{}`: {}  \n   Fix: {}",
                i + 1,
                severity_icon(cause.severity),
                cause.title,
                cause.id.as_str(),
                cause.summary,
                cause.fix
            );
            if let Some(code) = snippet(cause.id) {
                let _ = writeln!(out, "   ```\n{}\n   ```", indent(code));
            }
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "### Checks\n\n| | check | time | result |\n|---|---|---:|---|"
    );
    for check in &report.checks {
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
    let evidence: Vec<_> = report
        .checks
        .iter()
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
