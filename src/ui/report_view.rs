//! The report view: a preview of the session's report, Copy as Markdown, Export (Markdown,
//! HTML, JSON) through a save dialog, and Open report to read a saved JSON session.

use egui::RichText;

use crate::report::Format;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportAction {
    CopyMarkdown,
    Export(Format),
    Open,
    CloseSaved,
}

#[derive(Default)]
pub struct ReportView {
    /// What the last export or open did, in words.
    pub status: Option<String>,
}

impl ReportView {
    /// `markdown` is the preview; `saved` names the report being viewed read-only, if any.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        markdown: &str,
        saved: Option<&str>,
    ) -> Option<ReportAction> {
        let mut action = None;
        ui.heading("Report");
        ui.label(RichText::new("Everything this session found, for a ticket (Markdown), a stakeholder (one self-contained HTML file) or a script (JSON). Tokens and header values never appear in it.").weak());
        ui.horizontal(|ui| {
            if ui
                .button("Copy as Markdown")
                .on_hover_text("Paste it into a ticket or a chat")
                .clicked()
            {
                action = Some(ReportAction::CopyMarkdown);
            }
            ui.separator();
            for (label, format, tip) in [
                (
                    "Export Markdown…",
                    Format::Markdown,
                    "Save the report as a .md file",
                ),
                (
                    "Export HTML…",
                    Format::Html,
                    "One file with no external assets: open it anywhere, print it",
                ),
                (
                    "Export JSON…",
                    Format::Json,
                    "The whole session, for scripts; Open report reads it back",
                ),
            ] {
                if ui.button(label).on_hover_text(tip).clicked() {
                    action = Some(ReportAction::Export(format));
                }
            }
            ui.separator();
            if ui
                .button("Open report…")
                .on_hover_text("Read a session a teammate saved as JSON (read-only)")
                .clicked()
            {
                action = Some(ReportAction::Open);
            }
            if saved.is_some() && ui.button("Close report").clicked() {
                action = Some(ReportAction::CloseSaved);
            }
        });
        if let Some(status) = &self.status {
            ui.label(status);
        }
        ui.separator();
        egui::ScrollArea::vertical()
            .id_salt("report-preview")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                ui.add(egui::Label::new(RichText::new(markdown).monospace()).selectable(true));
            });
        action
    }
}
