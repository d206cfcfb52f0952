//! The live view: start and stop the listener, the exact URL to give the provider (and the
//! public one when a local ngrok tunnel runs), and for each stream its header, counters,
//! per-track level meters, a scrolling plot of RMS and peak dBFS, and its protocol events.
//! It reads the listener's bounded store each frame; it never touches a socket.

use std::net::SocketAddr;

use egui::{Color32, RichText};
use egui_plot::{Legend, Line, Plot};

use crate::audio::meter::{FLOOR_DBFS, LevelPoint};
use crate::records::live::{LiveStore, StreamState};
use crate::secret::REDACTED;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LiveAction {
    Start { port: u16, token: Option<String> },
    Stop,
    DemoStream,
    DetectTunnel { port: u16 },
}

/// What the view copies out of the store under its lock, so drawing never holds it.
struct TrackView {
    name: String,
    last: Option<LevelPoint>,
    frames: u64,
    rms: Vec<[f64; 2]>,
    peak: Vec<[f64; 2]>,
}

struct StreamView {
    number: u64,
    header: Vec<(&'static str, String)>,
    tracks: Vec<TrackView>,
    timeline: Vec<String>,
}

/// What the shown stream's view was made from: while none of it changes, the view is reused
/// rather than copied again (a stream's bytes change with every message it gets).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Made {
    number: u64,
    whole_stream: bool,
    bytes: u64,
    /// A watched listener's streams grow by frames and level points, not bytes.
    frames: u64,
    points: usize,
    timeline: usize,
    open: bool,
    columns: usize,
}

impl Made {
    fn of(state: &StreamState, whole_stream: bool, columns: usize) -> Self {
        Self {
            number: state.number,
            whole_stream,
            bytes: state.bytes,
            frames: state.tracks.values().map(|t| t.frames).sum(),
            points: state.tracks.values().map(|t| t.recent.len()).sum(),
            timeline: state.timeline.len(),
            open: state.is_open(),
            columns,
        }
    }
}

pub struct LiveView {
    pub port: u16,
    pub token: String,
    pub listening: Option<SocketAddr>,
    /// The store shown: the local listener's, or a watched one's.
    store: Option<LiveStore>,
    local: Option<LiveStore>,
    pub tunnel: Option<Result<String, String>>,
    pub problem: Option<String>,
    pub demo_playing: bool,
    selected: u64,
    whole_stream: bool,
    /// The shown stream's view, and what it was made from.
    shown: Option<(Made, StreamView)>,
    /// How many views were made: a frame that changed nothing makes none.
    views_made: u64,
}

impl Default for LiveView {
    fn default() -> Self {
        Self {
            port: 5001,
            token: String::new(),
            listening: None,
            store: None,
            local: None,
            tunnel: None,
            problem: None,
            demo_playing: false,
            selected: 0,
            whole_stream: false,
            shown: None,
            views_made: 0,
        }
    }
}

fn level_text(v: Option<f64>) -> String {
    v.map_or("silent".to_string(), |d| format!("{d:.1} dBFS"))
}

fn floor(v: Option<f64>) -> f64 {
    v.unwrap_or(FLOOR_DBFS).max(FLOOR_DBFS)
}

/// What a stream's tab says.
fn tab_title(state: &StreamState) -> String {
    format!(
        "#{} {}",
        state.number,
        state.protocol.map_or("stream", |p| p.name())
    )
}

/// Pixels of plot width a point gets: on a software renderer the plot's lines were most of what
/// 50 live tracks cost the window a frame, and a level line drawn 1 px thin through a point
/// every 2 px looks the same as one through every pixel.
const PIXELS_A_POINT: f32 = 2.0;

/// Up to this many streams get a tab each.
const MOST_TABS: usize = 6;

/// How wide the plot's lines are: at 1 px egui draws a thin line, with fewer triangles.
const LINE_WIDTH: f32 = 1.0;

/// At most one point per column: of the points falling in a column, the loudest, as the
/// whole-stream history keeps the loudest moment of each of its spans.
fn per_column(
    points: &[&LevelPoint],
    columns: usize,
    level: impl Fn(&LevelPoint) -> f64,
) -> Vec<[f64; 2]> {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return Vec::new();
    };
    let span = (last.at_ms - first.at_ms).max(f64::EPSILON);
    let last_column = columns.max(1) - 1;
    let mut out: Vec<[f64; 2]> = Vec::with_capacity(points.len().min(last_column + 1));
    let mut current = usize::MAX;
    for point in points {
        let column = ((point.at_ms - first.at_ms) / span * last_column as f64) as usize;
        let y = level(point);
        match out.last_mut() {
            Some(kept) if column == current => kept[1] = kept[1].max(y),
            _ => {
                current = column;
                out.push([point.at_ms / 1000.0, y]);
            }
        }
    }
    out
}

fn snapshot(state: &StreamState, whole_stream: bool, columns: usize) -> StreamView {
    let format = state
        .media_format
        .as_ref()
        .map_or("(no start yet)".to_string(), |f| {
            format!("{} / {} Hz / {} ch", f.encoding, f.sample_rate, f.channels)
        });
    let frames: u64 = state.tracks.values().map(|t| t.frames).sum();
    let gaps: u64 = state.tracks.values().map(|t| t.sequence_gaps).sum();
    let late: u64 = state.tracks.values().map(|t| t.late_frames).sum();
    let status = state
        .closed
        .as_ref()
        .map_or("streaming".to_string(), ToString::to_string);
    let header = vec![
        (
            "Provider",
            state
                .protocol
                .map_or("not recognised yet".into(), |p| p.name().to_string()),
        ),
        (
            "Stream id",
            state.stream_id.clone().unwrap_or_else(|| "-".into()),
        ),
        (
            "Call id",
            state.call_id.clone().unwrap_or_else(|| "-".into()),
        ),
        ("Codec", format),
        ("Frames", frames.to_string()),
        ("Gaps", gaps.to_string()),
        ("Late", late.to_string()),
        ("Bytes/s", format!("{:.0}", state.bytes_per_sec())),
        ("Invalid messages", state.messages.invalid.to_string()),
        ("State", status),
    ];
    let tracks = state
        .tracks
        .iter()
        .map(|(name, track)| {
            let points: Vec<&LevelPoint> = if whole_stream {
                track.history.points.iter().collect()
            } else {
                track.recent.iter().collect()
            };
            TrackView {
                name: name.clone(),
                last: track.recent.back().copied(),
                frames: track.frames,
                rms: per_column(&points, columns, |p| floor(p.rms_dbfs)),
                peak: per_column(&points, columns, |p| floor(p.peak_dbfs)),
            }
        })
        .collect();
    StreamView {
        number: state.number,
        header,
        tracks,
        timeline: state
            .timeline
            .iter()
            .rev()
            .take(40)
            .map(|e| format!("{:>8.1} s  {}", e.at_ms / 1000.0, e.text))
            .collect(),
    }
}

impl LiveView {
    pub(crate) fn set_listening(&mut self, addr: SocketAddr, store: LiveStore) {
        self.listening = Some(addr);
        self.local = Some(store.clone());
        self.store = Some(store);
        self.problem = None;
    }

    /// Shows a watched listener's streams instead of the local ones.
    pub(crate) fn set_watching(&mut self, store: LiveStore) {
        self.store = Some(store);
        self.problem = None;
    }

    /// Back to the local listener's streams, when one has run; else the watched ones stay for
    /// a last look.
    pub(crate) fn stop_watching(&mut self) {
        if let Some(local) = &self.local {
            self.store = Some(local.clone());
        }
    }

    pub(crate) fn set_stopped(&mut self) {
        self.listening = None;
    }

    /// The listener's store, once one has run.
    pub(crate) fn store(&self) -> Option<LiveStore> {
        self.store.clone()
    }

    /// Streams seen so far (the store outlives a stopped listener, for a last look).
    pub(crate) fn stream_count(&self) -> usize {
        self.store
            .as_ref()
            .and_then(|s| s.lock().ok().map(|l| l.streams.len()))
            .unwrap_or_default()
    }

    /// Any stream still open.
    pub(crate) fn streaming(&self) -> bool {
        self.store
            .as_ref()
            .and_then(|s| {
                s.lock()
                    .ok()
                    .map(|l| l.streams.iter().any(StreamState::is_open))
            })
            .unwrap_or_default()
    }

    /// The path the provider should use: the token is part of it when one is set.
    fn path(&self) -> String {
        if self.token.is_empty() {
            "/stream".into()
        } else {
            format!("/stream/{}", self.token)
        }
    }

    /// The URLs to give the provider through the tunnel found: the stream's (wss://) and the
    /// webhooks' (https://), both holding the token when there is one.
    pub(crate) fn public_urls(&self) -> Option<(String, String)> {
        let public = self.tunnel.as_ref()?.as_ref().ok()?;
        let stream = format!("{public}{}", self.path());
        let base = public.replacen("wss://", "https://", 1);
        let hooks = if self.token.is_empty() {
            format!("{base}/webhooks/telnyx")
        } else {
            format!("{base}/{}/webhooks/telnyx", self.token)
        };
        Some((stream, hooks))
    }

    fn shown(&self, url: &str) -> String {
        if self.token.is_empty() {
            url.to_string()
        } else {
            url.replace(&self.token, REDACTED)
        }
    }

    /// The panel, with `between` (the watch panel) drawn under the local listener's controls
    /// and above the streams, which may come from either.
    pub(crate) fn ui<W>(
        &mut self,
        ui: &mut egui::Ui,
        between: impl FnOnce(&mut egui::Ui) -> W,
    ) -> (W, Option<LiveAction>) {
        ui.heading("Live streams");
        ui.label(RichText::new("Stand in for your server: give the provider the URL below (through a tunnel such as `ngrok http PORT`), and its audio shows up here as it arrives.").weak());
        let mut action = self.controls_ui(ui);
        if let Some(found) = self.urls_ui(ui) {
            action = Some(found);
        }
        if let Some(problem) = &self.problem {
            ui.colored_label(ui.visuals().warn_fg_color, problem);
        }
        let between = between(ui);
        ui.separator();
        self.streams_ui(ui);
        (between, action)
    }

    /// Start or stop the listener, and play the demo stream.
    fn controls_ui(&mut self, ui: &mut egui::Ui) -> Option<LiveAction> {
        let mut action = None;
        ui.horizontal(|ui| {
            match self.listening {
                Some(addr) => {
                    ui.label(RichText::new(format!("▶ Listening on {addr}")).strong().color(Color32::from_rgb(60, 170, 90)));
                    if ui.button("Stop listening").clicked() {
                        action = Some(LiveAction::Stop);
                    }
                }
                None => {
                    ui.label("Port");
                    ui.add(egui::DragValue::new(&mut self.port).range(1..=65535)).on_hover_text("The local port; a tunnel forwards the provider's connection to it");
                    ui.label("Token");
                    ui.add(egui::TextEdit::singleline(&mut self.token).password(true).desired_width(110.0))
                        .on_hover_text("Optional: only paths containing this token are accepted; others get 404 and are logged");
                    if ui.button("Start listening").clicked() {
                        let token = (!self.token.is_empty()).then(|| self.token.clone());
                        action = Some(LiveAction::Start { port: self.port, token });
                    }
                }
            }
            ui.separator();
            let demo = ui.add_enabled(!self.demo_playing, egui::Button::new("▶ Play demo stream"));
            if demo
                .on_hover_text("Replays a short speech clip into this listener as Telnyx would, so you can see live levels with no phone call")
                .clicked()
            {
                action = Some(LiveAction::DemoStream);
            }
            if self.demo_playing {
                ui.spinner();
            }
        });
        action
    }

    /// The URLs to give the provider: local, and through the tunnel when one is found.
    fn urls_ui(&mut self, ui: &mut egui::Ui) -> Option<LiveAction> {
        let mut action = None;
        if let Some(addr) = self.listening {
            let local = format!("ws://{addr}{}", self.path());
            ui.horizontal(|ui| {
                ui.label("Local URL:");
                ui.monospace(self.shown(&local));
                if ui.small_button("Copy").clicked() {
                    ui.ctx().copy_text(local.clone());
                }
                if ui
                    .small_button("Find ngrok tunnel")
                    .on_hover_text("Ask a local ngrok agent (127.0.0.1:4040) for its public URL")
                    .clicked()
                {
                    action = Some(LiveAction::DetectTunnel { port: addr.port() });
                }
            });
            match (&self.tunnel, self.public_urls()) {
                (_, Some((url, hooks))) => {
                    ui.horizontal(|ui| {
                        ui.label(RichText::new("Give the provider:").strong());
                        ui.monospace(self.shown(&url));
                        if ui.small_button("Copy").clicked() {
                            ui.ctx().copy_text(url.clone());
                        }
                    });
                    ui.horizontal(|ui| {
                        ui.label("Webhook URL:").on_hover_text("Set it as the application's webhook URL: the provider's webhooks then show in the Provider tab, matched with the streams");
                        ui.monospace(self.shown(&hooks));
                        if ui.small_button("Copy").clicked() {
                            ui.ctx().copy_text(hooks.clone());
                        }
                    });
                }
                (Some(Err(why)), None) => {
                    ui.label(RichText::new(format!("No tunnel found ({why}). Run `ngrok http {}` and try again; the provider cannot reach 127.0.0.1.", addr.port())).weak());
                }
                _ => {}
            }
        }
        action
    }

    /// One tab per stream, and the shown stream's header, levels and events.
    fn streams_ui(&mut self, ui: &mut egui::Ui) {
        // Every stream's tab, but only the shown stream's header, levels and events: copying
        // all of them under the store's lock each frame cost the window (and the listener,
        // kept waiting for the lock) more than drawing did.
        let selected = self.selected;
        let whole_stream = self.whole_stream;
        let columns = (ui.available_width() / PIXELS_A_POINT).max(1.0) as usize;
        let mut kept = self.shown.take();
        let mut made = 0;
        let tabs: Vec<(u64, String, bool)> = self
            .store
            .as_ref()
            .and_then(|s| {
                s.lock().ok().map(|live| {
                    let shown = live
                        .streams
                        .iter()
                        .find(|s| s.number == selected)
                        .or(live.streams.last());
                    kept = shown.map(|state| {
                        let key = Made::of(state, whole_stream, columns);
                        match kept.take() {
                            Some((was, view)) if was == key => (was, view),
                            _ => {
                                made += 1;
                                (key, snapshot(state, whole_stream, columns))
                            }
                        }
                    });
                    live.streams
                        .iter()
                        .map(|s| (s.number, tab_title(s), s.is_open()))
                        .collect()
                })
            })
            .unwrap_or_default();
        self.views_made += made;
        let shown = kept;
        if tabs.is_empty() {
            ui.add_space(12.0);
            ui.label("No stream yet.");
            ui.label(RichText::new("Start listening and point the provider (or `stream-doctor replay`) at the URL above, or press ▶ Play demo stream.").weak());
            return;
        }
        if let Some((_, view)) = &shown {
            self.selected = view.number;
        }
        self.picker_ui(ui, &tabs);
        if tabs.iter().any(|(_, _, open)| *open) {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(50));
        }
        if let Some((_, view)) = shown.as_ref().filter(|(_, v)| v.number == self.selected) {
            self.stream_ui(ui, view);
        }
        self.shown = shown;
    }

    /// A tab per stream for a few; for more, a list to pick from, which keeps the view on one
    /// line and costs a frame one widget rather than dozens.
    fn picker_ui(&mut self, ui: &mut egui::Ui, tabs: &[(u64, String, bool)]) {
        let name = |(_, title, open): &(u64, String, bool)| {
            let marker = if *open { "▶" } else { "⏹" };
            format!("{marker} {title}")
        };
        if tabs.len() <= MOST_TABS {
            ui.horizontal_wrapped(|ui| {
                for tab in tabs {
                    ui.selectable_value(&mut self.selected, tab.0, name(tab));
                }
            });
            return;
        }
        let shown = tabs
            .iter()
            .find(|tab| tab.0 == self.selected)
            .map(name)
            .unwrap_or_default();
        let open = tabs.iter().filter(|tab| tab.2).count();
        ui.horizontal(|ui| {
            egui::ComboBox::from_id_salt("stream picker")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    for tab in tabs {
                        ui.selectable_value(&mut self.selected, tab.0, name(tab));
                    }
                })
                .response
                .on_hover_text("The stream shown below; ▶ still open, ⏹ ended");
            ui.label(format!("{} streams, {open} open", tabs.len()));
        });
    }

    fn stream_ui(&mut self, ui: &mut egui::Ui, view: &StreamView) {
        egui::Grid::new(("header", view.number))
            .num_columns(4)
            .spacing([16.0, 2.0])
            .show(ui, |ui| {
                for (i, (name, value)) in view.header.iter().enumerate() {
                    ui.label(RichText::new(format!("{name}:")).strong());
                    ui.label(value);
                    if i % 2 == 1 {
                        ui.end_row();
                    }
                }
            });
        ui.add_space(4.0);
        for track in &view.tracks {
            ui.horizontal(|ui| {
                ui.label(
                    RichText::new(format!("{:<9}", track.name))
                        .monospace()
                        .strong(),
                );
                meter(ui, track.last);
                let last = track.last;
                ui.label(format!(
                    "RMS {}  peak {}  frames {}",
                    level_text(last.and_then(|p| p.rms_dbfs)),
                    level_text(last.and_then(|p| p.peak_dbfs)),
                    track.frames
                ));
            });
        }
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.whole_stream, false, "Last 30 s");
            ui.selectable_value(&mut self.whole_stream, true, "Whole stream")
                .on_hover_text(
                    "The whole stream, decimated: each point is the loudest moment of its span",
                );
        });
        let height = (ui.available_height() - 140.0).clamp(140.0, 320.0);
        Plot::new(("levels", view.number))
            .height(height)
            .legend(Legend::default())
            .include_y(FLOOR_DBFS)
            .include_y(0.0)
            .x_axis_label("seconds")
            .y_axis_label("dBFS")
            .allow_scroll(false)
            .show(ui, |plot| {
                for track in &view.tracks {
                    plot.line(
                        Line::new(format!("{} RMS", track.name), track.rms.clone())
                            .width(LINE_WIDTH),
                    );
                    plot.line(
                        Line::new(format!("{} peak", track.name), track.peak.clone())
                            .width(LINE_WIDTH),
                    );
                }
            });
        egui::CollapsingHeader::new("Protocol events")
            .id_salt(("events", view.number))
            .default_open(true)
            .show(ui, |ui| {
                // Only the rows in sight are laid out: the rest cost a frame and showed nothing.
                let row = ui.text_style_height(&egui::TextStyle::Monospace);
                egui::ScrollArea::vertical()
                    .id_salt(("events-scroll", view.number))
                    .max_height(120.0)
                    .show_rows(ui, row, view.timeline.len(), |ui, rows| {
                        for line in view.timeline.get(rows).unwrap_or_default() {
                            ui.label(RichText::new(line).monospace());
                        }
                    });
            });
    }
}

/// A horizontal meter: RMS as a bar, peak as a tick, from the floor (−96 dBFS) to 0.
fn meter(ui: &mut egui::Ui, last: Option<LevelPoint>) {
    let (rect, response) = ui.allocate_exact_size(egui::vec2(220.0, 14.0), egui::Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
    let fraction = |v: Option<f64>| ((floor(v) - FLOOR_DBFS) / -FLOOR_DBFS).clamp(0.0, 1.0) as f32;
    if let Some(point) = last {
        let rms = fraction(point.rms_dbfs);
        let color = if point.peak_dbfs.unwrap_or(FLOOR_DBFS) > -1.0 {
            Color32::from_rgb(220, 80, 60)
        } else {
            Color32::from_rgb(60, 170, 90)
        };
        let filled =
            egui::Rect::from_min_size(rect.min, egui::vec2(rect.width() * rms, rect.height()));
        painter.rect_filled(filled, 2.0, color);
        let x = rect.min.x + rect.width() * fraction(point.peak_dbfs);
        painter.line_segment(
            [egui::pos2(x, rect.min.y), egui::pos2(x, rect.max.y)],
            egui::Stroke::new(2.0, ui.visuals().strong_text_color()),
        );
    }
    response.on_hover_text("RMS level as the bar, peak as the tick; the left edge is silence (−96 dBFS), the right edge full scale (0 dBFS). Red when the peak nears clipping.");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tunnel_gives_a_stream_url_and_a_webhook_url_both_holding_the_token() {
        let mut live = LiveView::default();
        assert_eq!(live.public_urls(), None);
        live.tunnel = Some(Err("no agent".into()));
        assert_eq!(live.public_urls(), None);
        live.tunnel = Some(Ok("wss://abc.ngrok.app".into()));
        live.token = "s3cret".into();
        let (stream, hooks) = live.public_urls().expect("urls");
        assert_eq!(stream, "wss://abc.ngrok.app/stream/s3cret");
        assert_eq!(hooks, "https://abc.ngrok.app/s3cret/webhooks/telnyx");
        assert!(!live.shown(&hooks).contains("s3cret"), "masked on screen");
    }

    #[test]
    fn the_plot_gets_at_most_one_point_per_pixel_column_the_loudest() {
        let points: Vec<LevelPoint> = (0..1500)
            .map(|i| LevelPoint {
                at_ms: f64::from(i) * 20.0,
                rms_dbfs: Some(-60.0 + f64::from(i % 5)),
                peak_dbfs: None,
            })
            .collect();
        let refs: Vec<&LevelPoint> = points.iter().collect();
        let drawn = per_column(&refs, 300, |p| floor(p.rms_dbfs));
        assert!(drawn.len() <= 300 && drawn.len() >= 290, "{}", drawn.len());
        assert!(
            drawn.iter().all(|p| p[1] == -56.0),
            "each column keeps its loudest"
        );
        assert_eq!(drawn[0][0], 0.0);
        assert_eq!(per_column(&refs[..3], 300, |p| floor(p.rms_dbfs)).len(), 3);
        assert!(per_column(&[], 300, |p| floor(p.rms_dbfs)).is_empty());
    }

    #[test]
    fn a_frame_in_which_the_stream_did_not_change_makes_no_new_view() {
        let store = LiveStore::default();
        if let Ok(mut live) = store.lock() {
            live.streams
                .push(StreamState::new(1, "/s".into(), "127.0.0.1:2".into()));
        }
        let mut view = LiveView::default();
        view.set_listening(SocketAddr::from(([127, 0, 0, 1], 1)), store.clone());
        let ctx = egui::Context::default();
        let draw = |view: &mut LiveView| {
            let mut output = ctx.run_ui(egui::RawInput::default(), |ui| view.streams_ui(ui));
            // No renderer here takes the font textures.
            output.textures_delta.clear();
        };
        draw(&mut view);
        draw(&mut view);
        assert_eq!(view.views_made, 1);
        if let Ok(mut live) = store.lock() {
            live.streams[0].bytes += 320;
        }
        draw(&mut view);
        assert_eq!(view.views_made, 2);
    }

    use egui_kittest::kittest::Queryable;

    fn store_of(count: u64) -> LiveStore {
        let store = LiveStore::default();
        if let Ok(mut live) = store.lock() {
            for number in 1..=count {
                live.streams
                    .push(StreamState::new(number, "/s".into(), "127.0.0.1:2".into()));
            }
        }
        store
    }

    /// The streams part of the Live tab, showing `count` streams, drawn once.
    fn streams_of(count: u64) -> egui_kittest::Harness<'static, LiveView> {
        let mut view = LiveView::default();
        view.set_listening(SocketAddr::from(([127, 0, 0, 1], 1)), store_of(count));
        let mut harness = egui_kittest::Harness::new_ui_state(
            |ui, view: &mut LiveView| view.streams_ui(ui),
            view,
        );
        harness.run();
        harness
    }

    #[test]
    fn a_few_streams_get_tabs_and_many_a_list_to_pick_from() {
        let mut harness = streams_of(3);
        harness.get_by_label("▶ #1 stream").click();
        harness.run();
        assert_eq!(harness.state().selected, 1);
        assert!(harness.query_by_label("3 streams, 3 open").is_none());

        let mut harness = streams_of(25);
        harness.get_by_label("25 streams, 25 open");
        assert!(
            harness.query_by_label("▶ #3 stream").is_none(),
            "no tab per stream"
        );
        assert_eq!(harness.state().selected, 25, "the newest is shown first");
        harness.get_by_role(egui::accesskit::Role::ComboBox).click();
        harness.run();
        harness.get_by_label("▶ #3 stream").click();
        harness.run();
        assert_eq!(harness.state().selected, 3);
    }

    #[test]
    fn thirty_seconds_of_levels_get_one_point_per_two_pixels_of_the_window() {
        let store = LiveStore::default();
        if let Ok(mut live) = store.lock() {
            let mut stream = StreamState::new(1, "/s".into(), "127.0.0.1:2".into());
            let track = stream.tracks.entry("inbound".into()).or_default();
            for i in 0..1500 {
                track.push_level(LevelPoint {
                    at_ms: f64::from(i) * 20.0,
                    rms_dbfs: Some(-20.0),
                    peak_dbfs: Some(-6.0),
                });
            }
            live.streams.push(stream);
        }
        let mut view = LiveView::default();
        view.set_listening(SocketAddr::from(([127, 0, 0, 1], 1)), store);
        let ctx = egui::Context::default();
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(800.0, 600.0),
            )),
            ..Default::default()
        };
        let mut output = ctx.run_ui(input, |ui| view.streams_ui(ui));
        output.textures_delta.clear();
        let Some((_, shown)) = &view.shown else {
            panic!("the stream is shown");
        };
        let rms = &shown.tracks[0].rms;
        assert!(
            rms.len() <= 400 && rms.len() > 300,
            "{} points in 800 px",
            rms.len()
        );
        assert_eq!(shown.tracks[0].peak.len(), rms.len());
    }
}
