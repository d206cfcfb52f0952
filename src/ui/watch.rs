//! "Watch a deployed listener": its address and token (in memory only), the state of the
//! link, and the buttons. The streams it brings show in the live view like local ones.

use egui::RichText;

use crate::engine::WatchStatus;
use crate::server::mirror::Following;

#[derive(Default)]
pub struct WatchPanel {
    pub url: String,
    /// Never saved, never shown in clear.
    pub token: String,
    pub watching: bool,
    /// The link's state in words, and whether it is healthy.
    pub status: Option<(String, bool)>,
}

pub(crate) enum WatchAction {
    Start { url: String, token: Option<String> },
    Stop,
}

impl WatchPanel {
    pub(crate) fn update(&mut self, status: &WatchStatus) {
        let (text, healthy) = match status {
            WatchStatus::Connecting { .. } => (format!("Connecting to {}…", self.url), true),
            WatchStatus::Link(Following::Connected) => (
                format!(
                    "✔ Connected to {}: the streams below are the deployed listener's",
                    self.url
                ),
                true,
            ),
            WatchStatus::Link(Following::Reconnecting { why, after }) => (
                format!(
                    "Link lost ({why}); trying again in {:.0} s",
                    after.as_secs_f64()
                ),
                false,
            ),
            WatchStatus::Link(Following::Stopped { why }) => {
                self.watching = false;
                (format!("Not watching: {why}"), false)
            }
        };
        self.status = Some((text, healthy));
    }

    pub(crate) fn ui(&mut self, ui: &mut egui::Ui) -> Option<WatchAction> {
        let mut action = None;
        egui::CollapsingHeader::new(RichText::new("Watch a deployed listener").strong())
            .id_salt("watch")
            .default_open(self.watching)
            .show(ui, |ui| {
                ui.label(RichText::new("A listener deployed on your platform (see the README) shows what the provider sends it: watch it here, streams and levels as if it ran on this computer.").weak());
                ui.horizontal(|ui| {
                    ui.label("Address").on_hover_text("The deployed listener's base URL: wss://HOST (or ws://HOST:PORT); its /monitor is used");
                    ui.add_enabled(
                        !self.watching,
                        egui::TextEdit::singleline(&mut self.url)
                            .hint_text("wss://listener.up.railway.app")
                            .desired_width(280.0),
                    );
                    ui.label("Token").on_hover_text("The listener's STREAM_DOCTOR_TOKEN, sent as a Bearer token; kept in memory only");
                    ui.add_enabled(
                        !self.watching,
                        egui::TextEdit::singleline(&mut self.token)
                            .password(true)
                            .desired_width(160.0),
                    );
                    if self.watching {
                        if ui.button("Stop watching").clicked() {
                            action = Some(WatchAction::Stop);
                        }
                    } else if ui
                        .add_enabled(!self.url.trim().is_empty(), egui::Button::new("Watch"))
                        .on_disabled_hover_text("Type the listener's address first")
                        .clicked()
                    {
                        self.watching = true;
                        let token = self.token.trim();
                        action = Some(WatchAction::Start {
                            url: self.url.trim().to_string(),
                            token: (!token.is_empty()).then(|| token.to_string()),
                        });
                    }
                });
                if let Some((text, healthy)) = &self.status {
                    let color = if *healthy {
                        egui::Color32::from_rgb(60, 170, 90)
                    } else {
                        ui.visuals().warn_fg_color
                    };
                    ui.colored_label(color, text);
                }
            });
        action
    }
}
