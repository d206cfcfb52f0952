//! The window (eframe/egui). Panels are small structs with `ui(&mut self, ui, ..)`; the app
//! sends engine commands and renders the session it keeps. Nothing here opens a socket.

pub mod app;
pub mod checklist;
pub mod compare;
pub mod diagnosis;
pub mod explain;
pub mod glossary;
pub mod live;
pub mod log;
pub mod measure;
pub mod provider;
pub mod report_view;
pub mod runs;
pub mod talk;
pub mod target;
pub mod watch;

use std::path::PathBuf;

use egui::{Color32, RichText};

use crate::check::Status;

pub use app::{App, AppOptions};

/// File dialogs go through this so tests never open one.
pub trait FilePicker {
    fn pick_pem(&mut self) -> Option<PathBuf>;
    /// Where to save a report, suggesting `file_name`.
    fn save_as(&mut self, file_name: &str) -> Option<PathBuf>;
    /// A saved session (JSON) to open.
    fn pick_report(&mut self) -> Option<PathBuf>;
}

/// The desktop's own dialog (through the XDG portal, or zenity).
pub(crate) struct SystemPicker;

impl FilePicker for SystemPicker {
    fn pick_pem(&mut self) -> Option<PathBuf> {
        rfd::FileDialog::new()
            .set_title("Trust roots (PEM)")
            .add_filter("PEM certificates", &["pem", "crt", "cer"])
            .pick_file()
    }

    fn save_as(&mut self, file_name: &str) -> Option<PathBuf> {
        rfd::FileDialog::new()
            .set_title("Export report")
            .set_file_name(file_name)
            .save_file()
    }

    fn pick_report(&mut self) -> Option<PathBuf> {
        rfd::FileDialog::new()
            .set_title("Open a saved report")
            .add_filter("Stream Doctor session (JSON)", &["json"])
            .pick_file()
    }
}

/// How a status reads: icon and word differ for every status, so colour is never the only cue.
pub(crate) fn status_text(status: Status, dark: bool) -> RichText {
    let (icon, word, color) = match status {
        Status::Pass => (
            "✔",
            "Pass",
            if dark {
                Color32::from_rgb(87, 200, 120)
            } else {
                Color32::from_rgb(26, 127, 55)
            },
        ),
        Status::Warn => (
            "⚠",
            "Warning",
            if dark {
                Color32::from_rgb(230, 180, 60)
            } else {
                Color32::from_rgb(154, 103, 0)
            },
        ),
        Status::Fail => (
            "✖",
            "Fail",
            if dark {
                Color32::from_rgb(255, 110, 100)
            } else {
                Color32::from_rgb(207, 34, 46)
            },
        ),
        Status::Skip => ("–", "Skipped", Color32::GRAY),
        Status::Error => (
            "‼",
            "Error",
            if dark {
                Color32::from_rgb(255, 110, 100)
            } else {
                Color32::from_rgb(207, 34, 46)
            },
        ),
    };
    RichText::new(format!("{icon} {word}"))
        .color(color)
        .strong()
}

/// The window's entry point: 1280×800, usable down to 1024×640, theme following the system.
pub fn run(options: AppOptions) -> eframe::Result {
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("Stream Doctor")
        .with_inner_size([1280.0, 800.0])
        .with_min_inner_size([1024.0, 640.0]);
    if let Ok(icon) = eframe::icon_data::from_png_bytes(include_bytes!("../../assets/icon.png")) {
        viewport = viewport.with_icon(icon);
    }
    let native = eframe::NativeOptions {
        viewport,
        ..eframe::NativeOptions::default()
    };
    eframe::run_native(
        "Stream Doctor",
        native,
        Box::new(move |cc| Ok(Box::new(App::new(cc, options)?))),
    )
}
