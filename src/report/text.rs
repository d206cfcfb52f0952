//! A check run as text for the terminal: the verdict first, then each check with its time and
//! key evidence, then the causes with their fixes. Colours are ANSI styles that `anstream`
//! strips when the output is not a terminal.

use anstyle::{AnsiColor, Style};

use super::{key_evidence, severity_icon, status_icon, verdict_line};
use crate::catalog::{CheckId, Severity};
use crate::check::Status;
use crate::clock;
use crate::diagnosis::CheckReport;
use crate::diagnosis::snippet;
use crate::explain::{Explanation, Source};

fn style_of(status: Status) -> Style {
    let color = match status {
        Status::Pass => AnsiColor::Green,
        Status::Warn => AnsiColor::Yellow,
        Status::Fail | Status::Error => AnsiColor::Red,
        Status::Skip => AnsiColor::BrightBlack,
    };
    Style::new().fg_color(Some(color.into()))
}

/// Text for people: the verdict first, then each check with its time and key evidence, then
/// the causes with their fixes. Colour codes are stripped by anstream when not a terminal.
pub fn render(report: &CheckReport) -> String {
    let bold = Style::new().bold();
    let dim = Style::new().dimmed();
    let verdict_status = match report.diagnosis.verdict().map(|c| c.severity) {
        _ if !report.diagnosis.reachable => Status::Fail,
        Some(Severity::Warn) => Status::Warn,
        _ => Status::Pass,
    };
    let vs = style_of(verdict_status).bold();
    let mut out = format!(
        "{vs}{} {}{vs:#}\n{dim}{}  ({}, {:.2} s){dim:#}\n\n",
        status_icon(verdict_status),
        verdict_line(&report.checks, Some(&report.diagnosis)),
        report.target,
        clock::rfc3339(report.started_at),
        report.duration_ms / 1000.0
    );
    for check in &report.checks {
        let st = style_of(check.status);
        let time = if check.status == Status::Skip {
            String::new()
        } else {
            format!("{:.1} ms", check.duration_ms)
        };
        out.push_str(&format!(
            "  {st}{} {:<5}{st:#} {bold}{:<9}{bold:#} {time:>9}  {}\n",
            status_icon(check.status),
            check.status.as_str(),
            check.id.as_str(),
            check.summary
        ));
        // Evidence for what went wrong, and the chain always: it is what people ask about.
        if check.status != Status::Pass || check.id == CheckId::Tls {
            for line in key_evidence(check) {
                out.push_str(&format!("{dim}{:28}{line}{dim:#}\n", ""));
            }
        }
    }
    if !report.diagnosis.causes.is_empty() {
        out.push_str(&format!("\n{bold}Causes{bold:#}\n"));
        for (i, cause) in report.diagnosis.causes.iter().enumerate() {
            let st = style_of(match cause.severity {
                Severity::Fail => Status::Fail,
                Severity::Warn => Status::Warn,
                Severity::Info => Status::Pass,
            });
            out.push_str(&format!(
                "  {}. {st}{} {}{st:#}: {}\n     {}\n     {bold}fix:{bold:#} {}\n",
                i + 1,
                severity_icon(cause.severity),
                cause.id.as_str(),
                cause.title,
                cause.summary,
                cause.fix
            ));
            if let Some(code) = snippet(cause.id) {
                for line in code.lines() {
                    out.push_str(&format!("{dim}       {line}{dim:#}\n"));
                }
            }
        }
    }
    out
}

/// What a provider's error code means and which checks answer it.
pub fn explanation(e: &Explanation) -> String {
    let bold = Style::new().bold();
    let source = match e.source {
        Source::Twilio => "Twilio",
        Source::Telnyx => "Telnyx",
    };
    let mut out = format!(
        "{bold}{source} {}: {}{bold:#}\n{}\n",
        e.code, e.title, e.meaning
    );
    if e.checks.is_empty() {
        out.push_str("No check of the stream URL answers it: it is about the call or the provider's settings.\n");
        return out;
    }
    let checks: Vec<&str> = e.checks.iter().map(|c| c.as_str()).collect();
    out.push_str(&format!("Checks that answer it: {}\n", checks.join(", ")));
    if !e.causes.is_empty() {
        let causes: Vec<&str> = e.causes.iter().map(|c| c.as_str()).collect();
        out.push_str(&format!("Causes they can name: {}\n", causes.join(", ")));
    }
    let code = if e.code.contains(' ') {
        format!("'{}'", e.code)
    } else {
        e.code.to_string()
    };
    out.push_str(&format!(
        "Run them: stream-doctor explain {code} --check YOUR_STREAM_URL\n"
    ));
    out
}
