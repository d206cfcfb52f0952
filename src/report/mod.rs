//! Reports of a session, for people and scripts: Markdown for a ticket or a chat, one
//! self-contained HTML page for stakeholders (inline SVG levels, collapsible evidence), and
//! JSON for scripts. All three render the same `Session`; secrets reach none of them.

pub mod html;
pub mod json;
pub mod markdown;

use crate::check::{CheckId, CheckResult, Status};
use crate::diagnosis::{Diagnosis, Severity};
use crate::session::Session;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Html,
    Json,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Html => "html",
            Format::Json => "json",
        }
    }
}

/// Renders `session` as `format`, with every value in `secrets` masked as a last defence.
pub fn render(session: &Session, format: Format, secrets: &[&str]) -> String {
    let text = match format {
        Format::Markdown => markdown::render(session),
        Format::Html => html::render(session),
        Format::Json => json::render(session),
    };
    crate::secret::scrub(&text, secrets)
}

/// A status as a symbol that reads without colour (and that egui's bundled fonts can draw).
pub fn status_icon(status: Status) -> &'static str {
    match status {
        Status::Pass => "✔",
        Status::Warn => "⚠",
        Status::Fail => "✖",
        Status::Skip => "–",
        Status::Error => "‼",
    }
}

pub fn severity_icon(severity: Severity) -> &'static str {
    match severity {
        Severity::Fail => "✖",
        Severity::Warn => "⚠",
        Severity::Info => "✔",
    }
}

/// The one-line verdict every rendering starts with.
pub fn verdict_line(checks: &[CheckResult], diagnosis: Option<&Diagnosis>) -> String {
    if let Some(broken) = checks.iter().find(|c| c.status == Status::Error) {
        return format!(
            "The check itself broke at '{}': {}",
            broken.id.as_str(),
            broken.summary
        );
    }
    match diagnosis.and_then(Diagnosis::verdict) {
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
        None if checks.is_empty() => "No checks were run".into(),
        None => "No verdict: the checks did not get far enough".into(),
    }
}

/// A dBFS value as reports print it.
pub fn dbfs_text(value: Option<f64>) -> String {
    value.map_or("silent".to_string(), |v| format!("{v:.1} dBFS"))
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
