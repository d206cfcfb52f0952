//! Regenerates `screenshots/*.png` from the real app, rendered by egui_kittest's wgpu renderer
//! (on Mesa's software Vulkan when there is no GPU), and writes the exported HTML report that
//! `scripts/screenshots` photographs. A program, not a test: it makes pictures and asserts
//! nothing. Needs the `screenshots` feature and a Vulkan driver; run it with
//! `scripts/screenshots`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use app::{Dialogs, app, post_webhook, step_for, step_until};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use stream_doctor::report::{self, Format};
use stream_doctor::ui::App;

#[path = "../tests/support/app.rs"]
mod app;

fn harness() -> Harness<'static, App> {
    app(Harness::builder().wgpu(), 1280.0, 800.0, Dialogs::default())
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
    step_until(harness, "the demo target", |h| h.state().demo_ready());
    harness.get_by_label("▶ Run all").click();
    harness.step();
    step_until(harness, "the run to end", |h| h.state().is_idle());
}

fn main() {
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
    step_until(&mut harness, "the mode switch", |h| {
        let app = h.state();
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
    step_for(&mut harness, Duration::from_millis(3500));
    save(&mut harness, "live-demo-stream.png");

    step_until(&mut harness, "the demo stream to end", |h| {
        !h.state().live.demo_playing
    });
    let listener = harness.state().live.listening.unwrap();
    post_webhook(listener, "call.answered", "v3:demo-call", "");
    post_webhook(
        listener,
        "streaming.failed",
        "v3:demo-call",
        r#","failure_reason":"connection_failed","stream_params":{"stream_url":"wss://api.example.com/api/calls/${id}/audio"}"#,
    );
    step_until(&mut harness, "the webhooks and their findings", |h| {
        h.state().session.webhooks.len() == 2 && h.state().session.findings.len() == 2
    });
    harness.state_mut().provider.call_id = "v3:demo-call".into();
    harness.get_by_label("Provider (2)").click();
    harness.run_steps(3);
    save(&mut harness, "provider-webhooks.png");

    harness.get_by_label_contains("Live streams").click();
    harness.run_steps(2);
    harness.get_by_label("📞 Talk to it").click();
    harness.step();
    step_until(&mut harness, "the call to the demo bot", |h| {
        h.state().session.conversation.is_some()
    });
    harness.run_steps(3);
    save(&mut harness, "talk-demo.png");

    // The exported HTML report of this session, for scripts/screenshots to photograph.
    let html = report::render(
        &harness.state().report_session(),
        Format::Html,
        &Default::default(),
    );
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("report-demo.html");
    std::fs::write(out, html).unwrap();
}
