//! What `compare` prints: the two places side by side, check by check, the differences marked
//! (≠), and the causes only the difference shows, as text, JSON, Markdown or one HTML page.

use std::fmt::Write;

use maud::{DOCTYPE, html};

use super::{severity_icon, status_icon};
use crate::compare::{Comparison, Seen, Side};

fn place(side: &Side) -> String {
    let verdict = side.verdict.map_or("no verdict", |v| v.as_str());
    format!(
        "{} (host {}, {}; verdict {verdict})",
        side.vantage.label,
        side.vantage.hostname,
        if side.vantage.ipv6 { "IPv6" } else { "no IPv6" }
    )
}

fn cell(seen: Option<&Seen>) -> String {
    seen.map_or("not run".to_string(), |s| {
        format!("{} {}", status_icon(s.status), s.summary)
    })
}

fn differs(here: Option<&Seen>, there: Option<&Seen>) -> bool {
    here.map(|s| s.status) != there.map(|s| s.status)
}

pub fn json(comparison: &Comparison) -> String {
    serde_json::to_string_pretty(comparison).unwrap_or_default() + "\n"
}

pub fn text(comparison: &Comparison) -> String {
    let mut out = format!(
        "{}\n  here:  {}\n  there: {}\n\n",
        comparison.target,
        place(&comparison.here),
        place(&comparison.there)
    );
    for (id, here, there) in &comparison.rows {
        let mark = if differs(here.as_ref(), there.as_ref()) {
            "≠"
        } else {
            " "
        };
        let _ = writeln!(
            out,
            "{mark} {:<9} here:  {}\n  {:<9} there: {}",
            id.as_str(),
            cell(here.as_ref()),
            "",
            cell(there.as_ref())
        );
    }
    if comparison.diagnosis.causes.is_empty() {
        out.push_str("\nNo difference between the two places names a cause.\n");
    }
    for cause in &comparison.diagnosis.causes {
        let _ = writeln!(
            out,
            "\n{} {} ({})\n   {}\n   fix: {}",
            severity_icon(cause.severity),
            cause.title,
            cause.id.as_str(),
            cause.summary,
            cause.fix
        );
    }
    out
}

pub fn markdown(comparison: &Comparison) -> String {
    let esc = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let mut out = format!(
        "## Stream Doctor: compare `{}`\n\n- here: {}\n- there: {}\n\n| | check | here | there |\n|---|---|---|---|\n",
        comparison.target,
        place(&comparison.here),
        place(&comparison.there)
    );
    for (id, here, there) in &comparison.rows {
        let mark = if differs(here.as_ref(), there.as_ref()) {
            "≠"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "| {mark} | {} | {} | {} |",
            id.as_str(),
            esc(&cell(here.as_ref())),
            esc(&cell(there.as_ref()))
        );
    }
    if !comparison.diagnosis.causes.is_empty() {
        out.push_str("\n### What the difference shows\n\n");
    }
    for (i, cause) in comparison.diagnosis.causes.iter().enumerate() {
        super::markdown::numbered_cause(&mut out, i + 1, cause);
    }
    out
}

pub fn html(comparison: &Comparison) -> String {
    const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:70rem;margin:1rem auto;padding:0 1rem;line-height:1.45;color:#1f2328}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #d0d7de;padding:.3rem .4rem;text-align:left;vertical-align:top}tr.differs{background:#fff8c5}.fail{color:#cf222e}.warn{color:#9a6700}.meta{color:#57606a}";
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Stream Doctor: compare " (comparison.target) }
                style { (STYLE) }
            }
            body {
                h1 { "Compare " code { (comparison.target) } }
                p.meta { "here: " (place(&comparison.here)) br; "there: " (place(&comparison.there)) }
                table {
                    thead { tr { th { "" } th { "check" } th { "here" } th { "there" } } }
                    tbody {
                        @for (id, here, there) in &comparison.rows {
                            @let marked = differs(here.as_ref(), there.as_ref());
                            tr class=(if marked { "differs" } else { "" }) {
                                td { @if marked { "≠" } }
                                td { (id.as_str()) }
                                td { (cell(here.as_ref())) }
                                td { (cell(there.as_ref())) }
                            }
                        }
                    }
                }
                @if !comparison.diagnosis.causes.is_empty() {
                    h2 { "What the difference shows" }
                    ol {
                        @for cause in &comparison.diagnosis.causes {
                            li {
                                span class=(cause.severity.as_str()) { (severity_icon(cause.severity)) " " strong { (cause.title) } }
                                " " code { (cause.id.as_str()) }
                                p { (cause.summary) }
                                p { em { "Fix: " } (cause.fix) }
                            }
                        }
                    }
                }
            }
        }
    }
    .into_string()
}
