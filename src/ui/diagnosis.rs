//! The diagnosis panel: the verdict in plain words at the top, then each cause with its
//! evidence and its fix, with a copyable snippet where a config or code change is the fix.

use egui::RichText;

use super::glossary;
use crate::catalog::Severity;
use crate::checklist::{ITEMS, Verdict};
use crate::diagnosis::{Cause, snippet};
use crate::session::Session;

#[derive(Default)]
pub(crate) struct DiagnosisView;

/// The verdict as a person reads it.
pub(crate) fn verdict_text(session: &Session) -> Option<(Severity, String)> {
    let diagnosis = session.diagnosis.as_ref()?;
    let cause = diagnosis.verdict()?;
    let text = match cause.severity {
        Severity::Fail => format!("The provider cannot connect: {}", cause.title),
        Severity::Warn if diagnosis.reachable => format!("It works from here, but {}", cause.title),
        Severity::Warn => format!("Warning: {}", cause.title),
        Severity::Info => format!("All clear: {}", cause.title),
    };
    Some((cause.severity, text))
}

impl DiagnosisView {
    /// `demo` says the target is the built-in demo, whose loopback address is expected.
    pub(crate) fn ui(&mut self, ui: &mut egui::Ui, session: &Session, demo: bool) {
        ui.heading("Diagnosis");
        let Some((severity, verdict)) = verdict_text(session) else {
            ui.add_space(8.0);
            ui.label("Nothing checked yet.");
            ui.label(RichText::new("Press ▶ Run all (Ctrl+Enter) to check the target step by step. The verdict, its evidence and a fix appear here.").weak());
            return;
        };
        let visuals = ui.visuals().clone();
        let color = match severity {
            Severity::Fail => visuals.error_fg_color,
            Severity::Warn => visuals.warn_fg_color,
            Severity::Info => visuals.hyperlink_color,
        };
        ui.label(RichText::new(verdict).size(18.0).strong().color(color));
        let private_only = session.diagnosis.as_ref().is_some_and(|d| {
            d.reachable
                && d.verdict().map(|c| c.id) == Some(crate::catalog::CauseId::DnsPrivateAddress)
        });
        if demo && private_only {
            ui.label("This warning is expected here: the demo server runs on this computer (127.0.0.1), which a provider on the internet could never reach. Everything else passed.");
        }
        ui.add_space(6.0);
        let Some(diagnosis) = &session.diagnosis else {
            return;
        };
        egui::ScrollArea::vertical()
            .id_salt("diagnosis")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                for (i, cause) in diagnosis.causes.iter().enumerate() {
                    let icon = match cause.severity {
                        Severity::Fail => "✖",
                        Severity::Warn => "⚠",
                        Severity::Info => "✔",
                    };
                    let header = RichText::new(format!("{icon} {}", cause.title)).strong();
                    egui::CollapsingHeader::new(header)
                        .id_salt(("cause", cause.id.as_str()))
                        .default_open(i == 0)
                        .show(ui, |ui| cause_ui(ui, cause));
                }
                noted_problems_ui(ui, session);
            });
    }
}

/// One cause: what was seen, the fix, and a snippet where one helps.
fn cause_ui(ui: &mut egui::Ui, cause: &Cause) {
    let id = ui.label(RichText::new(cause.id.as_str()).monospace().weak());
    let terms = cause.check.check().map(glossary::terms_for).unwrap_or(&[]);
    if let Some(text) = terms.first().and_then(|t| glossary::explain(t)) {
        id.on_hover_text(text);
    }
    ui.label(RichText::new("What was seen").strong());
    ui.label(&cause.summary);
    ui.label(RichText::new("Fix").strong());
    ui.label(&cause.fix);
    ui.horizontal(|ui| {
        if ui
            .button("Copy fix")
            .on_hover_text("Copy the fix as text")
            .clicked()
        {
            ui.ctx().copy_text(cause.fix.clone());
        }
    });
    if let Some(code) = snippet(cause.id) {
        let mut shown = code.to_string();
        ui.add(
            egui::TextEdit::multiline(&mut shown)
                .font(egui::TextStyle::Monospace)
                .desired_width(f32::INFINITY),
        );
        if ui.button("Copy snippet").clicked() {
            ui.ctx().copy_text(code.to_string());
        }
    }
}

/// The manual steps the person marked as a problem, with their notes.
fn noted_problems_ui(ui: &mut egui::Ui, session: &Session) {
    let problems: Vec<_> = ITEMS
        .iter()
        .filter_map(|item| session.manual.get(item.id).map(|r| (item, r)))
        .filter(|(_, r)| r.verdict == Some(Verdict::Problem))
        .collect();
    if problems.is_empty() {
        return;
    }
    ui.separator();
    ui.label(RichText::new("Problems you noted").strong());
    for (item, record) in problems {
        let notes = if record.notes.is_empty() {
            "(no notes)"
        } else {
            record.notes.as_str()
        };
        ui.label(format!("✖ {}: {notes}", item.title));
    }
}
