//! The window driven as a person drives it: egui_kittest clicks by label and reads back
//! through AccessKit, against the real app state, engine and demo target (no display, no GPU).
#![cfg(feature = "gui")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use stream_doctor::catalog::CauseId;
use stream_doctor::catalog::CheckId;
use stream_doctor::check::Status;
use stream_doctor::checklist::Verdict;
use stream_doctor::demo::{Behavior, DemoServer};
use stream_doctor::report::Format;
use stream_doctor::secret::Secret;
use stream_doctor::server::listener::{ListenOptions, Listener};
use stream_doctor::stream::replay::Pace;
use stream_doctor::ui::{App, AppOptions};
use support::app::{Dialogs, app, app_with, post_webhook, step_until};
use support::telnyx_api::{FakeTelnyx, KEY};

mod support;

fn harness() -> Harness<'static, App> {
    harness_sized(1280.0, 800.0)
}

fn harness_sized(width: f32, height: f32) -> Harness<'static, App> {
    app(Harness::builder(), width, height, Dialogs::default())
}

fn ready(harness: &mut Harness<'static, App>) {
    step_until(harness, "the demo target", |h| h.state().demo_ready());
}

fn run_all(harness: &mut Harness<'static, App>) {
    harness.get_by_label("▶ Run all").click();
    harness.step();
    step_until(harness, "the run to end", |h| h.state().is_idle());
}

#[test]
fn the_demo_target_passes_every_automatic_check() {
    let mut harness = harness();
    assert!(
        harness.query_by_label("Nothing checked yet.").is_some(),
        "empty state first"
    );
    ready(&mut harness);
    run_all(&mut harness);
    // Seven checks pass; DNS warns because the demo lives on 127.0.0.1.
    assert_eq!(harness.query_all_by_label("✔ Pass").count(), 7);
    assert_eq!(harness.query_all_by_label("⚠ Warning").count(), 1);
    assert!(harness.query_all_by_label("✖ Fail").next().is_none());
    assert!(
        harness
            .query_by_label_contains(
                "It works from here, but the host resolves to a private address"
            )
            .is_some()
    );
    let session = &harness.state().session;
    assert_eq!(session.checks.len(), CheckId::ALL.len());
    assert_eq!(
        session.result(CheckId::Provider).map(|r| r.status),
        Some(Status::Pass)
    );
}

#[test]
fn a_faulty_demo_mode_shows_the_named_cause() {
    let mut harness = harness();
    ready(&mut harness);
    harness
        .get_by_role_and_label(Role::ComboBox, "Demo mode")
        .click();
    harness.run_steps(2);
    harness.get_by_label("path-mismatch").click();
    harness.step();
    step_until(&mut harness, "the mode switch", |h| {
        h.state()
            .session
            .log
            .iter()
            .any(|l| l.text.contains("mode path-mismatch"))
    });
    run_all(&mut harness);
    assert!(
        harness
            .query_by_label(
                "The provider cannot connect: the server's route does not match this path"
            )
            .is_some()
    );
    assert!(
        harness
            .query_by_label_contains("Node `ws`'s `path` option is an exact match")
            .is_some()
    );
    assert!(harness.query_by_label("Copy snippet").is_some());
}

#[test]
fn a_manual_verdict_lands_in_the_session() {
    let mut harness = harness();
    harness
        .get_all_by_label("Found a problem")
        .next()
        .unwrap()
        .click_accesskit();
    harness.run_steps(2);
    let record = &harness.state().session.manual["platform_logs"];
    assert_eq!(record.verdict, Some(Verdict::Problem));
    assert!(harness.query_by_label("✖ Problem").is_some());
    assert!(
        harness
            .state()
            .session
            .log_text()
            .contains("platform_logs: marked 'Found a problem'")
    );
}

/// The app on "My server", aimed at a server that accepts and never answers; keep the
/// returned runtime and server alive for the test.
fn aimed_at_a_blackhole() -> (Harness<'static, App>, (tokio::runtime::Runtime, DemoServer)) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime
        .block_on(DemoServer::start(Behavior::Silent, None))
        .unwrap();
    let mut harness = harness();
    harness.get_by_label("My server").click();
    harness.step();
    harness.state_mut().target.settings.url = format!("ws://{}/api/calls/1/audio", server.addr());
    (harness, (runtime, server))
}

#[test]
fn cancel_stops_a_check_against_a_blackhole() {
    let (mut harness, _server) = aimed_at_a_blackhole();
    {
        let app = harness.state_mut();
        app.target.settings.timeout_secs = 60.0;
    }
    harness.get_by_label("▶ Run all").click();
    harness.step();
    step_until(&mut harness, "the upgrade to hang", |h| {
        h.query_all_by_label("Cancel").next().is_some()
    });
    let started = Instant::now();
    harness
        .get_all_by_label("Cancel")
        .next()
        .unwrap()
        .click_accesskit();
    harness.step();
    step_until(&mut harness, "the cancel", |h| h.state().is_idle());
    assert!(started.elapsed() < Duration::from_secs(5));
    let session = &harness.state().session;
    assert!(
        session
            .log_text()
            .contains("cancelled; results so far are kept"),
        "{}",
        session.log_text()
    );
    // What finished before the cancel is kept; what hung is not invented.
    assert_eq!(
        session.result(CheckId::Tcp).map(|r| r.status),
        Some(Status::Pass)
    );
    assert!(session.result(CheckId::Upgrade).is_none());
    assert!(harness.query_all_by_label("Running…").next().is_none());
}

/// A sleeping service behind Railway's edge: the upgrade step shows each further attempt as it
/// waits for the service to wake, and the diagnosis names the cold start.
#[test]
fn a_sleeping_service_shows_its_wake_attempts_as_progress() {
    let body = "<html><head><title>Application failed to respond</title></head></html>";
    let page = format!(
        "HTTP/1.1 502 Bad Gateway\r\nServer: railway-edge\r\nX-Railway-Request-Id: Zz9\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let behavior = Behavior::Sleeping {
        page,
        wakes_at: Instant::now() + Duration::from_secs(3),
    };
    let server = runtime.block_on(DemoServer::start(behavior, None)).unwrap();
    let mut harness = harness();
    harness.get_by_label("My server").click();
    harness.step();
    harness.state_mut().target.settings.url = format!("ws://{}/api/calls/1/audio", server.addr());
    harness.get_by_label("▶ Run all").click();
    harness.step();
    step_until(&mut harness, "a further attempt shown", |h| {
        h.query_all_by_label_contains("(in case the service was asleep)")
            .next()
            .is_some()
    });
    step_until(&mut harness, "the run to end", |h| h.state().is_idle());
    let causes: Vec<CauseId> = harness
        .state()
        .session
        .diagnosis
        .as_ref()
        .map(|d| d.causes.iter().map(|c| c.id).collect())
        .unwrap_or_default();
    assert!(causes.contains(&CauseId::PlatformColdStart), "{causes:?}");
    assert!(
        harness
            .query_all_by_label_contains("(in case the service was asleep)")
            .next()
            .is_none(),
        "the attempt is shown only while it runs"
    );
}

#[test]
fn keyboard_runs_all_and_escape_cancels() {
    let (mut harness, _server) = aimed_at_a_blackhole();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Enter);
    harness.step();
    assert!(!harness.state().is_idle(), "Ctrl+Enter started a run");
    harness.key_press(egui::Key::Escape);
    step_until(&mut harness, "Escape to cancel", |h| h.state().is_idle());
    assert!(harness.state().session.log_text().contains("cancelled"));
}

#[test]
fn a_bad_target_is_explained_not_run() {
    let mut harness = harness();
    harness.get_by_label("My server").click();
    harness.step();
    harness.get_by_label("▶ Run all").click();
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains("type the stream URL")
            .is_some()
    );
    harness.state_mut().target.settings.url = "wss://h.example/a".into();
    harness.state_mut().target.settings.resolve = "not-a-pin".into();
    harness.get_by_label("▶ Run all").click();
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains("--resolve wants HOST:PORT:ADDR")
            .is_some()
    );
    harness.state_mut().target.settings.resolve.clear();
    harness.state_mut().target.settings.dns_server = "dns.example".into();
    harness.get_by_label("▶ Run all").click();
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains("'dns.example' is not an IP address")
            .is_some()
    );
    assert!(harness.state().is_idle());
}

#[test]
fn the_smallest_window_keeps_every_control_on_screen() {
    let mut harness = harness_sized(1024.0, 640.0);
    harness.run_steps(2);
    let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1024.0, 640.0));
    for label in [
        "▶ Run all",
        "Copy timeline",
        "Checklist",
        "Diagnosis",
        "Run url",
        "Provider",
    ] {
        let rect = harness.get_by_label(label).rect();
        assert!(
            screen.contains_rect(rect),
            "{label} at {rect:?} is off screen"
        );
    }
    // The options row of a typed server is the widest.
    harness.get_by_label("My server").click();
    harness.run_steps(2);
    for label in [
        "▶ Run all",
        "Pin address",
        "DNS server",
        "Auth token",
        "Timeout",
    ] {
        let rect = harness.get_by_label(label).rect();
        assert!(
            screen.contains_rect(rect),
            "{label} at {rect:?} is off screen"
        );
    }
}

#[test]
fn the_demo_stream_shows_its_codec_frames_and_levels() {
    let mut harness = harness();
    harness.get_by_label("Live streams").click();
    harness.run_steps(2);
    assert!(
        harness.query_by_label("No stream yet.").is_some(),
        "empty state first"
    );
    // This computer's listener first, then the deployed one, then the streams of either.
    let local = harness.get_by_label("Start listening").rect();
    let remote = harness.get_by_label("Watch a deployed listener").rect();
    let streams = harness.get_by_label("No stream yet.").rect();
    assert!(local.bottom() <= remote.top() && remote.bottom() <= streams.top());
    harness.get_by_label("▶ Play demo stream").click();
    harness.step();
    step_until(&mut harness, "levels to move", |h| {
        h.query_all_by_label_contains("RMS -").count() == 2
    });
    assert!(harness.query_by_label("PCMU / 8000 Hz / 1 ch").is_some());
    assert!(harness.query_by_label("telnyx").is_some());
    step_until(&mut harness, "the demo stream to end", |h| {
        !h.state().live.demo_playing
    });
    harness.run_steps(2);
    // Two tracks of 6.5 s in 20 ms frames, as the store counted them, on screen.
    let frames = {
        let log = harness.state().session.log_text();
        assert!(
            log.contains("demo stream done: 650 media frames sent"),
            "{log}"
        );
        650
    };
    assert!(
        harness.query_by_label(&frames.to_string()).is_some(),
        "frame count shown"
    );
    assert!(
        harness
            .query_all_by_label_contains("closed by remote, code 1000")
            .next()
            .is_some()
    );
}

#[test]
fn the_report_copies_exports_and_opens_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("report.json");
    let dialogs = Dialogs {
        save: Some(saved.clone()),
        open: Some(saved.clone()),
    };
    let mut harness = app(Harness::builder(), 1280.0, 800.0, dialogs);
    ready(&mut harness);
    run_all(&mut harness);
    harness.get_by_label("Report").click();
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains("## Stream Doctor: Reachable from here")
            .is_some(),
        "preview"
    );

    harness.get_by_label("Copy as Markdown").click();
    harness.step();
    let copied = harness.output().platform_output.commands.iter().any(|c| {
        matches!(c, egui::OutputCommand::CopyText(text) if text.starts_with("## Stream Doctor: Reachable from here"))
    });
    assert!(copied, "the Markdown went to the clipboard");

    harness.get_by_label("Export JSON…").click();
    harness.run_steps(2);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["checks"].as_array().map(Vec::len), Some(8));

    harness.get_by_label("Open report…").click();
    harness.run_steps(3);
    assert!(harness.state().viewing.is_some());
    assert!(
        harness
            .query_by_label_contains("Viewing a saved report, read-only: report.json")
            .is_some()
    );
    assert_eq!(
        harness.query_all_by_label("✔ Pass").count(),
        7,
        "the saved checks are shown"
    );
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Enter);
    harness.step();
    assert!(harness.state().is_idle(), "a saved report cannot be re-run");
    harness
        .get_all_by_label("Close report")
        .next()
        .unwrap()
        .click();
    harness.run_steps(2);
    assert!(harness.state().viewing.is_none());
}

/// What leaves the window (the clipboard, exported files) never holds the auth token typed
/// into it or the password of the URL checked, while the check itself ran with both.
#[test]
fn the_reports_the_window_gives_out_hold_no_secret() {
    const TOKEN: &str = "SECRET-window-token-5e21";
    const PASSWORD: &str = "SECRET-window-pass-90ab";
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("report.html");
    let dialogs = Dialogs {
        save: Some(saved.clone()),
        open: None,
    };
    // A real listener, reached by a URL with a password, the token sent to it.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(stream_doctor::server::listener::Listener::start(
            stream_doctor::server::listener::ListenOptions {
                bind: "127.0.0.1:0".parse().unwrap(),
                ..Default::default()
            },
            std::sync::Arc::new(|_| {}),
        ))
        .unwrap();
    let mut harness = app(Harness::builder(), 1280.0, 800.0, dialogs);
    ready(&mut harness);
    {
        let target = &mut harness.state_mut().target;
        target.settings.use_demo = false;
        target.settings.url = format!(
            "ws://alice:{PASSWORD}@127.0.0.1:{}/api/calls/1/audio",
            listener.addr().port()
        );
        target.auth_token = TOKEN.into();
    }
    run_all(&mut harness);
    let store = listener.store();
    let arrived =
        store.lock().unwrap().streams.iter().any(|s| {
            s.request.as_ref().is_some_and(|r| r.auth_token_header) && s.messages.media > 0
        });
    assert!(
        arrived,
        "the provider stream carried the token to the listener"
    );
    harness.get_by_label("Report").click();
    harness.run_steps(2);
    harness.get_by_label("Copy as Markdown").click();
    harness.step();
    let copied: Vec<String> = harness
        .output()
        .platform_output
        .commands
        .iter()
        .filter_map(|c| match c {
            egui::OutputCommand::CopyText(text) => Some(text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(copied.len(), 1);
    harness.get_by_label("Export HTML…").click();
    harness.run_steps(2);
    let exported = std::fs::read_to_string(&saved).unwrap();
    for text in [&copied[0], &exported] {
        assert!(text.contains("alice:[redacted]@"), "{text}");
        assert!(!text.contains(TOKEN) && !text.contains(PASSWORD));
    }
}

/// The Report tab keeps its preview until the session changes: idle frames render nothing.
#[test]
fn the_report_preview_renders_only_when_the_session_changes() {
    let mut harness = harness();
    ready(&mut harness);
    run_all(&mut harness);
    harness.get_by_label("Report").click();
    harness.run_steps(5);
    let renders = harness.state().report_renders();
    assert_eq!(renders, 1, "one render when the tab opens");
    harness.run_steps(20);
    assert_eq!(harness.state().report_renders(), renders);
    harness
        .state_mut()
        .session
        .set_verdict("platform_logs", Verdict::Problem);
    harness.run_steps(2);
    assert_eq!(harness.state().report_renders(), renders + 1);
    assert!(
        harness
            .query_by_label_contains("Read the hosting platform's logs**: Found a problem")
            .is_some(),
        "the new verdict is in the preview"
    );
}

/// A pasted provider code is explained, and its checks run with one click.
#[test]
fn a_provider_code_is_explained_and_its_checks_run() {
    let mut harness = harness();
    ready(&mut harness);
    harness
        .get_by_label("Have an error code from the provider?")
        .click();
    harness.run_steps(2);
    harness.state_mut().explain.code = "31910".into();
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains("SSL Protocol Error")
            .is_some()
    );
    harness.get_by_label("▶ Run these checks").click();
    harness.step();
    step_until(&mut harness, "the run to end", |h| h.state().is_idle());
    let session = &harness.state().session;
    assert_eq!(
        session.result(CheckId::Tls).map(|r| r.status),
        Some(Status::Pass)
    );
    assert!(
        session.result(CheckId::Upgrade).is_none(),
        "only the checks the code is about, and what they need"
    );
}

/// The app with the provider's API pointed at the stand-in; keep the runtime alive.
fn with_fake_api() -> (Harness<'static, App>, tokio::runtime::Runtime, FakeTelnyx) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fake = runtime.block_on(FakeTelnyx::start());
    let options = AppOptions {
        picker: Box::new(Dialogs::default()),
        api_key: Some(KEY.into()),
        api_base: Some(fake.base()),
        ..AppOptions::default()
    };
    let harness = app_with(Harness::builder(), 1280.0, 800.0, options);
    (harness, runtime, fake)
}

/// A failed delivery's attempt shows what the user's server answered, body included: often
/// the app's own error page, which says more than the status.
#[test]
fn the_provider_tab_shows_what_a_failed_delivery_got_back() {
    let (mut harness, _runtime, _fake) = with_fake_api();
    harness.get_by_label("Provider").click();
    harness.run_steps(2);
    harness.get_by_label("Webhook deliveries").click();
    step_until(&mut harness, "the deliveries", |h| {
        h.query_by_label("Answer: webhook deliveries").is_some()
    });
    let shown = harness.query_all_by(|node: &egui_kittest::kittest::AccessKitNode<'_>| {
        node.value()
            .is_some_and(|text| text.contains("HTTP 404: \"Cannot POST /webhooks\""))
    });
    assert!(shown.count() > 0, "the attempt's body is shown");
}

/// A bare 403 that no credential changes is named as a missing route in the window too.
#[test]
fn a_refusal_no_credential_changes_is_named_in_the_window() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let refusal = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    let server = runtime
        .block_on(DemoServer::start(Behavior::Respond(refusal.into()), None))
        .unwrap();
    let mut harness = harness();
    harness.get_by_label("My server").click();
    harness.step();
    harness.state_mut().target.settings.url = format!("ws://{}/api/calls/1/audio", server.addr());
    harness.get_by_label("▶ Run all").click();
    harness.step();
    step_until(&mut harness, "the run to end", |h| h.state().is_idle());
    let verdict = harness
        .state()
        .session
        .diagnosis
        .as_ref()
        .and_then(|d| d.verdict().map(|c| c.id));
    assert_eq!(verdict, Some(CauseId::AppNoWebsocketRoute));
    harness.get_by_label("Diagnose").click();
    harness.run_steps(2);
    assert!(
        harness
            .query_all_by_label_contains("app.no_websocket_route")
            .next()
            .is_some()
    );
}

#[test]
fn the_provider_tab_asks_the_api_and_its_findings_join_the_diagnosis() {
    let (mut harness, _runtime, fake) = with_fake_api();
    harness.get_by_label("Provider").click();
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains("None yet. They appear")
            .is_some()
    );
    assert!(harness.query_by_label("Webhooks received (0)").is_some());
    let events = harness.get_by_label("Call events");
    assert!(events.accesskit_node().is_disabled(), "no call id yet");
    harness.state_mut().provider.call_id = "v3:alive".into();
    harness.run_steps(2);
    harness.get_by_label("Call events").click();
    step_until(&mut harness, "the call's events", |h| {
        h.query_by_label("Answer: call events").is_some()
    });
    assert!(
        harness
            .query_by_label_contains("the provider reports that the stream failed")
            .is_some()
    );
    assert!(harness.query_by_label("Provider (1)").is_some());
    let asked = fake.seen();
    assert_eq!(asked[0].path, "/v2/calls/v3:alive");
    assert_eq!(
        asked[0].authorization.as_deref(),
        Some(format!("Bearer {KEY}").as_str())
    );
    let diagnosis = harness.state().session.diagnosis.clone().unwrap();
    assert_eq!(
        diagnosis.verdict().map(|c| c.id),
        Some(CauseId::ProviderStreamFailed)
    );

    // The manual portal step shows the record and offers its verdict.
    harness.get_by_label("Diagnose").click();
    harness.run_steps(2);
    harness
        .get_by_label("Use suggested verdict: Found a problem")
        .click_accesskit();
    harness.run_steps(2);
    let record = &harness.state().session.manual["provider_portal"];
    assert_eq!(record.verdict, Some(Verdict::Problem));

    // A tunnel found on the Live tab gives both URLs the provider needs.
    harness.state_mut().live.tunnel = Some(Ok("wss://abc.ngrok.app".into()));
    harness.get_by_label("Provider (1)").click();
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label("https://abc.ngrok.app/webhooks/telnyx")
            .is_some()
    );
    harness.get_by_label("Use the tunnel").click();
    harness.run_steps(2);
    assert_eq!(
        harness.state().provider.stream_url,
        "wss://abc.ngrok.app/stream"
    );

    let session = harness.state().report_session();
    for format in [Format::Markdown, Format::Html, Format::Json] {
        let text = stream_doctor::report::render(&session, format, &Default::default());
        assert!(text.contains("provider.stream_failed"), "{format:?}");
        assert!(!text.contains(KEY), "the key leaked into {format:?}");
    }
}

#[test]
fn a_webhook_to_the_listener_shows_in_the_provider_tab_with_its_verdict() {
    let (mut harness, _runtime, _fake) = with_fake_api();
    harness.get_by_label("Live streams").click();
    harness.state_mut().live.port = 0;
    harness.run_steps(2);
    harness.get_by_label("Start listening").click();
    step_until(&mut harness, "the listener", |h| {
        h.state().live.listening.is_some()
    });
    let addr = harness.state().live.listening.unwrap();
    let answer = post_webhook(
        addr,
        "streaming.failed",
        "v3:x",
        r#","failure_reason":"connection_failed","stream_params":{"stream_url":"wss://app.example.com/a"}"#,
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    step_until(&mut harness, "the webhook's finding", |h| {
        h.query_by_label("Provider (1)").is_some()
    });
    harness.get_by_label("Provider (1)").click();
    harness.run_steps(2);
    assert!(harness.query_by_label("Webhooks received (1)").is_some());
    assert!(
        harness.query_by_label("✖ unsigned").is_some(),
        "no key given and no signature headers: missing, never trusted"
    );
    assert!(harness.query_by_label("connection_failed").is_some());
    assert!(harness.query_by_label("wss://app.example.com/a").is_some());
    assert_eq!(harness.state().session.webhooks.len(), 1);
}

#[test]
fn watching_a_deployed_listener_shows_its_streams_like_local_ones() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let token = "watch-t0ken";
    let listener = runtime
        .block_on(Listener::start(
            ListenOptions {
                bind: "127.0.0.1:0".parse().unwrap(),
                token: Some(Secret::new(token)),
                ..ListenOptions::default()
            },
            std::sync::Arc::new(|_| {}),
        ))
        .unwrap();
    let addr = listener.addr();
    let mut harness = harness();
    harness.get_by_label("Live streams").click();
    harness.run_steps(2);
    harness.get_by_label("Watch a deployed listener").click();
    harness.run_steps(2);
    assert!(harness.get_by_label("Watch").accesskit_node().is_disabled());
    harness.state_mut().watch.url = format!("ws://{addr}");
    harness.state_mut().watch.token = token.into();
    harness.run_steps(2);
    harness.get_by_label("Watch").click();
    step_until(&mut harness, "the link", |h| {
        h.query_all_by_label_contains("✔ Connected to")
            .next()
            .is_some()
    });
    let replayed = runtime.block_on(stream_doctor::stream::replay::run(
        &support::tone_replay(
            format!("ws://{addr}/{token}/audio"),
            1.0,
            Pace::Max,
            Some("v3:remote"),
        ),
        &|_| {},
    ));
    assert_eq!(replayed.streams[0].error, None);
    step_until(&mut harness, "the remote stream's levels", |h| {
        h.query_by_label("PCMU / 8000 Hz / 1 ch").is_some() && h.query_by_label("50").is_some()
    });
    assert!(harness.query_by_label("v3:remote").is_some());
    listener.stop();
    step_until(&mut harness, "the dropped link", |h| {
        h.query_all_by_label_contains("trying again in")
            .next()
            .is_some()
    });
    harness.get_by_label("Stop watching").click();
    step_until(&mut harness, "the end of the watch", |h| {
        h.query_all_by_label_contains("Not watching: stopped")
            .next()
            .is_some()
    });
    let log = harness.state().session.log_text();
    assert!(!log.contains(token), "the token reached the timeline");
}

#[test]
fn compare_with_a_report_from_elsewhere_marks_the_difference_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let there = dir.path().join("from-ci.json");
    let dialogs = Dialogs {
        save: None,
        open: Some(there.clone()),
    };
    let mut harness = app(Harness::builder(), 1280.0, 800.0, dialogs);
    ready(&mut harness);
    run_all(&mut harness);
    // The same URL checked from a place whose packets a firewall drops.
    let session = harness.state().report_session();
    let mut elsewhere: serde_json::Value = serde_json::from_str(&stream_doctor::report::render(
        &session,
        Format::Json,
        &Default::default(),
    ))
    .unwrap();
    elsewhere["vantage"] = serde_json::json!({"label": "ci", "hostname": "runner-7", "ipv6": true});
    for check in elsewhere["checks"].as_array_mut().unwrap() {
        if check["id"] == "tcp" {
            check["status"] = "fail".into();
            check["summary"] = "no answer from 127.0.0.1 within 2 s".into();
        }
    }
    std::fs::write(&there, elsewhere.to_string()).unwrap();
    harness.get_by_label("Report").click();
    harness.run_steps(2);
    harness.get_by_label("Compare with a report…").click();
    harness.run_steps(3);
    assert!(
        harness
            .query_by_label("Compared with from-ci.json")
            .is_some()
    );
    assert!(
        harness
            .query_by_label("something between the internet and the server blocks it from outside")
            .is_some()
    );
    assert_eq!(harness.get_all_by_label("≠").count(), 1, "only tcp differs");
    assert!(harness.query_by_label("there: ci").is_some());
    harness.get_by_label("Close comparison").click();
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label("Compared with from-ci.json")
            .is_none()
    );
}

/// "Talk to it", the checklist's last step, on the demo target: a real call to the demo's bot,
/// its verdict in the checklist and on the Live tab with its turns, and the call in the report.
#[test]
fn talking_to_the_demo_bot_shows_the_way_back_and_lands_in_the_report() {
    let mut harness = harness();
    ready(&mut harness);
    harness.get_by_label("Talk to it").click();
    harness.run_steps(2);
    assert!(harness.query_by_label("Talking…").is_some());
    assert!(harness.query_by_label("Hang up").is_some());
    step_until(&mut harness, "the call to end", |h| {
        h.state().session.conversation.is_some()
    });
    harness.run_steps(2);
    let report = harness.state().session.conversation.clone().unwrap();
    assert_eq!(report.diagnosis.verdict, Some(CauseId::OkConversation));
    assert!(
        harness
            .query_all_by_label_contains("[ok.conversation] replies in mulaw")
            .next()
            .is_some(),
        "the step shows its verdict"
    );
    harness.get_by_label("Live streams").click();
    harness.run_steps(2);
    assert!(
        harness
            .query_all_by_label_contains("Turn 2: the caller spoke")
            .next()
            .is_some()
    );
    assert!(harness.query_by_label("📞 Talk to it").is_some());
    let markdown = stream_doctor::report::render(
        &harness.state().report_session(),
        Format::Markdown,
        &stream_doctor::secret::Redactor::new(),
    );
    assert!(markdown.contains("the way back from"), "{markdown}");
}

/// A fault of the way back chosen for the demo's bot in the window is named there.
#[test]
fn a_faulty_demo_bot_chosen_in_the_window_is_named() {
    let mut harness = harness();
    ready(&mut harness);
    harness.get_by_label("Live streams").click();
    harness.run_steps(2);
    harness
        .get_by_role_and_label(Role::ComboBox, "Demo bot")
        .click();
    harness.run_steps(2);
    harness.get_by_label("alaw").click();
    harness.run_steps(2);
    harness.get_by_label("📞 Talk to it").click();
    harness.run_steps(2);
    step_until(&mut harness, "the call to end", |h| {
        h.state().session.conversation.is_some()
    });
    harness.run_steps(2);
    let report = harness.state().session.conversation.clone().unwrap();
    assert_eq!(report.diagnosis.verdict, Some(CauseId::ReplyCodecMismatch));
    assert!(
        harness
            .query_all_by_label_contains("[reply.codec_mismatch]")
            .next()
            .is_some()
    );
}

/// Socket.IO (items 8 and 9 of the way providers meet real frameworks) is named in the window as
/// on the command line: a real socket.io 4 server (npm, `scripts/setup-frameworks`), checked at
/// its own Engine.IO URL, where it upgrades and then speaks Engine.IO.
#[test]
fn a_socket_io_server_is_named_in_the_window() {
    use std::io::{BufRead, BufReader};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let node_modules = root.join("target/frameworks/node/node_modules");
    assert!(
        node_modules.join("socket.io").exists(),
        "run scripts/setup-frameworks (scripts/test does)"
    );
    let mut server = std::process::Command::new("node")
        .arg(root.join("tests/frameworks/socketio_server.js"))
        .env("NODE_PATH", &node_modules)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line.trim().parse().unwrap();
    let mut harness = harness();
    harness.get_by_label("My server").click();
    harness.step();
    {
        let settings = &mut harness.state_mut().target.settings;
        settings.url = format!("ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket");
        settings.timeout_secs = 3.0;
    }
    harness.get_by_label("▶ Run all").click();
    harness.step();
    step_until(&mut harness, "the run to end", |h| h.state().is_idle());
    let verdict = harness
        .state()
        .session
        .diagnosis
        .as_ref()
        .and_then(|d| d.verdict().map(|c| c.id));
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(verdict, Some(CauseId::AppSocketioProtocol));
    harness.run_steps(2);
    assert!(
        harness
            .query_all_by_label_contains("app.socketio_protocol")
            .next()
            .is_some()
    );
}
