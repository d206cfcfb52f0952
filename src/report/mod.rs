//! Renderings of a check report for people: the key evidence of each check, Markdown for a
//! ticket and a simple self-contained HTML page. (JSON is the report's own serde form.)

pub mod html;
pub mod markdown;

use crate::check::{CheckId, CheckReport, CheckResult, Status};
use crate::diagnosis::Severity;

/// A status as a symbol that reads without colour.
pub fn status_icon(status: Status) -> &'static str {
    match status {
        Status::Pass => "✓",
        Status::Warn => "!",
        Status::Fail => "✗",
        Status::Skip => "-",
        Status::Error => "‼",
    }
}

pub fn severity_icon(severity: Severity) -> &'static str {
    match severity {
        Severity::Fail => "✗",
        Severity::Warn => "!",
        Severity::Info => "✓",
    }
}

/// The one-line verdict every rendering starts with.
pub fn verdict_line(report: &CheckReport) -> String {
    if let Some(broken) = report.checks.iter().find(|c| c.status == Status::Error) {
        return format!(
            "The check itself broke at '{}': {}",
            broken.id.as_str(),
            broken.summary
        );
    }
    match report.diagnosis.verdict() {
        Some(cause) if cause.severity == Severity::Fail => {
            format!(
                "The provider cannot connect: {} ({})",
                cause.title,
                cause.id.as_str()
            )
        }
        Some(cause) if cause.severity == Severity::Warn => {
            format!(
                "Reachable from here, but {} ({})",
                cause.title,
                cause.id.as_str()
            )
        }
        Some(cause) => format!("All clear: {}", cause.title),
        None => "No verdict: the checks did not get far enough".into(),
    }
}

/// The few lines of evidence a person looks at first for each check.
pub fn key_evidence(check: &CheckResult) -> Vec<String> {
    let d = &check.details;
    let mut lines = Vec::new();
    match check.id {
        CheckId::Tls => {
            for cert in d
                .get("chain")
                .and_then(|c| c.as_array())
                .into_iter()
                .flatten()
            {
                match cert.get("error") {
                    Some(e) => {
                        lines.push(format!("certificate: {}", e.as_str().unwrap_or_default()))
                    }
                    None => lines.push(format!(
                        "{} (issuer {}, {} .. {}){}",
                        text(cert, "subject"),
                        text(cert, "issuer"),
                        text(cert, "not_before"),
                        text(cert, "not_after"),
                        match cert.get("names").and_then(|n| n.as_array()) {
                            Some(names) if !names.is_empty() => format!(
                                " names {}",
                                names
                                    .iter()
                                    .filter_map(|n| n.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                            _ => String::new(),
                        }
                    )),
                }
            }
        }
        CheckId::Upgrade => {
            if let Some(line) = d.get("status_line").and_then(|s| s.as_str()) {
                lines.push(line.to_string());
            }
            for pair in d
                .get("headers")
                .and_then(|h| h.as_array())
                .into_iter()
                .flatten()
                .take(8)
            {
                if let Some([name, value]) = pair.as_array().map(|p| p.as_slice()) {
                    lines.push(format!(
                        "{}: {}",
                        name.as_str().unwrap_or_default(),
                        value.as_str().unwrap_or_default()
                    ));
                }
            }
            if let Some(body) = d
                .get("body_excerpt")
                .and_then(|b| b.as_str())
                .filter(|b| !b.is_empty())
            {
                lines.push(format!(
                    "body: {:?}",
                    body.chars().take(120).collect::<String>()
                ));
            }
        }
        CheckId::Paths => {
            for row in d
                .get("variants")
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
            {
                let answer = row
                    .get("status_line")
                    .and_then(|s| s.as_str())
                    .map(String::from)
                    .or_else(|| row.get("problem").map(|p| p.to_string()))
                    .unwrap_or_default();
                lines.push(format!("{:<34} {answer}", text(row, "path")));
            }
        }
        CheckId::Tcp => {
            for row in d
                .get("attempts")
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
            {
                lines.push(format!("{} {}", text(row, "address"), text(row, "result")));
            }
        }
        _ => {}
    }
    lines
}

fn text(value: &serde_json::Value, key: &str) -> String {
    match value.get(key) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}
