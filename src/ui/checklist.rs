//! The checklist: every step of the troubleshooting page with its status, duration and
//! one-line summary; automatic steps run and cancel here, manual ones take a verdict and notes;
//! expanding a step shows its evidence.

use crate::ui::runs::Running;

use egui::RichText;

use super::{glossary, status_text};
use crate::catalog::CheckId;
use crate::check::CheckResult;
use crate::check::evidence::TlsEvidence;
use crate::checklist::{
    ITEMS, Item, ItemKind, ManualStep, Verdict, provider_evidence, suggested_verdict,
};
use crate::clock;
use crate::records::certificate::{self, ChainEntry};
use crate::report::key_evidence;
use crate::session::Session;
use crate::ui::runs::Runs;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChecklistAction {
    Run(CheckId),
    Cancel(CheckId),
    /// Place the call of the "bot answers" step.
    Talk,
    /// Hang up that call.
    HangUp,
}

#[derive(Default)]
pub(crate) struct ChecklistView;

impl ChecklistView {
    pub(crate) fn ui(
        &mut self,
        ui: &mut egui::Ui,
        session: &mut Session,
        runs: &Runs,
        can_run: bool,
        read_only: bool,
        talking: bool,
    ) -> Option<ChecklistAction> {
        let mut action = None;
        ui.heading("Checklist");
        ui.label(
            RichText::new("Automatic steps run with one click (or all at once with Ctrl+Enter; Esc cancels). Manual steps tell you what to look for and keep your verdict.")
                .weak(),
        );
        ui.add_space(4.0);
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                for item in ITEMS {
                    let frame = egui::Frame::group(ui.style()).inner_margin(6.0);
                    frame.show(ui, |ui| {
                        ui.set_width(ui.available_width());
                        match item.kind {
                            ItemKind::Check(id) => {
                                if let Some(a) = check_item_ui(
                                    ui,
                                    item,
                                    id,
                                    session.result(id),
                                    runs.running(id),
                                    can_run,
                                ) {
                                    action = Some(a);
                                }
                            }
                            ItemKind::Manual(step) => {
                                ui.add_enabled_ui(!read_only, |ui| {
                                    manual_item_ui(ui, item, step, session)
                                });
                            }
                            ItemKind::Conversation => {
                                if let Some(a) =
                                    conversation_item_ui(ui, item, session, talking, can_run)
                                {
                                    action = Some(a);
                                }
                            }
                        }
                    });
                }
            });
        action
    }
}

/// The "bot answers" step: its verdict once called, the call in flight, or the button.
fn conversation_item_ui(
    ui: &mut egui::Ui,
    item: &Item,
    session: &Session,
    talking: bool,
    can_run: bool,
) -> Option<ChecklistAction> {
    let mut action = None;
    let verdict = session
        .conversation
        .as_ref()
        .and_then(|c| c.diagnosis.causes.first());
    ui.horizontal(|ui| {
        match (talking, verdict) {
            (true, _) => {
                ui.spinner();
                ui.label(RichText::new("Talking…").strong());
            }
            (false, Some(cause)) => {
                let status = match cause.severity {
                    crate::catalog::Severity::Fail => crate::check::Status::Fail,
                    crate::catalog::Severity::Warn => crate::check::Status::Warn,
                    crate::catalog::Severity::Info => crate::check::Status::Pass,
                };
                ui.label(status_text(status, ui.visuals().dark_mode));
            }
            (false, None) => {
                ui.label(RichText::new("○ Not run").weak());
            }
        }
        ui.label(RichText::new(item.title).strong())
            .on_hover_text(item.explain);
        ui.label(RichText::new("[converse]").monospace().weak());
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if talking {
                if ui
                    .button("Hang up")
                    .on_hover_text("End the call now")
                    .clicked()
                {
                    action = Some(ChecklistAction::HangUp);
                }
            } else if ui
                .add_enabled(can_run, egui::Button::new("Talk to it"))
                .on_hover_text("Place the call (about 10 s): best once the checks pass")
                .clicked()
            {
                action = Some(ChecklistAction::Talk);
            }
        });
    });
    ui.label(
        RichText::new(format!("Answers: {}", item.answers))
            .small()
            .weak(),
    );
    if let Some(cause) = verdict {
        ui.label(format!("[{}] {}", cause.id.as_str(), cause.summary));
    }
    action
}

fn check_item_ui(
    ui: &mut egui::Ui,
    item: &Item,
    id: CheckId,
    result: Option<&CheckResult>,
    running: Option<&Running>,
    can_run: bool,
) -> Option<ChecklistAction> {
    let mut action = None;
    let dark = ui.visuals().dark_mode;
    ui.horizontal(|ui| {
        match (running, result) {
            (Some(running), _) => {
                ui.spinner();
                ui.label(RichText::new("Running…").strong());
                if let Some((why, attempt)) = running.retrying {
                    ui.label(format!("attempt {attempt} ({})", why.describe()))
                        .on_hover_text("The first answer could change on another try (a platform waking a sleeping service, a header the provider does not send): the check asks again before it judges.");
                }
            }
            (None, Some(r)) => {
                ui.label(status_text(r.status, dark));
            }
            (None, None) => {
                ui.label(RichText::new("○ Not run").weak());
            }
        }
        let mut title = ui
            .label(RichText::new(item.title).strong())
            .on_hover_text(item.explain);
        for term in glossary::terms_for(id) {
            if let Some(text) = glossary::explain(term) {
                title = title.on_hover_text(format!("{term}: {text}"));
            }
        }
        ui.label(
            RichText::new(format!("[{}]", id.as_str()))
                .monospace()
                .weak(),
        );
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if let Some(started) = running.map(|r| r.since) {
                if ui
                    .button("Cancel")
                    .on_hover_text("Stop this step (Esc stops everything)")
                    .clicked()
                {
                    action = Some(ChecklistAction::Cancel(id));
                }
                ui.label(
                    RichText::new(format!("{:.1} s", started.elapsed().as_secs_f64())).monospace(),
                );
            } else {
                let run =
                    ui.add_enabled(can_run, egui::Button::new(format!("Run {}", id.as_str())));
                if run
                    .on_hover_text("Run this step (and the steps it needs)")
                    .clicked()
                {
                    action = Some(ChecklistAction::Run(id));
                }
                if let Some(r) = result.filter(|r| r.duration_ms > 0.0) {
                    ui.label(
                        RichText::new(format!("{:.1} ms", r.duration_ms))
                            .monospace()
                            .weak(),
                    );
                }
            }
        });
    });
    ui.label(
        RichText::new(format!("Answers: {}", item.answers))
            .small()
            .weak(),
    );
    if let Some(result) = result {
        ui.label(&result.summary);
        egui::CollapsingHeader::new("Evidence")
            .id_salt(("evidence", id.as_str()))
            .show(ui, |ui| evidence_ui(ui, result));
    }
    action
}

/// The evidence of one check: its key lines (chain, status line and headers, variants…), then
/// everything it recorded.
pub(crate) fn evidence_ui(ui: &mut egui::Ui, result: &CheckResult) {
    if let Some(tls) = result.details.tls() {
        chain_table(ui, tls);
    } else {
        let lines = key_evidence(result);
        if !lines.is_empty() {
            let mut text = lines.join("\n");
            ui.add(
                egui::TextEdit::multiline(&mut text)
                    .font(egui::TextStyle::Monospace)
                    .desired_rows(2)
                    .interactive(true),
            );
        }
    }
    for finding in &result.findings {
        ui.label(format!("• {}: {}", finding.cause.as_str(), finding.summary));
    }
    egui::CollapsingHeader::new("Everything recorded (JSON)")
        .id_salt(("json", result.id.as_str()))
        .show(ui, |ui| {
            let mut json = serde_json::to_string_pretty(&result.details).unwrap_or_default();
            ui.add(
                egui::TextEdit::multiline(&mut json)
                    .font(egui::TextStyle::Monospace)
                    .desired_width(f32::INFINITY),
            );
        });
}

fn chain_table(ui: &mut egui::Ui, tls: &TlsEvidence) {
    if let Some(session) = &tls.session {
        ui.label(format!("version: {}", session.version));
        ui.label(format!("cipher: {}", session.cipher));
        if let Some(alpn) = &session.alpn {
            ui.label(format!("alpn: {alpn}"));
        }
    }
    if tls.chain.is_empty() {
        ui.label("The server sent no certificate.");
        return;
    }
    ui.label(format!(
        "Certificates the server sent ({}):",
        tls.chain.len()
    ));
    egui::Grid::new("chain")
        .striped(true)
        .num_columns(5)
        .show(ui, |ui| {
            for header in ["#", "subject", "issuer", "valid from", "valid until"] {
                ui.label(RichText::new(header).strong());
            }
            ui.end_row();
            for (i, entry) in tls.chain.iter().enumerate() {
                ui.label(i.to_string());
                match entry {
                    ChainEntry::Cert(cert) => {
                        ui.label(&cert.subject);
                        ui.label(&cert.issuer);
                        ui.label(clock::minutes::text(cert.not_before));
                        ui.label(clock::minutes::text(cert.not_after));
                    }
                    ChainEntry::Unreadable { error } => {
                        ui.label(certificate::UNREADABLE).on_hover_text(error);
                    }
                }
                ui.end_row();
            }
        });
}

fn manual_item_ui(ui: &mut egui::Ui, item: &Item, step: ManualStep, session: &mut Session) {
    let record = session.manual.get(item.id).cloned().unwrap_or_default();
    ui.horizontal(|ui| {
        let (text, tip) = match record.verdict {
            Some(Verdict::Ok) => ("✔ Looks fine", "You marked this step fine"),
            Some(Verdict::Problem) => ("✖ Problem", "You found a problem here"),
            Some(Verdict::Skipped) => ("– Skipped", "You skipped this step"),
            None => ("✋ Manual", "A step for you: Stream Doctor cannot see this"),
        };
        ui.label(RichText::new(text).strong()).on_hover_text(tip);
        ui.label(RichText::new(item.title).strong())
            .on_hover_text(item.explain);
    });
    ui.label(
        RichText::new(format!("Answers: {}", item.answers))
            .small()
            .weak(),
    );
    egui::CollapsingHeader::new("What to look for")
        .id_salt(("manual", item.id))
        .default_open(record.verdict.is_none())
        .show(ui, |ui| {
            ui.label(item.explain);
            for thing in step.look_for {
                ui.label(format!("• {thing}"));
            }
            ui.label(RichText::new(format!("Healthy: {}", step.healthy)).italics());
            ui.label(RichText::new(format!("Unhealthy: {}", step.unhealthy)).italics());
            provider_evidence_ui(ui, item, &record, session);
            ui.horizontal(|ui| {
                for verdict in Verdict::ALL {
                    let selected = record.verdict == Some(verdict);
                    if ui.selectable_label(selected, verdict.label()).clicked() && !selected {
                        session.set_verdict(item.id, verdict);
                    }
                }
            });
            ui.add(
                egui::TextEdit::multiline(session.notes_mut(item.id))
                    .hint_text("Notes: what you saw, where, when")
                    .desired_rows(2)
                    .desired_width(f32::INFINITY),
            );
        });
}

/// What the provider's own record already says about this step, and the verdict it suggests.
fn provider_evidence_ui(
    ui: &mut egui::Ui,
    item: &Item,
    record: &crate::session::ManualRecord,
    session: &mut Session,
) {
    let evidence = provider_evidence(item.id, &session.findings);
    if evidence.is_empty() {
        return;
    }
    ui.label(RichText::new("The provider's record (Provider tab) says:").strong());
    for finding in &evidence {
        ui.label(format!("• {}", finding.summary));
    }
    if let Some(verdict) = suggested_verdict(&evidence)
        && record.verdict.is_none()
        && ui
            .button(format!("Use suggested verdict: {}", verdict.label()))
            .on_hover_text("The provider's own record answers this step; you still decide")
            .clicked()
    {
        session.set_verdict(item.id, verdict);
    }
}
