//! The top-level window: layout, keyboard shortcuts, persistence, and the loop that applies
//! engine events to the session. Engine events are drained in `logic`, so they are applied
//! even while nothing is drawn.

use std::collections::BTreeMap;
use std::time::Instant;

use egui::{Key, KeyboardShortcut, Modifiers, RichText};

use super::checklist::{ChecklistAction, ChecklistView};
use super::compare::{CompareAction, CompareView};
use super::diagnosis::DiagnosisView;
use super::explain::ExplainView;
use super::live::{LiveAction, LiveView};
use super::log::LogView;
use super::measure::{Frame, FrameStats, Measure};
use super::provider::{ProviderAction, ProviderView};
use super::report_view::{PreviewKey, ReportAction, ReportView};
use super::target::{Settings, TargetAction, TargetBar};
use super::watch::{WatchAction, WatchPanel};
use super::{FilePicker, SystemPicker};
use crate::catalog::CheckId;
use crate::engine::{Command, DemoInfo, Engine, Event, RunId, WatchStatus};
use crate::report::{Format, verdict_line};
use crate::secret::Redactor;
use crate::session::{Session, SessionOptions};
use crate::stream::confirm::Arrival;
use crate::stream::monitor::Happening;
use crate::stream::watch::WatchOptions;

const SETTINGS_KEY: &str = "stream-doctor/target";
/// Deadline of each attempt to reach a watched listener.
const WATCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
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
    pub compare: CompareView,
    log: LogView,
    picker: Box<dyn FilePicker>,
    demo: Option<DemoInfo>,
    next_run: RunId,
    /// Runs whose events are still wanted, with the step each was started for.
    active_runs: BTreeMap<RunId, Option<CheckId>>,
    running: BTreeMap<CheckId, Instant>,
    running_in: BTreeMap<CheckId, RunId>,
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
            compare: CompareView::default(),
            log: LogView,
            picker: options.picker,
            demo: None,
            next_run: 0,
            active_runs: BTreeMap::new(),
            running: BTreeMap::new(),
            running_in: BTreeMap::new(),
            persist: options.persist,
            launched: options.launched,
            measure: options.measure.map(|m| (m, FrameStats::default())),
        })
    }

    /// Nothing running and nothing waiting to start.
    pub fn is_idle(&self) -> bool {
        self.active_runs.is_empty()
    }

    pub fn demo_ready(&self) -> bool {
        self.demo.is_some()
    }

    fn apply(&mut self, event: Event) {
        match event {
            Event::Started { run, check } if self.active_runs.contains_key(&run) => {
                self.running.insert(check, Instant::now());
                self.running_in.insert(check, run);
            }
            Event::Finished { run, result } if self.active_runs.contains_key(&run) => {
                self.running.remove(&result.id);
                self.running_in.remove(&result.id);
                self.session.record(result);
            }
            Event::Done { run, report } if self.active_runs.contains_key(&run) => {
                self.forget_run(run);
                self.session.log(format!(
                    "run {run} done in {:.2} s: {}",
                    report.duration_ms / 1000.0,
                    verdict_line(&report.checks, Some(&report.diagnosis))
                ));
            }
            Event::Cancelled { run } if self.active_runs.contains_key(&run) => {
                self.forget_run(run);
                self.session
                    .log(format!("run {run} cancelled; results so far are kept"));
            }
            Event::DemoReady(info) => {
                self.session.log(format!(
                    "demo target ready at {} (mode {})",
                    info.url,
                    info.mode.name()
                ));
                self.demo = Some(info);
            }
            Event::DemoFailed(problem) => {
                self.session.log(format!("demo target failed: {problem}"));
                self.target.problem = Some(format!("The demo target could not start: {problem}"));
            }
            Event::Listening { addr, store } => {
                self.session
                    .log(format!("listening for media streams on {addr}"));
                self.live.set_listening(addr, store);
            }
            Event::ListenFailed(problem) => {
                self.session.log(problem.clone());
                self.live.demo_playing = false;
                self.live.problem = Some(problem);
            }
            Event::ListenerStopped(summary) => {
                self.session.log(format!(
                    "listener on {} stopped after {} stream(s)",
                    summary.listen,
                    summary.streams.len()
                ));
                self.live.set_stopped();
            }
            Event::Stream(event) => {
                let line = event.line();
                match event.what {
                    // A finding logs itself as it joins the session; levels are the plot's.
                    Happening::Finding(finding) => self.session.add_finding(finding),
                    Happening::Levels { .. } => {}
                    Happening::Webhook(record) => {
                        self.session.log(format!("stream {line}"));
                        self.session.add_webhook(*record);
                    }
                    _ => self.session.log(format!("stream {line}")),
                }
            }
            Event::Api {
                label,
                result,
                arrival,
            } => {
                match &result {
                    Ok(answer) => {
                        self.session.log(format!("provider API: {label} answered"));
                        for finding in &answer.findings {
                            self.session.add_finding(finding.clone());
                        }
                    }
                    Err(why) => self.session.log(format!("provider API: {label}: {why}")),
                }
                if arrival == Arrival::Arrived {
                    self.session
                        .log("the test stream arrived at the app's listener");
                }
                self.provider
                    .answered(label, result.as_ref().map_err(Clone::clone));
            }
            Event::DemoStreamDone(outcome) => {
                self.live.demo_playing = false;
                match outcome {
                    Ok(frames) => self
                        .session
                        .log(format!("demo stream done: {frames} media frames sent")),
                    Err(e) => {
                        self.session.log(format!("demo stream failed: {e}"));
                        self.live.problem = Some(format!("The demo stream failed: {e}"));
                    }
                }
            }
            Event::Watch(status) => {
                self.watch.update(&status);
                if let Some((text, _)) = &self.watch.status {
                    self.session.log(text.clone());
                }
                match status {
                    WatchStatus::Connecting { store } => self.live.set_watching(store),
                    WatchStatus::Stopped { .. } => self.live.stop_watching(),
                    _ => {}
                }
            }
            Event::Tunnel(found) => {
                match &found {
                    Ok(url) => self.session.log(format!("ngrok tunnel found: {url}")),
                    Err(why) => self.session.log(format!("no ngrok tunnel: {why}")),
                }
                self.live.tunnel = Some(found);
            }
            _ => {}
        }
    }

    fn forget_run(&mut self, run: RunId) {
        self.active_runs.remove(&run);
        let checks: Vec<CheckId> = self
            .running_in
            .iter()
            .filter(|(_, r)| **r == run)
            .map(|(c, _)| *c)
            .collect();
        for check in checks {
            self.running.remove(&check);
            self.running_in.remove(&check);
        }
    }

    /// Starts the checks `scope` needs (all of them when `None`).
    pub fn start_run(&mut self, scope: Option<CheckId>) {
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
        self.next_run += 1;
        let run = self.next_run;
        self.active_runs.insert(run, scope);
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

    pub fn cancel_all(&mut self) {
        if !self.is_idle() {
            self.engine.send(Command::CancelAll);
        }
    }

    fn cancel_check(&mut self, check: CheckId) {
        if let Some(run) = self.running_in.get(&check) {
            self.engine.send(Command::Cancel { run: *run });
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

    /// Acts on what the person asked of the report view.
    pub fn report_action(&mut self, ctx: &egui::Context, action: ReportAction) {
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

    /// Acts on what the person asked of the live view.
    pub fn live_action(&mut self, action: LiveAction) {
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
    pub fn watch_action(&mut self, action: WatchAction) {
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
    pub fn provider_action(&mut self, action: ProviderAction) {
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
        let running = !self.is_idle();
        egui::Panel::top("views").show(ui, |ui| {
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
        });
        if self.view == View::Report {
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
                self.report_action(&ctx, action);
            }
            return;
        }
        if self.view == View::Provider {
            egui::Panel::bottom("timeline")
                .resizable(true)
                .default_size(110.0)
                .show(ui, |ui| self.log.ui(ui, &self.session));
            let tunnel = self.live.public_urls();
            let action = egui::CentralPanel::default()
                .show(ui, |ui| {
                    self.provider.ui(ui, &self.session, tunnel.as_ref())
                })
                .inner;
            if let Some(action) = action {
                self.provider_action(action);
            }
            return;
        }
        if self.view == View::Live {
            egui::Panel::bottom("timeline")
                .resizable(true)
                .default_size(110.0)
                .show(ui, |ui| self.log.ui(ui, &self.session));
            let (watch, action) = egui::CentralPanel::default()
                .show(ui, |ui| self.live.ui(ui, |ui| self.watch.ui(ui)))
                .inner;
            if let Some(watch) = watch {
                self.watch_action(watch);
            }
            if let Some(action) = action {
                self.live_action(action);
            }
            return;
        }
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
        let read_only = self.viewing.is_some();
        let demo = self.target.settings.use_demo && !read_only;
        let shown = match &mut self.viewing {
            Some((_, saved)) => saved,
            None => &mut self.session,
        };
        egui::Panel::bottom("timeline")
            .resizable(true)
            .default_size(130.0)
            .show(ui, |ui| self.log.ui(ui, shown));
        let can_run =
            !read_only && !running && (self.demo.is_some() || !self.target.settings.use_demo);
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
                self.checklist
                    .ui(ui, shown, &self.running, can_run, read_only)
            })
            .inner;
        match action {
            Some(ChecklistAction::Run(check)) => self.start_run(Some(check)),
            Some(ChecklistAction::Cancel(check)) => self.cancel_check(check),
            None => {}
        }
        if let Some(check) = explained {
            self.start_run(Some(check));
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        if self.persist {
            eframe::set_value(storage, SETTINGS_KEY, &self.target.settings);
        }
    }
}
