//! "Talk to it": a short call placed as the provider to the target (the demo target's bot, or
//! the user's server), its progress, and what came back: the verdict with its figures, each
//! turn's latency, and the caller's and the bot's levels on one plot.

use egui::{Color32, RichText};
use egui_plot::{Line, Plot, PlotPoints, VLine};

use crate::audio::meter::FLOOR_DBFS;
use crate::converse::ConverseReport;
use crate::demo::bot::BotStyle;
use crate::records::conversation::runs;

/// One color for all of the bot's replies, so they read as one voice.
const BOT_COLOR: Color32 = Color32::from_rgb(191, 57, 137);
use crate::engine::RunId;

pub struct TalkPanel {
    /// The call in flight.
    pub running: Option<RunId>,
    pub problem: Option<String>,
    /// How the demo target's bot answers (a fault to watch named, or a healthy bot).
    pub demo_bot: BotStyle,
}

impl Default for TalkPanel {
    fn default() -> Self {
        Self {
            running: None,
            problem: None,
            demo_bot: BotStyle::Good,
        }
    }
}

pub(crate) enum TalkAction {
    Talk,
    Cancel(RunId),
}

impl TalkPanel {
    /// `can_talk`: a target is set; `demo`: it is the demo target; `shown`: the session's
    /// latest call.
    pub(crate) fn ui(
        &mut self,
        ui: &mut egui::Ui,
        can_talk: Result<(), String>,
        demo: bool,
        shown: Option<&ConverseReport>,
    ) -> Option<TalkAction> {
        let mut action = None;
        ui.horizontal(|ui| {
            ui.label(RichText::new("The way back").strong()).on_hover_text(
                "Once the stream connects: a short, real call placed as the provider. The caller speaks two sentences in real time and waits; Stream Doctor judges what the bot sends back (its format, its timing, its marks) as the provider would play it.",
            );
            match self.running {
                Some(run) => {
                    ui.spinner();
                    ui.label("Talking to it… (about 10 s)");
                    if ui.button("Cancel").on_hover_text("Hang up now").clicked() {
                        action = Some(TalkAction::Cancel(run));
                    }
                }
                None => {
                    let why = can_talk.as_ref().err().cloned().unwrap_or_default();
                    let button = ui.add_enabled(can_talk.is_ok(), egui::Button::new("📞 Talk to it"));
                    if button
                        .on_hover_text("Call the target (Diagnose tab) as the provider: two turns of real speech, the bot's answers judged")
                        .on_disabled_hover_text(why)
                        .clicked()
                    {
                        action = Some(TalkAction::Talk);
                    }
                    if demo {
                        egui::ComboBox::from_label("Demo bot")
                            .selected_text(self.demo_bot.name())
                            .show_ui(ui, |ui| {
                                for style in BotStyle::ALL {
                                    ui.selectable_value(&mut self.demo_bot, style, style.name());
                                }
                            })
                            .response
                            .on_hover_text("How the demo's bot answers: healthy, or with one of the faults of the way back (one-way, A-law, late, stutter, hang-up, ...), to watch each named");
                    }
                }
            }
        });
        if let Some(problem) = &self.problem {
            ui.colored_label(ui.visuals().warn_fg_color, problem);
        }
        if let Some(report) = shown {
            report_ui(ui, report);
        }
        action
    }
}

fn report_ui(ui: &mut egui::Ui, report: &ConverseReport) {
    if let Some(cause) = report.diagnosis.causes.first() {
        let color = match cause.severity {
            crate::catalog::Severity::Fail => ui.visuals().error_fg_color,
            crate::catalog::Severity::Warn => ui.visuals().warn_fg_color,
            crate::catalog::Severity::Info => Color32::from_rgb(60, 170, 90),
        };
        ui.label(
            RichText::new(format!("{} [{}]", cause.title, cause.id.as_str()))
                .strong()
                .color(color),
        );
        ui.label(&cause.summary);
        ui.label(RichText::new(format!("Fix: {}", cause.fix)).weak());
    }
    let Some(call) = report.calls.iter().find(|c| c.connected) else {
        return;
    };
    for turn in &call.turns {
        let reply = turn.first_reply_ms.map_or_else(
            || "no reply".to_string(),
            |ms| format!("answered after {ms:.0} ms"),
        );
        ui.label(format!(
            "Turn {}: the caller spoke {:.1} s, the bot {reply}",
            turn.turn,
            turn.caller_speech_ms / 1000.0
        ));
    }
    let line = |points: &[crate::audio::meter::LevelPoint]| -> PlotPoints<'static> {
        points
            .iter()
            .map(|p| {
                [
                    p.at_ms / 1000.0,
                    p.rms_dbfs.unwrap_or(FLOOR_DBFS).max(FLOOR_DBFS),
                ]
            })
            .collect()
    };
    Plot::new(("talk", call.call))
        .height(150.0)
        .include_y(FLOOR_DBFS)
        .include_y(0.0)
        .x_axis_label("s")
        .y_axis_label("dBFS")
        .legend(egui_plot::Legend::default())
        .allow_scroll(false)
        .show(ui, |plot| {
            plot.line(Line::new("caller", line(&call.levels.caller)));
            for run in runs(&call.levels.bot) {
                plot.line(Line::new("bot", line(run)).color(BOT_COLOR));
            }
            for turn in &call.turns {
                if let Some(at) = turn.replied_at_ms {
                    let latency = turn.first_reply_ms.unwrap_or_default();
                    plot.vline(VLine::new(
                        format!("turn {} reply ({latency:.0} ms)", turn.turn),
                        at / 1000.0,
                    ));
                }
            }
        });
}
