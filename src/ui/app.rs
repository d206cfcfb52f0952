//! The top-level window: the tabs (one function each) and the timeline they share, keyboard
//! shortcuts, persistence, and starting and cancelling check runs. Engine events are drained
//! in `logic`, so they are applied even while nothing is drawn; what each event does is in
//! `events`, what each panel's action does in `actions`.

mod actions;
mod events;

use std::time::Instant;

use egui::{Key, KeyboardShortcut, Modifiers, RichText};

use super::checklist::{ChecklistAction, ChecklistView};
use super::compare::{CompareAction, CompareView};
use super::diagnosis::DiagnosisView;
use super::explain::ExplainView;
use super::live::{LiveAction, LiveView};
use super::log::LogView;
use super::measure::{Frame, FrameStats, Measure};
use super::provider::ProviderView;
use super::report_view::{PreviewKey, ReportView};
use super::runs::Runs;
use super::talk::{TalkAction, TalkPanel};
use super::target::{Settings, TargetAction, TargetBar};
use super::watch::WatchPanel;
use super::{FilePicker, SystemPicker};
use crate::catalog::CheckId;
use crate::engine::{Command, DemoInfo, Engine};
use crate::report::Format;
use crate::secret::Redactor;
use crate::session::{Session, SessionOptions};

const SETTINGS_KEY: &str = "stream-doctor/target";
const RUN_ALL: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Enter);
const CANCEL_ALL: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::Escape);
const SHOW_DIAGNOSE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Num1);
const SHOW_LIVE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Num2);
const SHOW_REPORT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Num3);
const SHOW_PROVIDER: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Num4);

/// The screens, one tab each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Diagnose,
    Live,
    Report,
    Provider,
}

pub struct AppOptions {
    pub picker: Box<dyn FilePicker>,
    pub measure: Option<Measure>,
    /// When the process started, for the time to the first frame.
    pub launched: Instant,
    /// Read and write remembered settings (off in tests).
    pub persist: bool,
    /// The provider's API key (TELNYX_API_KEY), kept in memory only.
    pub api_key: Option<String>,
    /// Where the provider's API is (TELNYX_API_BASE); the documented base when `None`.
    pub api_base: Option<String>,
    /// The account's webhook public key (TELNYX_PUBLIC_KEY), to judge signatures with.
    pub webhook_public_key: Option<String>,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            picker: Box::new(SystemPicker),
            measure: None,
            launched: Instant::now(),
            persist: true,
            api_key: None,
            api_base: None,
            webhook_public_key: None,
        }
    }
}

pub struct App {
    engine: Engine,
    pub session: Session,
    pub target: TargetBar,
    pub view: View,
    pub live: LiveView,
    report: ReportView,
    /// A saved session opened read-only, with the file it came from.
    pub viewing: Option<(String, Session)>,
    checklist: ChecklistView,
    diagnosis: DiagnosisView,
    pub explain: ExplainView,
    pub provider: ProviderView,
    pub watch: WatchPanel,
    pub talk: TalkPanel,
    pub compare: CompareView,
    log: LogView,
    picker: Box<dyn FilePicker>,
    demo: Option<DemoInfo>,
    runs: Runs,
    persist: bool,
    launched: Instant,
    measure: Option<(Measure, FrameStats)>,
}

impl App {
    pub fn new(cc: &eframe::CreationContext<'_>, options: AppOptions) -> std::io::Result<Self> {
        let settings: Settings = match (options.persist, cc.storage) {
            (true, Some(storage)) => eframe::get_value(storage, SETTINGS_KEY).unwrap_or_default(),
            _ => Settings::default(),
        };
        let ctx = cc.egui_ctx.clone();
        let engine = Engine::new(move || ctx.request_repaint())?;
        let target = TargetBar::new(settings);
        let mut session = Session::new(String::new());
        session.log("Stream Doctor started");
        if target.settings.use_demo {
            engine.send(Command::Demo(target.demo_mode()));
        }
        Ok(Self {
            engine,
            session,
            target,
            view: View::Diagnose,
            live: LiveView::default(),
            report: ReportView::default(),
            viewing: None,
            checklist: ChecklistView,
            diagnosis: DiagnosisView,
            explain: ExplainView::default(),
            provider: ProviderView {
                api_key: options.api_key.unwrap_or_default(),
                public_key: options.webhook_public_key.unwrap_or_default(),
                api_base: options.api_base,
                ..ProviderView::default()
            },
            watch: WatchPanel::default(),
            talk: TalkPanel::default(),
            compare: CompareView::default(),
            log: LogView,
            picker: options.picker,
            demo: None,
            runs: Runs::default(),
            persist: options.persist,
            launched: options.launched,
            measure: options.measure.map(|m| (m, FrameStats::default())),
        })
    }

    /// Nothing running and nothing waiting to start.
    pub fn is_idle(&self) -> bool {
        self.runs.is_idle()
    }

    pub fn demo_ready(&self) -> bool {
        self.demo.is_some()
    }

    /// Starts the checks `scope` needs (all of them when `None`).
    pub(crate) fn start_run(&mut self, scope: Option<CheckId>) {
        if !self.is_idle() || self.viewing.is_some() {
            return;
        }
        let (url, mut options) = match self.target.resolve_target(self.demo.as_ref()) {
            Ok(target) => target,
            Err(problem) => {
                self.target.problem = Some(problem);
                return;
            }
        };
        self.target.problem = None;
        if url != self.session.target {
            self.session.retarget(url.clone());
        }
        let ca_file = self
            .target
            .settings
            .ca_file
            .as_ref()
            .filter(|_| !self.target.settings.use_demo)
            .map(|p| p.display().to_string());
        let vantage = crate::vantage::Vantage::here(None);
        options.ipv6_route = Some(vantage.ipv6);
        self.session.vantage = Some(vantage);
        self.session.options = SessionOptions::from_check(&options, ca_file);
        let run = self.runs.start(scope);
        let what = scope.map_or("every check".to_string(), |s| {
            format!("'{}' and what it needs", s.as_str())
        });
        self.session.log(format!("run {run}: {what} against {url}"));
        self.engine.send(Command::ExpectUrl(Some(url.clone())));
        self.engine.send(Command::Run {
            run,
            url,
            options,
            scope,
        });
    }

    pub(crate) fn cancel_all(&mut self) {
        if !self.is_idle() {
            self.engine.send(Command::CancelAll);
        }
    }

    fn cancel_check(&mut self, check: CheckId) {
        if let Some(run) = self.runs.run_of(check) {
            self.engine.send(Command::Cancel { run });
        }
    }

    /// The session as a report shows it: the streams the listener has seen, and the end time.
    pub fn report_session(&self) -> Session {
        if let Some((_, saved)) = &self.viewing {
            return saved.clone();
        }
        let mut session = self.session.clone();
        session.ended_at = Some(crate::clock::now());
        if let Some(live) = self
            .live
            .store()
            .and_then(|s| s.lock().ok().map(|l| l.streams.clone()))
        {
            session.set_streams(live.iter());
        }
        session
    }

    /// What the report preview depends on: the session's changes and the streams' progress.
    fn preview_key(&self) -> PreviewKey {
        let (streams, closed_streams) = self
            .live
            .store()
            .and_then(|store| {
                store.lock().ok().map(|live| {
                    let closed = live.streams.iter().filter(|s| !s.is_open()).count();
                    (live.streams.len(), closed)
                })
            })
            .unwrap_or_default();
        PreviewKey {
            revision: self.session.revision.get(),
            streams,
            closed_streams,
            live_second: (closed_streams < streams).then(|| self.launched.elapsed().as_secs()),
            viewing_saved: self.viewing.is_some(),
        }
    }

    /// How many times the report preview has been rendered.
    pub fn report_renders(&self) -> u64 {
        self.report.renders()
    }

    /// Values typed into the window that must never reach a report, and the URL's password.
    fn redactor(&self) -> Redactor {
        let mut redactor = Redactor::of([
            self.target.auth_token.as_str(),
            self.live.token.as_str(),
            self.provider.api_key.as_str(),
            self.watch.token.as_str(),
        ]);
        redactor.add_url(&self.target.settings.url);
        redactor
    }

    fn rendered(&self, format: Format) -> String {
        crate::report::render(&self.report_session(), format, &self.redactor())
    }

    fn shortcuts(&mut self, ctx: &egui::Context) {
        if ctx.input_mut(|i| i.consume_shortcut(&SHOW_DIAGNOSE)) {
            self.view = View::Diagnose;
        }
        if ctx.input_mut(|i| i.consume_shortcut(&SHOW_LIVE)) {
            self.view = View::Live;
        }
        if ctx.input_mut(|i| i.consume_shortcut(&SHOW_REPORT)) {
            self.view = View::Report;
        }
        if ctx.input_mut(|i| i.consume_shortcut(&SHOW_PROVIDER)) {
            self.view = View::Provider;
        }
        if ctx.input_mut(|i| i.consume_shortcut(&RUN_ALL)) {
            self.start_run(None);
        }
        if ctx.input_mut(|i| i.consume_shortcut(&CANCEL_ALL)) {
            self.cancel_all();
        }
    }

    fn measure_frame(&mut self, ctx: &egui::Context, frame: &eframe::Frame) {
        let measured = Frame {
            cpu: frame.info().cpu_usage,
            busy: !self.is_idle() || self.live.streaming(),
            demo_ready: self.demo.is_some(),
        };
        let Some((measure, stats)) = &mut self.measure else {
            return;
        };
        let due = stats.frame(measure, self.launched, measured);
        // Keep frames coming so idle frames are measured too.
        ctx.request_repaint();
        if due.close {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        if due.run_all {
            self.start_run(None);
        }
        if due.demo_stream {
            self.view = View::Live;
            self.live_action(LiveAction::DemoStream);
        }
        if let Some((count, seconds)) = due.load {
            self.view = View::Live;
            self.live.demo_playing = true;
            self.engine.send(Command::ToneStreams { count, seconds });
        }
    }
}

impl eframe::App for App {
    fn logic(&mut self, _ctx: &egui::Context, _frame: &mut eframe::Frame) {
        for event in self.engine.poll() {
            self.apply(event);
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.shortcuts(&ctx);
        self.measure_frame(&ctx, frame);
        egui::Panel::top("views").show(ui, |ui| self.tab_bar(ui));
        match self.view {
            View::Diagnose => self.diagnose_tab(ui),
            View::Live => self.live_tab(ui),
            View::Report => self.report_tab(ui, &ctx),
            View::Provider => self.provider_tab(ui),
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        if self.persist {
            eframe::set_value(storage, SETTINGS_KEY, &self.target.settings);
        }
    }
}

/// The window's parts: the tab bar, one function per tab, and the timeline they share.
impl App {
    fn tab_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.selectable_value(
                &mut self.view,
                View::Diagnose,
                RichText::new("Diagnose").strong(),
            )
            .on_hover_text("Why does the provider not connect? (Ctrl+1)");
            let streams = self.live.stream_count();
            let live_label = if streams > 0 {
                format!("Live streams ({streams})")
            } else {
                "Live streams".to_string()
            };
            ui.selectable_value(
                &mut self.view,
                View::Live,
                RichText::new(live_label).strong(),
            )
            .on_hover_text("Stand in for your server and watch audio arrive (Ctrl+2)");
            ui.selectable_value(
                &mut self.view,
                View::Report,
                RichText::new("Report").strong(),
            )
            .on_hover_text("Export what was found: Markdown, HTML, JSON (Ctrl+3)");
            let provider_findings = self
                .session
                .findings
                .iter()
                .filter(|f| f.cause.found_by() == crate::catalog::FoundBy::ProviderSide)
                .count();
            let provider_label = if provider_findings > 0 {
                format!("Provider ({provider_findings})")
            } else {
                "Provider".to_string()
            };
            ui.selectable_value(
                &mut self.view,
                View::Provider,
                RichText::new(provider_label).strong(),
            )
            .on_hover_text("What the provider itself recorded: webhooks and its API (Ctrl+4)");
        });
        let mut close = false;
        if let Some((name, saved)) = &self.viewing {
            ui.horizontal(|ui| {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!(
                        "Viewing a saved report, read-only: {name} ({} at {})",
                        saved.target,
                        crate::clock::rfc3339(saved.started_at)
                    ),
                );
                close = ui.button("Close report").clicked();
            });
        }
        if close {
            self.viewing = None;
        }
    }

    /// The session's timeline at the bottom of a tab (the saved report's, when one is open on
    /// the Diagnose tab).
    fn timeline(&mut self, ui: &mut egui::Ui, height: f32, saved: bool) {
        let shown = match (&self.viewing, saved) {
            (Some((_, saved)), true) => saved,
            _ => &self.session,
        };
        egui::Panel::bottom("timeline")
            .resizable(true)
            .default_size(height)
            .show(ui, |ui| self.log.ui(ui, shown));
    }

    fn report_tab(&mut self, ui: &mut egui::Ui, ctx: &egui::Context) {
        let key = self.preview_key();
        if self.report.is_stale(key) {
            let markdown = self.rendered(Format::Markdown);
            self.report.set_preview(key, markdown);
        }
        let saved = self.viewing.as_ref().map(|(name, _)| name.clone());
        let (compared, action) = egui::CentralPanel::default()
            .show(ui, |ui| {
                let compared = self.compare.ui(ui);
                (compared, self.report.ui(ui, saved.as_deref()))
            })
            .inner;
        if let Some(CompareAction::Close) = compared {
            self.compare.shown = None;
        }
        if let Some(action) = action {
            self.report_action(ctx, action);
        }
    }

    fn provider_tab(&mut self, ui: &mut egui::Ui) {
        self.timeline(ui, 110.0, false);
        let tunnel = self.live.public_urls();
        let action = egui::CentralPanel::default()
            .show(ui, |ui| {
                self.provider.ui(ui, &self.session, tunnel.as_ref())
            })
            .inner;
        if let Some(action) = action {
            self.provider_action(action);
        }
    }

    fn live_tab(&mut self, ui: &mut egui::Ui) {
        self.timeline(ui, 110.0, false);
        let settings = &self.target.settings;
        let use_demo = settings.use_demo;
        let can_talk = match (settings.use_demo, self.demo.is_some()) {
            (true, true) => Ok(()),
            (true, false) => Err("the demo target is still starting".to_string()),
            (false, _) if settings.url.trim().is_empty() => {
                Err("type your server's stream URL on the Diagnose tab first".to_string())
            }
            (false, _) => Ok(()),
        };
        let shown = self.session.conversation.as_ref();
        let talk_panel = &mut self.talk;
        let watch_panel = &mut self.watch;
        let ((watch, talk), action) = egui::CentralPanel::default()
            .show(ui, |ui| {
                self.live.ui(ui, |ui| {
                    let watch = watch_panel.ui(ui);
                    ui.separator();
                    (watch, talk_panel.ui(ui, can_talk, use_demo, shown))
                })
            })
            .inner;
        if let Some(watch) = watch {
            self.watch_action(watch);
        }
        if let Some(talk) = talk {
            self.talk_action(talk);
        }
        if let Some(action) = action {
            self.live_action(action);
        }
    }

    fn diagnose_tab(&mut self, ui: &mut egui::Ui) {
        let running = !self.is_idle();
        let target_action = egui::Panel::top("target")
            .show(ui, |ui| {
                ui.add_space(4.0);
                let action = self.target.ui(
                    ui,
                    self.picker.as_mut(),
                    self.demo.as_ref(),
                    running || self.viewing.is_some(),
                );
                ui.add_space(2.0);
                action
            })
            .inner;
        match target_action {
            Some(TargetAction::RunAll) => self.start_run(None),
            Some(TargetAction::DemoMode(mode)) => {
                self.session
                    .log(format!("demo mode set to {}", mode.name()));
                self.engine.send(Command::Demo(mode));
            }
            None => {}
        }
        self.timeline(ui, 130.0, true);
        let read_only = self.viewing.is_some();
        let demo = self.target.settings.use_demo && !read_only;
        let can_run =
            !read_only && !running && (self.demo.is_some() || !self.target.settings.use_demo);
        let shown = match &mut self.viewing {
            Some((_, saved)) => saved,
            None => &mut self.session,
        };
        let explained = egui::Panel::right("diagnosis")
            .resizable(true)
            .default_size(400.0)
            .show(ui, |ui| {
                let run = self.explain.ui(ui, can_run);
                ui.separator();
                self.diagnosis.ui(ui, shown, demo);
                run
            })
            .inner;
        let action = egui::CentralPanel::default()
            .show(ui, |ui| {
                let talking = self.talk.running.is_some();
                self.checklist
                    .ui(ui, shown, &self.runs, can_run, read_only, talking)
            })
            .inner;
        match action {
            Some(ChecklistAction::Run(check)) => self.start_run(Some(check)),
            Some(ChecklistAction::Cancel(check)) => self.cancel_check(check),
            Some(ChecklistAction::Talk) => self.talk_action(TalkAction::Talk),
            Some(ChecklistAction::HangUp) => {
                if let Some(run) = self.talk.running {
                    self.talk_action(TalkAction::Cancel(run));
                }
            }
            None => {}
        }
        if let Some(check) = explained {
            self.start_run(Some(check));
        }
    }
}
