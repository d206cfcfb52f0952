//! Renderers, for people and scripts: a session as Markdown for a ticket or a chat, one
//! self-contained HTML page for stakeholders (inline SVG levels, collapsible evidence), or JSON
//! for scripts; a check run as coloured text for the terminal (`text`); and the printouts of
//! `listen` and `replay` (`streams`); what the provider's API answered (`api`). Secrets reach
//! none of them.

pub mod api;
pub mod compare;
pub mod converse;
pub mod html;
pub mod json;
pub mod markdown;
pub mod streams;
pub mod text;

use crate::catalog::Severity;
use crate::check::evidence::{Evidence, Reached, VariantKind, VariantOutcome};
use crate::check::{CheckResult, Status};
use crate::clock;
use crate::diagnosis::Diagnosis;
use crate::records::certificate;
use crate::secret::Redactor;
use crate::session::Session;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Html,
    Json,
}

impl Format {
    #[cfg(feature = "gui")]
    pub(crate) fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Html => "html",
            Format::Json => "json",
        }
    }
}

/// Renders `session` as `format`, masked by `redactor`: the session's secrets and any URL's
/// password never reach a report, whichever way it leaves.
pub fn render(session: &Session, format: Format, redactor: &Redactor) -> String {
    let text = match format {
        Format::Markdown => markdown::render(session),
        Format::Html => html::render(session),
        Format::Json => json::render(session),
    };
    redactor.mask(&text)
}

/// A status as a symbol that reads without colour (and that egui's bundled fonts can draw).
pub(crate) fn status_icon(status: Status) -> &'static str {
    match status {
        Status::Pass => "✔",
        Status::Warn => "⚠",
        Status::Fail => "✖",
        Status::Skip => "–",
        Status::Error => "‼",
    }
}

pub(crate) fn severity_icon(severity: Severity) -> &'static str {
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
pub(crate) fn dbfs_text(value: Option<f64>) -> String {
    value.map_or("silent".to_string(), |v| format!("{v:.1} dBFS"))
}

/// The few lines of evidence a person looks at first for each check.
pub(crate) fn key_evidence(check: &CheckResult) -> Vec<String> {
    let mut lines = Vec::new();
    match &check.details {
        Evidence::Tls(tls) => {
            if let Some(by) = &tls.answered_by {
                lines.push(format!("certificate of {} ({})", by.describe(), by.because));
            }
            for entry in &tls.chain {
                let Some(cert) = entry.cert() else {
                    lines.push(certificate::UNREADABLE.to_string());
                    continue;
                };
                let names = if cert.names.is_empty() {
                    String::new()
                } else {
                    format!(" names {}", cert.names.join(", "))
                };
                lines.push(format!(
                    "{} (issuer {}, {} .. {}){names}",
                    cert.subject,
                    cert.issuer,
                    clock::minutes::text(cert.not_before),
                    clock::minutes::text(cert.not_after),
                ));
            }
        }
        Evidence::Upgrade(upgrade) => {
            let exchange = &upgrade.exchange;
            lines.extend(exchange.status_line.clone());
            if let Some(by) = &upgrade.answered_by {
                lines.push(format!("answered by {} ({})", by.describe(), by.because));
            }
            for (name, value) in exchange.headers.iter().take(8) {
                lines.push(format!("{name}: {value}"));
            }
            if !exchange.body_excerpt.is_empty() {
                let body: String = exchange.body_excerpt.chars().take(120).collect();
                lines.push(format!("body: {body:?}"));
            }
            for retry in upgrade.retry.iter().map(|r| &**r).chain(&upgrade.further) {
                let answer = retry
                    .exchange
                    .status_line
                    .clone()
                    .or_else(|| retry.exchange.problem.as_ref().map(ToString::to_string))
                    .unwrap_or_default();
                lines.push(format!(
                    "another attempt ({}) {:.1} s later: {answer}",
                    retry.why.describe(),
                    retry.after_ms / 1000.0
                ));
            }
        }
        Evidence::Paths(paths) => {
            let answer = |variant: &VariantOutcome| match &variant.reached {
                Reached::NotConnected { problem } => problem.clone(),
                Reached::Answered {
                    status_line: Some(line),
                    ..
                } => line.clone(),
                Reached::Answered {
                    problem: Some(problem),
                    ..
                } => problem.to_string(),
                Reached::Answered { .. } => String::new(),
            };
            // The target and every variant that upgraded, one line each; the rest grouped by
            // their answer, which is usually one and the same.
            let mut others: Vec<(String, usize)> = Vec::new();
            for variant in &paths.variants {
                if variant.kind == VariantKind::Target || variant.upgraded {
                    lines.push(format!("{:<34} {}", variant.path, answer(variant)));
                    continue;
                }
                let text = answer(variant);
                match others.iter_mut().find(|(seen, _)| *seen == text) {
                    Some((_, count)) => *count += 1,
                    None => others.push((text, 1)),
                }
            }
            for (text, count) in others {
                lines.push(format!(
                    "{:<34} {text}",
                    format!("({count} other variant(s))")
                ));
            }
        }
        Evidence::Dns(dns) => {
            if !dns.cname_chain.is_empty() {
                lines.push(format!("CNAME chain: {}", dns.cname_chain.join(" -> ")));
            }
            if let Some(by) = &dns.answered_by {
                lines.push(format!(
                    "the name belongs to {} ({})",
                    by.describe(),
                    by.because
                ));
            }
        }
        Evidence::Tcp(tcp) => {
            for attempt in &tcp.attempts {
                lines.push(format!("{} {}", attempt.address, attempt.result));
            }
        }
        _ => {}
    }
    lines
}
