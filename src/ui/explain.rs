//! The error-code field: a person pastes what the provider's console shows (Twilio's 319xx, a
//! Telnyx `failure_reason`) and reads what it means, which checks answer it, and runs them.

use egui::RichText;

use crate::catalog::CheckId;
use crate::explain::{self, Source};

#[derive(Default)]
pub struct ExplainView {
    pub code: String,
}

impl ExplainView {
    /// The check to run (with everything it needs) when the person asks for it.
    pub(crate) fn ui(&mut self, ui: &mut egui::Ui, can_run: bool) -> Option<CheckId> {
        let mut run = None;
        egui::CollapsingHeader::new("Have an error code from the provider?")
            .id_salt("explain")
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.label("Code:");
                    ui.add(
                        egui::TextEdit::singleline(&mut self.code)
                            .hint_text("31920 or connection_failed")
                            .desired_width(160.0),
                    )
                    .on_hover_text("Twilio's Debugger shows 319xx codes; Telnyx's streaming.failed webhook has a failure_reason");
                });
                if self.code.trim().is_empty() {
                    return;
                }
                let Some(found) = explain::explain(&self.code) else {
                    ui.label(RichText::new("Not a code this tool knows yet.").weak());
                    return;
                };
                let source = match found.source {
                    Source::Twilio => "Twilio",
                    Source::Telnyx => "Telnyx",
                };
                ui.label(RichText::new(format!("{source} {}: {}", found.code, found.title)).strong());
                ui.label(found.meaning);
                let Some(scope) = found.scope() else {
                    ui.label(RichText::new("No check of the stream URL answers it: look at the call or the provider's settings.").weak());
                    return;
                };
                let checks: Vec<&str> = found.checks.iter().map(|c| c.as_str()).collect();
                ui.label(format!("Checks that answer it: {}", checks.join(", ")));
                let button = ui.add_enabled(can_run, egui::Button::new("▶ Run these checks"));
                if button
                    .on_hover_text("Runs the checks above (and the ones they need) on the target")
                    .clicked()
                {
                    run = Some(scope);
                }
            });
        run
    }
}
