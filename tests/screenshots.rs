//! Regenerates `screenshots/*.png` from the real app, rendered by egui_kittest's wgpu renderer
//! (on Mesa's software Vulkan when there is no GPU). Behind the `screenshots` feature because
//! it needs a Vulkan driver; run it with `scripts/screenshots`.
#![cfg(feature = "screenshots")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use stream_doctor::report::{self, Format};
use stream_doctor::ui::{App, AppOptions, FilePicker};

struct NoDialog;

impl FilePicker for NoDialog {
    fn pick_pem(&mut self) -> Option<PathBuf> {
        None
    }

    fn save_as(&mut self, _: &str) -> Option<PathBuf> {
        None
    }

    fn pick_report(&mut self) -> Option<PathBuf> {
        None
    }
}

fn harness() -> Harness<'static, App> {
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .wgpu()
        .build_eframe(|cc| {
            let options = AppOptions {
                picker: Box::new(NoDialog),
                persist: false,
                ..AppOptions::default()
            };
            App::new(cc, options).expect("app")
        })
}

fn step_until(harness: &mut Harness<'static, App>, done: impl Fn(&App) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done(harness.state()) {
        assert!(Instant::now() < deadline, "timed out");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.run_steps(3);
}

fn save(harness: &mut Harness<'static, App>, name: &str) {
    harness.remove_cursor();
    harness.run_steps(2);
    let image = harness.render().expect("render");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    image.save(dir.join(name)).unwrap();
}

fn run_all(harness: &mut Harness<'static, App>) {
    step_until(harness, App::demo_ready);
    harness.get_by_label("▶ Run all").click();
    harness.step();
    step_until(harness, App::is_idle);
}

#[test]
fn screenshots() {
    let mut harness = harness();
    run_all(&mut harness);
    save(&mut harness, "checklist-demo.png");

    harness
        .get_all_by_label("Evidence")
        .nth(3)
        .unwrap()
        .click_accesskit();
    harness.run_steps(2);
    harness
        .get_all_by_label("Evidence")
        .nth(3)
        .unwrap()
        .scroll_to_me();
    harness.run_steps(3);
    save(&mut harness, "tls-evidence.png");

    harness
        .get_by_role_and_label(Role::ComboBox, "Demo mode")
        .click();
    harness.run_steps(2);
    harness.get_by_label("path-mismatch").click();
    harness.run_steps(2);
    step_until(&mut harness, |app| {
        app.session
            .log
            .iter()
            .any(|l| l.text.contains("mode path-mismatch"))
    });
    run_all(&mut harness);
    save(&mut harness, "diagnosis-path-mismatch.png");

    harness.get_by_label("Live streams").click();
    harness.run_steps(2);
    harness.get_by_label("▶ Play demo stream").click();
    harness.step();
    // Mid-stream: a few seconds of both tracks on the plot.
    let until = Instant::now() + Duration::from_millis(3500);
    while Instant::now() < until {
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    save(&mut harness, "live-demo-stream.png");

    // The exported HTML report of this session, for scripts/screenshots to photograph.
    while harness.state().live.demo_playing {
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    let html = report::render(&harness.state().report_session(), Format::Html, &[]);
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("report-demo.html");
    std::fs::write(out, html).unwrap();
}
