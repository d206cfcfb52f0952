//! The Provider tab: what the provider itself recorded. The findings from its webhooks and its
//! API at the top, then the API's actions (the key is kept in memory only and shown masked),
//! the last answer, and the webhooks as they arrived, each with its signature verdict.

use egui::RichText;

use crate::catalog::{FoundBy, Severity};
use crate::diagnosis::Cause;
use crate::engine::ApiCall;
use crate::provider::api::{DeliveryFilter, EventsOf, StreamStart};
use crate::provider::signature;
use crate::provider::webhook;
use crate::records::telnyx_api::Answer;
use crate::records::webhook::SignatureVerdict;
use crate::report::api as render;
use crate::secret::Secret;
use crate::session::Session;

/// The custom parameter the window's test stream carries, so the listener tells it apart.
const TEST_PARAMETER: (&str, &str) = ("stream_doctor", "test-stream");

#[derive(Default)]
pub struct ProviderView {
    /// From TELNYX_API_KEY or typed here; never saved, never shown in clear.
    pub api_key: String,
    /// The API's base (TELNYX_API_BASE); the documented one when `None`.
    pub api_base: Option<String>,
    /// The account's Ed25519 public key (base64), used when the listener starts.
    pub public_key: String,
    pub call_id: String,
    pub app_id: String,
    pub stream_url: String,
    /// What is being asked, while the answer is awaited.
    pub pending: Option<&'static str>,
    /// The last answer, as text.
    pub answer: Option<(&'static str, String)>,
    pub problem: Option<String>,
}

/// What the person asked of the Provider tab.
pub(crate) enum ProviderAction {
    Ask(ApiCall),
}

fn severity_color(ui: &egui::Ui, severity: Severity) -> egui::Color32 {
    match severity {
        Severity::Fail => ui.visuals().error_fg_color,
        Severity::Warn => ui.visuals().warn_fg_color,
        Severity::Info => ui.visuals().hyperlink_color,
    }
}

fn signature_badge(ui: &mut egui::Ui, verdict: SignatureVerdict, problem: Option<&str>) {
    let (text, color, tip) = match verdict {
        SignatureVerdict::Valid => (
            "✔ signed",
            egui::Color32::from_rgb(0x2e, 0x9d, 0x4f),
            "The Ed25519 (or HMAC) signature checks out: it comes from the provider".to_string(),
        ),
        SignatureVerdict::Invalid => (
            "✖ bad signature",
            ui.visuals().error_fg_color,
            format!(
                "The signature does not check out ({}): it may not come from the provider",
                problem.unwrap_or("no reason recorded")
            ),
        ),
        SignatureVerdict::Missing => (
            "✖ unsigned",
            ui.visuals().error_fg_color,
            "No signature headers: anyone could have sent this".to_string(),
        ),
        SignatureVerdict::Unchecked => (
            "? not checked",
            ui.visuals().weak_text_color(),
            "No public key given to check signatures with (TELNYX_PUBLIC_KEY, Mission Control → Keys & Credentials → Public Key)".to_string(),
        ),
    };
    ui.label(RichText::new(text).color(color).strong())
        .on_hover_text(tip);
}

impl ProviderView {
    /// Remembers what was asked, while its answer is awaited.
    fn ask(&mut self, label: &'static str, call: ApiCall) -> Option<ProviderAction> {
        self.pending = Some(label);
        self.problem = None;
        Some(ProviderAction::Ask(call))
    }

    /// The key for the engine; `None` when none was typed.
    pub(crate) fn key(&self) -> Option<Secret> {
        let key = self.api_key.trim();
        (!key.is_empty()).then(|| Secret::new(key))
    }

    /// What the listener judges webhook signatures with: the public key, when it reads as one.
    pub(crate) fn webhook_keys(&self) -> webhook::Keys {
        webhook::Keys {
            telnyx_public_key: signature::telnyx_key(&self.public_key).ok(),
            twilio_auth_token: None,
        }
    }

    /// The engine's answer to what was asked.
    pub(crate) fn answered(&mut self, label: &'static str, result: Result<&Answer, String>) {
        self.pending = None;
        match result {
            Ok(answer) => {
                self.answer = Some((label, render::text(answer)));
                self.problem = None;
            }
            Err(why) => self.problem = Some(format!("{label}: {why}")),
        }
    }

    pub(crate) fn ui(
        &mut self,
        ui: &mut egui::Ui,
        session: &Session,
        tunnel: Option<&(String, String)>,
    ) -> Option<ProviderAction> {
        ui.heading("The provider's side");
        ui.label(RichText::new("What the provider itself recorded: the webhooks it sent to this app's listener, and its REST API. Its findings join the diagnosis and the report.").weak());
        ui.add_space(4.0);
        let mut action = None;
        egui::ScrollArea::vertical()
            .id_salt("provider")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                self.findings_ui(ui, session);
                ui.separator();
                ui.columns(2, |columns| {
                    action = self.api_ui(&mut columns[0], tunnel);
                    public_key_ui(&mut columns[1], &mut self.public_key);
                    webhooks_ui(&mut columns[1], session);
                });
            });
        action
    }

    fn findings_ui(&self, ui: &mut egui::Ui, session: &Session) {
        ui.label(RichText::new("Findings").strong());
        let causes: Vec<Cause> = session
            .findings
            .iter()
            .filter(|f| f.cause.found_by() == FoundBy::ProviderSide)
            .map(|f| Cause::of(f, FoundBy::ProviderSide, &session.checks))
            .collect();
        if causes.is_empty() {
            ui.label(RichText::new("None yet. They appear when a webhook says a stream failed or started without arriving, or when an API answer shows it.").weak());
            return;
        }
        for cause in causes {
            let icon = match cause.severity {
                Severity::Fail => "✖",
                Severity::Warn => "⚠",
                Severity::Info => "✔",
            };
            ui.label(
                RichText::new(format!("{icon} {}", cause.title))
                    .strong()
                    .color(severity_color(ui, cause.severity)),
            )
            .on_hover_text(cause.id.as_str());
            ui.label(&cause.summary);
            ui.label(RichText::new(format!("Fix: {}", cause.fix)).italics());
            ui.add_space(4.0);
        }
    }

    /// `tunnel`: the stream and webhook URLs through the tunnel found, when one was.
    fn api_ui(
        &mut self,
        ui: &mut egui::Ui,
        tunnel: Option<&(String, String)>,
    ) -> Option<ProviderAction> {
        ui.label(RichText::new("The provider's API (Telnyx)").strong());
        self.api_fields(ui, tunnel);
        let action = self.api_buttons(ui);
        self.api_answer(ui);
        action
    }

    /// The key, the ids and the test stream URL the API buttons use.
    fn api_fields(&mut self, ui: &mut egui::Ui, tunnel: Option<&(String, String)>) {
        egui::Grid::new("api_fields")
            .num_columns(2)
            .spacing([8.0, 4.0])
            .show(ui, |ui| {
                ui.label("API key").on_hover_text("Mission Control Portal → Keys & Credentials → API Keys. Kept in memory only: never saved, never in a report.");
                ui.add(
                    egui::TextEdit::singleline(&mut self.api_key)
                        .password(true)
                        .hint_text("KEY… (or set TELNYX_API_KEY)")
                        .desired_width(320.0),
                );
                ui.end_row();
                ui.label("Call id").on_hover_text("The call_control_id of a live or recent call (from your logs or a webhook: v3:…)");
                ui.add(
                    egui::TextEdit::singleline(&mut self.call_id)
                        .hint_text("v3:…")
                        .desired_width(320.0),
                );
                ui.end_row();
                ui.label("Application id").on_hover_text("The Call Control application (connection) id, from Mission Control → Voice → Programmable Voice");
                ui.add(egui::TextEdit::singleline(&mut self.app_id).desired_width(320.0));
                ui.end_row();
                ui.label("Test stream URL").on_hover_text("Where the test stream should go: this app's listener through its tunnel, or your server");
                ui.horizontal(|ui| {
                    ui.add(
                        egui::TextEdit::singleline(&mut self.stream_url)
                            .hint_text("wss://PUBLIC-HOST/stream")
                            .desired_width(320.0),
                    );
                    if let Some((stream, _)) = tunnel
                        && ui
                            .button("Use the tunnel")
                            .on_hover_text("Send the test stream to this app's listener, through the ngrok tunnel found")
                            .clicked()
                    {
                        self.stream_url.clone_from(stream);
                    }
                });
                ui.end_row();
                if let Some((_, hooks)) = tunnel {
                    ui.label("Webhook URL").on_hover_text("The application's webhook URL that reaches this app's listener through the tunnel: set it in the portal, and the webhooks show below");
                    ui.horizontal(|ui| {
                        ui.monospace(hooks);
                        if ui.small_button("Copy").clicked() {
                            ui.ctx().copy_text(hooks.clone());
                        }
                    });
                    ui.end_row();
                }
            });
    }

    /// One button per API call, each enabled once what it needs is typed.
    fn api_buttons(&mut self, ui: &mut egui::Ui) -> Option<ProviderAction> {
        let mut action = None;
        let has_key = !self.api_key.trim().is_empty();
        let call = self.call_id.trim().to_string();
        let busy = self.pending.is_some();
        let no_key = "Type the API key first";
        let no_call = "Type a call id first";
        ui.horizontal_wrapped(|ui| {
            let enabled = has_key && !busy;
            let deliveries = ui
                .add_enabled(enabled, egui::Button::new("Webhook deliveries"))
                .on_hover_text("The provider's log of webhooks it sent your server: did they arrive? (only this call's, when a call id is given)")
                .on_disabled_hover_text(no_key);
            if deliveries.clicked() {
                let filter = DeliveryFilter {
                    call: (!call.is_empty()).then(|| call.clone()),
                    ..DeliveryFilter::default()
                };
                action = self.ask(
                    "webhook deliveries",
                    ApiCall::Deliveries(filter),
                );
            }
            let with_call = enabled && !call.is_empty();
            let why = if has_key { no_call } else { no_key };
            if ui
                .add_enabled(with_call, egui::Button::new("Call events"))
                .on_hover_text("The call's commands and webhooks in time order: was streaming_start received, what followed?")
                .on_disabled_hover_text(why)
                .clicked()
            {
                action = self.ask(
                    "call events",
                    ApiCall::Events(EventsOf::Call(call.clone())),
                );
            }
            if ui
                .add_enabled(with_call, egui::Button::new("Call status"))
                .on_hover_text("Is the call still up? A stream cannot start on an ended call")
                .on_disabled_hover_text(why)
                .clicked()
            {
                action = self.ask(
                    "call status",
                    ApiCall::CallStatus(call.clone()),
                );
            }
            let app = self.app_id.trim().to_string();
            if ui
                .add_enabled(enabled && !app.is_empty(), egui::Button::new("Application"))
                .on_hover_text("Where the application's webhooks go, its API version, whether it is active")
                .on_disabled_hover_text(if has_key { "Type an application id first" } else { no_key })
                .clicked()
            {
                action = self.ask("application", ApiCall::App(app));
            }
            if let Some(asked) = self.stream_buttons(ui, &call, with_call, why) {
                action = Some(asked);
            }
        });
        action
    }

    /// Start a test stream toward the URL typed, or stop the call's streams.
    fn stream_buttons(
        &mut self,
        ui: &mut egui::Ui,
        call: &str,
        with_call: bool,
        why: &'static str,
    ) -> Option<ProviderAction> {
        let mut action = None;
        let url = self.stream_url.trim().to_string();
        if ui
            .add_enabled(with_call && !url.is_empty(), egui::Button::new("Start test stream"))
            .on_hover_text("streaming_start on the live call toward the test URL; with the listener running, Stream Doctor waits for the stream to arrive")
            .on_disabled_hover_text(if with_call { "Type the test stream URL first" } else { why })
            .clicked()
        {
            let start = StreamStart {
                url,
                track: "inbound_track".into(),
                codec: None,
                auth_token: None,
                bidirectional_mode: None,
                bidirectional_codec: None,
                custom_parameters: vec![(TEST_PARAMETER.0.into(), TEST_PARAMETER.1.into())],
            };
            action = self.ask(
                "start a test stream",
                ApiCall::StreamStart {
                    call: call.to_string(),
                    start,
                },
            );
        }
        if ui
            .add_enabled(with_call, egui::Button::new("Stop stream"))
            .on_hover_text("streaming_stop on the call")
            .on_disabled_hover_text(why)
            .clicked()
        {
            action = self.ask(
                "stop the stream",
                ApiCall::StreamStop {
                    call: call.to_string(),
                },
            );
        }
        action
    }

    /// The call in flight, the last problem, the last answer.
    fn api_answer(&self, ui: &mut egui::Ui) {
        if let Some(label) = &self.pending {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!("Asking the API: {label}…"));
            });
        }
        if let Some(problem) = &self.problem {
            ui.colored_label(ui.visuals().error_fg_color, problem);
        }
        if let Some((label, text)) = &self.answer {
            ui.label(RichText::new(format!("Answer: {label}")).strong());
            let mut shown = text.clone();
            ui.add(
                egui::TextEdit::multiline(&mut shown)
                    .font(egui::TextStyle::Monospace)
                    .desired_width(f32::INFINITY)
                    .desired_rows(4),
            );
        }
    }
}

fn public_key_ui(ui: &mut egui::Ui, key: &mut String) {
    ui.horizontal_wrapped(|ui| {
        ui.label("Webhook public key").on_hover_text("The account's Ed25519 public key (Mission Control → Keys & Credentials → Public Key), to check that webhooks really come from Telnyx. Used when the listener starts.");
        ui.add(
            egui::TextEdit::singleline(key)
                .hint_text("base64 (or set TELNYX_PUBLIC_KEY)")
                .desired_width(280.0),
        );
        if !key.trim().is_empty()
            && let Err(e) = signature::telnyx_key(key)
        {
            ui.colored_label(ui.visuals().error_fg_color, e.to_string());
        }
    });
}

fn webhooks_ui(ui: &mut egui::Ui, session: &Session) {
    ui.label(RichText::new(format!("Webhooks received ({})", session.webhooks.len())).strong());
    if session.webhooks.is_empty() {
        ui.label(RichText::new("None yet. Start the listener (Live streams tab) and give the provider https://PUBLIC-HOST/webhooks/telnyx (or /webhooks/twilio) as its webhook URL.").weak());
        return;
    }
    egui::Grid::new("webhooks")
        .striped(true)
        .num_columns(4)
        .spacing([10.0, 4.0])
        .show(ui, |ui| {
            for hook in session.webhooks.iter().rev() {
                ui.label(RichText::new(crate::clock::rfc3339(hook.received_at)).monospace());
                ui.label(RichText::new(&hook.event_type).strong());
                signature_badge(ui, hook.signature, hook.signature_problem.as_deref());
                ui.vertical(|ui| {
                    if let Some(reason) = &hook.failure_reason {
                        ui.colored_label(ui.visuals().error_fg_color, reason);
                    }
                    if let Some(url) = &hook.stream_url {
                        ui.label(RichText::new(url).monospace());
                    }
                    if let Some(call) = &hook.call_control_id {
                        ui.label(RichText::new(format!("call {call}")).weak());
                    }
                });
                ui.end_row();
            }
        });
}
