//! "Compare with a report…": this session and a report from another place, side by side,
//! check by check, the rows that differ marked, and the causes only the difference shows.

use egui::RichText;

use super::status_text;
use crate::catalog::Severity;
use crate::compare::{Comparison, Seen};

#[derive(Default)]
pub struct CompareView {
    /// The file compared with, and the comparison.
    pub shown: Option<(String, Comparison)>,
}

pub(crate) enum CompareAction {
    Close,
}

fn seen_cell(ui: &mut egui::Ui, seen: Option<&Seen>) {
    match seen {
        Some(seen) => {
            let dark = ui.visuals().dark_mode;
            ui.horizontal_wrapped(|ui| {
                ui.label(status_text(seen.status, dark));
                ui.label(&seen.summary);
            });
        }
        None => {
            ui.label(RichText::new("not run").weak());
        }
    }
}

impl CompareView {
    pub(crate) fn ui(&mut self, ui: &mut egui::Ui) -> Option<CompareAction> {
        let (file, comparison) = self.shown.as_ref()?;
        let mut action = None;
        ui.horizontal(|ui| {
            ui.label(RichText::new(format!("Compared with {file}")).strong());
            if ui.button("Close comparison").clicked() {
                action = Some(CompareAction::Close);
            }
        });
        if comparison.diagnosis.causes.is_empty() {
            ui.label("No difference between the two places names a cause.");
        }
        for cause in &comparison.diagnosis.causes {
            let color = match cause.severity {
                Severity::Fail => ui.visuals().error_fg_color,
                Severity::Warn => ui.visuals().warn_fg_color,
                Severity::Info => ui.visuals().hyperlink_color,
            };
            ui.label(RichText::new(&cause.title).strong().color(color))
                .on_hover_text(cause.id.as_str());
            ui.label(&cause.summary);
            ui.label(RichText::new(format!("Fix: {}", cause.fix)).italics());
        }
        egui::Grid::new("compare")
            .striped(true)
            .num_columns(4)
            .spacing([10.0, 4.0])
            .show(ui, |ui| {
                ui.label("");
                ui.label(RichText::new("check").strong());
                ui.label(
                    RichText::new(format!("here: {}", comparison.here.vantage.label)).strong(),
                );
                ui.label(
                    RichText::new(format!("there: {}", comparison.there.vantage.label)).strong(),
                );
                ui.end_row();
                for (id, here, there) in &comparison.rows {
                    let differs =
                        here.as_ref().map(|s| s.status) != there.as_ref().map(|s| s.status);
                    if differs {
                        ui.label(
                            RichText::new("≠")
                                .strong()
                                .color(ui.visuals().warn_fg_color),
                        )
                        .on_hover_text("The two places disagree here");
                    } else {
                        ui.label("");
                    }
                    ui.label(id.as_str());
                    seen_cell(ui, here.as_ref());
                    seen_cell(ui, there.as_ref());
                    ui.end_row();
                }
            });
        ui.separator();
        action
    }
}
