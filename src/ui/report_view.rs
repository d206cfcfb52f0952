//! The report view: a preview of the session's report, Copy as Markdown, Export (Markdown,
//! HTML, JSON) through a save dialog, and Open report to read a saved JSON session.

use egui::RichText;

use crate::report::Format;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReportAction {
    CopyMarkdown,
    Export(Format),
    Open,
    CloseSaved,
    /// Put a report from another place beside this session.
    Compare,
}

/// What the preview was rendered from: the preview is rendered again only when it changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PreviewKey {
    pub revision: u64,
    pub streams: usize,
    pub closed_streams: usize,
    /// While a stream is open its levels move: the second they were read in.
    pub live_second: Option<u64>,
    pub viewing_saved: bool,
}

#[derive(Default)]
pub(crate) struct ReportView {
    /// What the last export or open did, in words.
    pub status: Option<String>,
    preview: Option<(PreviewKey, String)>,
    renders: u64,
}

impl ReportView {
    /// Whether the preview kept was made from something other than `key`.
    pub(crate) fn is_stale(&self, key: PreviewKey) -> bool {
        self.preview.as_ref().is_none_or(|(kept, _)| *kept != key)
    }

    /// Keeps `markdown` as the preview of `key`.
    pub(crate) fn set_preview(&mut self, key: PreviewKey, markdown: String) {
        self.preview = Some((key, markdown));
        self.renders += 1;
    }

    /// Forgets the preview, for a change the key cannot see (another saved report opened).
    pub(crate) fn invalidate(&mut self) {
        self.preview = None;
    }

    /// How many times the preview was rendered.
    pub(crate) fn renders(&self) -> u64 {
        self.renders
    }

    /// `saved` names the report being viewed read-only, if any.
    pub(crate) fn ui(&mut self, ui: &mut egui::Ui, saved: Option<&str>) -> Option<ReportAction> {
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
            if ui
                .button("Compare with a report…")
                .on_hover_text("A JSON report of the same URL from another place (CI, the deployed side, a teammate): the two side by side, and what the difference shows")
                .clicked()
            {
                action = Some(ReportAction::Compare);
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
                let markdown = self.preview.as_ref().map_or("", |(_, text)| text.as_str());
                ui.add(egui::Label::new(RichText::new(markdown).monospace()).selectable(true));
            });
        action
    }
}
