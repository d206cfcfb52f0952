//! What the window does with what a person asked of a panel: the report view, the local
//! listener, the remote watch, the provider's API.

use super::{App, View};
use crate::converse::ConverseOptions;
use crate::engine::Command;
use crate::report::Format;
use crate::server::watch::WatchOptions;
use crate::session::Session;
use crate::ui::live::LiveAction;
use crate::ui::provider::ProviderAction;
use crate::ui::report_view::ReportAction;
use crate::ui::talk::TalkAction;
use crate::ui::watch::WatchAction;

/// Deadline of each attempt to reach a watched listener.
const WATCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl App {
    /// Acts on what the person asked of the report view.
    pub(crate) fn report_action(&mut self, ctx: &egui::Context, action: ReportAction) {
        match action {
            ReportAction::CopyMarkdown => {
                ctx.copy_text(self.rendered(Format::Markdown));
                self.report.status = Some("Copied the report as Markdown.".into());
            }
            ReportAction::Export(format) => {
                let name = format!("stream-doctor-report.{}", format.extension());
                let Some(path) = self.picker.save_as(&name) else {
                    return;
                };
                self.report.status = Some(match std::fs::write(&path, self.rendered(format)) {
                    Ok(()) => format!("Saved {}", path.display()),
                    Err(e) => format!("Could not save {}: {e}", path.display()),
                });
                self.session
                    .log(self.report.status.clone().unwrap_or_default());
            }
            ReportAction::Open => {
                let Some(path) = self.picker.pick_report() else {
                    return;
                };
                match Session::load(&path) {
                    Ok(saved) => {
                        let name = path
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default();
                        self.report.status = Some(format!("Viewing {name} (read-only)"));
                        self.report.invalidate();
                        self.viewing = Some((name, saved));
                        self.view = View::Diagnose;
                    }
                    Err(e) => self.report.status = Some(e.to_string()),
                }
            }
            ReportAction::CloseSaved => {
                self.viewing = None;
                self.report.status = None;
            }
            ReportAction::Compare => {
                let Some(path) = self.picker.pick_report() else {
                    return;
                };
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let compared = Session::load(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|there| {
                        crate::compare::compare(&self.report_session(), &there)
                            .map_err(|e| e.to_string())
                    });
                match compared {
                    Ok(comparison) => {
                        self.session.log(format!(
                            "compared with {name}: {} cause(s) from the difference",
                            comparison.diagnosis.causes.len()
                        ));
                        self.report.status = None;
                        self.compare.shown = Some((name, comparison));
                    }
                    Err(e) => self.report.status = Some(format!("Cannot compare: {e}")),
                }
            }
        }
    }

    /// Places a call to the target as the provider, or hangs up.
    pub(crate) fn talk_action(&mut self, action: TalkAction) {
        match action {
            TalkAction::Cancel(run) => self.engine.send(Command::Cancel { run }),
            TalkAction::Talk => {
                let (url, checks) = match self.target.resolve_target(self.demo.as_ref()) {
                    Ok(target) => target,
                    Err(why) => {
                        self.talk.problem = Some(why);
                        return;
                    }
                };
                let run = self.runs.start(None);
                let options = ConverseOptions {
                    url,
                    timeout: checks.timeout,
                    resolve: checks.resolve,
                    extra_roots: checks.extra_roots,
                    auth_token: checks.auth_token,
                    ..ConverseOptions::default()
                };
                self.talk.running = Some(run);
                self.talk.problem = None;
                self.session
                    .log(format!("talking to {} as the provider", options.url));
                self.engine.send(Command::Converse {
                    run,
                    options: Box::new(options),
                    demo_bot: self.target.settings.use_demo.then_some(self.talk.demo_bot),
                });
            }
        }
    }

    /// Acts on what the person asked of the live view.
    pub(crate) fn live_action(&mut self, action: LiveAction) {
        match action {
            LiveAction::Start { port, token } => {
                let keys = self.provider.webhook_keys();
                self.engine.send(Command::Listen {
                    port,
                    token: token.map(crate::secret::Secret::new),
                    keys,
                });
            }
            LiveAction::Stop => self.engine.send(Command::StopListening),
            LiveAction::DemoStream => {
                self.live.demo_playing = true;
                self.session
                    .log("playing the demo stream into the app's own listener");
                self.engine.send(Command::DemoStream);
            }
            LiveAction::DetectTunnel { port } => self.engine.send(Command::DetectTunnel { port }),
        }
    }

    /// Acts on what the person asked of the watch panel.
    pub(crate) fn watch_action(&mut self, action: WatchAction) {
        match action {
            WatchAction::Start { url, token } => {
                self.session.log(format!("watching the listener at {url}"));
                self.engine.send(Command::Watch(WatchOptions {
                    url,
                    token: token.map(crate::secret::Secret::new),
                    timeout: WATCH_TIMEOUT,
                    extra_roots: Vec::new(),
                    resolve: Vec::new(),
                }));
            }
            WatchAction::Stop => self.engine.send(Command::StopWatching),
        }
    }

    /// Acts on what the person asked of the Provider tab.
    pub(crate) fn provider_action(&mut self, action: ProviderAction) {
        match action {
            ProviderAction::Ask(call) => {
                let Some(key) = self.provider.key() else {
                    return;
                };
                self.session
                    .log(format!("provider API: asking for {}", call.label()));
                self.engine.send(Command::Api {
                    call,
                    key,
                    base: self.provider.api_base.clone(),
                });
            }
        }
    }
}
