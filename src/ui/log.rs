//! The timeline: timestamped events of the session (what was tried, what came back), copyable.

use egui::RichText;

use crate::clock;
use crate::session::Session;

#[derive(Default)]
pub(crate) struct LogView;

impl LogView {
    pub(crate) fn ui(&mut self, ui: &mut egui::Ui, session: &Session) {
        ui.horizontal(|ui| {
            ui.label(RichText::new("Timeline").strong());
            ui.label(RichText::new(format!("{} event(s)", session.log.len())).weak());
            if ui
                .button("Copy timeline")
                .on_hover_text("Copy every line, with times, for a ticket")
                .clicked()
            {
                ui.ctx().copy_text(session.log_text());
            }
        });
        let row_height = ui.text_style_height(&egui::TextStyle::Monospace);
        egui::ScrollArea::vertical()
            .id_salt("timeline")
            .stick_to_bottom(true)
            .auto_shrink([false, false])
            .show_rows(ui, row_height, session.log.len(), |ui, rows| {
                for entry in &session.log[rows] {
                    let line = format!("{} {}", clock::timeline_text(entry.at), entry.text);
                    ui.label(RichText::new(line).monospace());
                }
            });
    }
}
