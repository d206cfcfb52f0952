//! The target bar: which server to check (the built-in demo, or a URL with its options), with
//! recent targets remembered across runs. The auth token is masked and never remembered.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::FilePicker;
use crate::check::options::CheckOptions;
use crate::demo::DemoMode;
use crate::engine::DemoInfo;
use crate::net::tls::load_certificates;
use crate::probe::dns::name_server;
use crate::records::address::ResolvePin;
use crate::secret::Secret;

const MAX_HISTORY: usize = 10;

/// What the target bar remembers between runs (never the token).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub use_demo: bool,
    pub demo_mode: String,
    pub url: String,
    pub history: Vec<String>,
    pub resolve: String,
    pub ca_file: Option<PathBuf>,
    /// A DNS server to ask instead of the system's (an address, port 53 unless given).
    pub dns_server: String,
    pub timeout_secs: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            use_demo: true,
            demo_mode: DemoMode::Healthy.name().into(),
            url: String::new(),
            history: Vec::new(),
            resolve: String::new(),
            ca_file: None,
            dns_server: String::new(),
            timeout_secs: 10.0,
        }
    }
}

/// What the person asked for in the bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TargetAction {
    RunAll,
    DemoMode(DemoMode),
}

pub struct TargetBar {
    pub settings: Settings,
    pub auth_token: String,
    /// A problem with what was typed, shown under the bar.
    pub problem: Option<String>,
}

impl TargetBar {
    pub(crate) fn new(settings: Settings) -> Self {
        Self {
            settings,
            auth_token: String::new(),
            problem: None,
        }
    }

    pub(crate) fn demo_mode(&self) -> DemoMode {
        self.settings.demo_mode.parse().unwrap_or(DemoMode::Healthy)
    }

    /// The URL and options a run should use, or why there are none yet.
    pub(crate) fn resolve_target(
        &mut self,
        demo: Option<&DemoInfo>,
    ) -> Result<(String, CheckOptions), String> {
        let mut options = CheckOptions {
            timeout: Duration::from_secs_f64(self.settings.timeout_secs.clamp(0.5, 600.0)),
            ..CheckOptions::default()
        };
        if self.settings.use_demo {
            let demo = demo.ok_or("the demo target is still starting")?;
            options.resolve.push(demo.pin.clone());
            options.extra_roots.push(demo.root.clone());
            return Ok((demo.url.clone(), options));
        }
        let url = self.settings.url.trim().to_string();
        if url.is_empty() {
            return Err("type the stream URL you give the provider (wss://…)".into());
        }
        for pin in self.settings.resolve.split_whitespace() {
            options
                .resolve
                .push(pin.parse::<ResolvePin>().map_err(|e| e.to_string())?);
        }
        options.dns_server = dns_server(&self.settings.dns_server)?;
        if let Some(path) = &self.settings.ca_file {
            options.extra_roots = load_certificates(path).map_err(|e| e.to_string())?;
        }
        if !self.auth_token.is_empty() {
            options.auth_token = Some(Secret::new(self.auth_token.clone()));
        }
        self.settings.history.retain(|h| h != &url);
        self.settings.history.insert(0, url.clone());
        self.settings.history.truncate(MAX_HISTORY);
        Ok((url, options))
    }

    pub(crate) fn ui(
        &mut self,
        ui: &mut egui::Ui,
        picker: &mut dyn FilePicker,
        demo: Option<&DemoInfo>,
        running: bool,
    ) -> Option<TargetAction> {
        let mut action = None;
        ui.horizontal(|ui| {
            ui.label(egui::RichText::new("Target").strong());
            ui.radio_value(&mut self.settings.use_demo, true, "Demo target")
                .on_hover_text("A real WebSocket server Stream Doctor runs on this computer (127.0.0.1), so you can see every check work with no setup.");
            ui.radio_value(&mut self.settings.use_demo, false, "My server")
                .on_hover_text("The stream URL you give the provider in streaming_start.");
            ui.separator();
            if self.settings.use_demo {
                action = self.demo_ui(ui, demo);
            } else {
                self.url_ui(ui);
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let run = ui
                    .add_enabled(!running, egui::Button::new(egui::RichText::new("▶ Run all").strong()))
                    .on_hover_text("Run every automatic check in order (Ctrl+Enter)");
                if run.clicked() {
                    action = Some(TargetAction::RunAll);
                }
            });
        });
        if !self.settings.use_demo {
            ui.horizontal(|ui| self.options_ui(ui, picker));
        }
        if let Some(problem) = &self.problem {
            ui.colored_label(ui.visuals().warn_fg_color, problem);
        }
        action
    }

    fn demo_ui(&mut self, ui: &mut egui::Ui, demo: Option<&DemoInfo>) -> Option<TargetAction> {
        let mut action = None;
        match demo {
            Some(info) => {
                ui.monospace(&info.url)
                    .on_hover_text("The demo server's address; only this computer can reach it.");
            }
            None => {
                ui.spinner();
                ui.label("starting the demo target…");
            }
        }
        let mut mode = self.demo_mode();
        egui::ComboBox::from_label("Demo mode")
            .selected_text(mode.name())
            .show_ui(ui, |ui| {
                for m in DemoMode::ALL {
                    ui.selectable_value(&mut mode, m, m.name())
                        .on_hover_text(demo_mode_help(m));
                }
            })
            .response
            .on_hover_text("Flip the demo server into a broken mode to watch a diagnosis happen.");
        if mode != self.demo_mode() {
            self.settings.demo_mode = mode.name().into();
            action = Some(TargetAction::DemoMode(mode));
        }
        action
    }

    fn url_ui(&mut self, ui: &mut egui::Ui) {
        let edit = egui::TextEdit::singleline(&mut self.settings.url)
            .hint_text("wss://api.example.com/api/calls/123/audio")
            .desired_width(420.0)
            .font(egui::TextStyle::Monospace);
        ui.add(edit)
            .on_hover_text("The stream URL exactly as you give it to the provider");
        if !self.settings.history.is_empty() {
            let mut picked = None;
            ui.menu_button("Recent…", |ui| {
                for past in &self.settings.history {
                    if ui.button(egui::RichText::new(past).monospace()).clicked() {
                        picked = Some(past.clone());
                        ui.close();
                    }
                }
            });
            if let Some(past) = picked {
                self.settings.url = past;
            }
        }
    }

    fn options_ui(&mut self, ui: &mut egui::Ui, picker: &mut dyn FilePicker) {
        ui.label("Pin address");
        ui.add(egui::TextEdit::singleline(&mut self.settings.resolve).hint_text("HOST:PORT:ADDR").desired_width(170.0))
            .on_hover_text("Connect to ADDR instead of looking the host up (curl's --resolve), e.g. to test one server behind a load balancer.");
        ui.separator();
        let ca_label = match &self.settings.ca_file {
            Some(path) => format!(
                "CA file: {}",
                path.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ),
            None => "CA file…".into(),
        };
        if ui.button(ca_label).on_hover_text("Extra trusted root certificates (PEM), for a private authority or a test server. The provider trusts only public ones: the report says when a chain is trusted only through this file.").clicked()
            && let Some(path) = picker.pick_pem()
        {
            self.settings.ca_file = Some(path);
        }
        if self.settings.ca_file.is_some()
            && ui
                .small_button("✖")
                .on_hover_text("Forget the CA file")
                .clicked()
        {
            self.settings.ca_file = None;
        }
        ui.separator();
        ui.label("DNS server");
        ui.add(egui::TextEdit::singleline(&mut self.settings.dns_server).hint_text("system").desired_width(110.0))
            .on_hover_text("Ask this DNS server (an IP address, port 53 unless you add one) instead of this computer's, e.g. a public resolver such as 1.1.1.1 to see the name as the provider sees it, not through a company VPN.");
        ui.separator();
        ui.label("Auth token");
        ui.add(egui::TextEdit::singleline(&mut self.auth_token).password(true).desired_width(120.0))
            .on_hover_text("Your stream_auth_token, sent as Telnyx sends it: the x-telnyx-streaming-auth-token header and inside the 'connected' message. Never saved, never in reports.");
        ui.separator();
        ui.label("Timeout");
        ui.add(
            egui::DragValue::new(&mut self.settings.timeout_secs)
                .range(0.5..=600.0)
                .speed(0.5)
                .suffix(" s"),
        )
        .on_hover_text("How long each step may take before it counts as no answer");
    }
}

/// The DNS server typed in the bar: none when empty.
fn dns_server(typed: &str) -> Result<Option<SocketAddr>, String> {
    if typed.trim().is_empty() {
        return Ok(None);
    }
    name_server(typed)
        .map(Some)
        .map_err(|e| format!("DNS server: {e}"))
}

/// What a demo mode does, in plain words.
pub(crate) fn demo_mode_help(mode: DemoMode) -> &'static str {
    match mode {
        DemoMode::Healthy => "Answers like a correct server: everything passes.",
        DemoMode::PathMismatch => {
            "Routes only the literal path '/api/calls/:id/audio', as Node's ws library does with a parameterised 'path'."
        }
        DemoMode::NoUpgrade => {
            "Answers 200 OK instead of switching to WebSocket, like a proxy that drops the Upgrade header."
        }
        DemoMode::AuthRequired => {
            "Demands an Authorization header that the provider never sends (401)."
        }
        DemoMode::ClosesStream => {
            "Accepts the WebSocket, then hangs up when the provider's 'start' message arrives."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_remembers_the_target_first_and_without_the_token() {
        let mut bar = TargetBar::new(Settings {
            use_demo: false,
            history: vec!["wss://old.example/a".into(), "wss://b.example/x".into()],
            ..Settings::default()
        });
        bar.settings.url = " wss://b.example/x ".into();
        bar.auth_token = "never-saved".into();
        let (url, options) = bar.resolve_target(None).expect("a usable target");
        assert_eq!(url, "wss://b.example/x");
        assert!(options.auth_token.is_some());
        assert_eq!(
            bar.settings.history,
            ["wss://b.example/x", "wss://old.example/a"]
        );
        // What eframe persists: the settings, which hold no token.
        let saved = serde_json::to_string(&bar.settings).expect("serialises");
        assert!(!saved.contains("never-saved"));
        let restored: Settings = serde_json::from_str(&saved).expect("reads back");
        assert_eq!(restored, bar.settings);
        // Settings written by an older version still load, with defaults for what is new.
        let old: Settings =
            serde_json::from_str(r#"{"url":"wss://c.example/"}"#).expect("old settings");
        assert!(old.use_demo && old.timeout_secs == 10.0);
    }

    #[test]
    fn the_dns_server_takes_an_address_with_port_53_by_default() {
        let mut bar = TargetBar::new(Settings {
            use_demo: false,
            url: "wss://a.example/x".into(),
            ..Settings::default()
        });
        assert_eq!(
            bar.resolve_target(None).expect("no server").1.dns_server,
            None
        );
        bar.settings.dns_server = " 1.1.1.1 ".into();
        let asked = bar.resolve_target(None).expect("an address").1.dns_server;
        assert_eq!(asked, Some("1.1.1.1:53".parse().expect("address")));
        bar.settings.dns_server = "[::1]:5353".into();
        let asked = bar.resolve_target(None).expect("with a port").1.dns_server;
        assert_eq!(asked, Some("[::1]:5353".parse().expect("address")));
        bar.settings.dns_server = "dns.example".into();
        let problem = bar.resolve_target(None).expect_err("a name is refused");
        assert!(problem.contains("not an IP address"), "{problem}");
    }

    #[test]
    fn the_demo_needs_its_target_up_first() {
        let mut bar = TargetBar::new(Settings::default());
        let problem = bar.resolve_target(None).expect_err("demo not started");
        assert!(problem.contains("still starting"));
    }
}
