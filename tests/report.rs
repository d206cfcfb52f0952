//! Reports rendered from real sessions (a healthy and a failing check run against the demo
//! target, manual verdicts and notes, a replayed stream): their content, the HTML read by a
//! real HTML parser, no external references, secrets in no format, and a JSON round trip.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use stream_doctor::audio::Codec;
use stream_doctor::catalog::CheckId;
use stream_doctor::catalog::Provider;
use stream_doctor::check::options::CheckOptions;
use stream_doctor::checklist::Verdict;
use stream_doctor::demo::{DemoMode, DemoTarget};
use stream_doctor::probe;
use stream_doctor::report::{self, Format};
use stream_doctor::secret::Secret;
use stream_doctor::server::listener::{ListenOptions, Listener};
use stream_doctor::session::{Session, SessionOptions};
use stream_doctor::stream::replay::{self, Pace, ReplayOptions, Source, Tracks};

mod support;

const SECRETS: [&str; 5] = [
    "tok-SECRET-1",
    "Bearer SECRET-2",
    "sid=SECRET-3",
    "SECRET-4-hdr",
    "listen-SECRET-5",
];

/// A session from a real check run against the demo target in `mode`, with secrets set.
async fn checked(mode: DemoMode) -> Session {
    let demo = DemoTarget::start(mode.behavior()).await.unwrap();
    let options = CheckOptions {
        observe: Duration::ZERO,
        resolve: vec![demo.pin.clone()],
        extra_roots: vec![demo.root.clone()],
        auth_token: Some(Secret::new(SECRETS[0])),
        headers: vec![
            ("Authorization".into(), SECRETS[1].into()),
            ("Cookie".into(), SECRETS[2].into()),
            ("x-telnyx-streaming-auth-token".into(), SECRETS[3].into()),
        ],
        ..CheckOptions::default()
    };
    let report = probe::run(&demo.url, &options, &|_| {}).await;
    let mut session = Session::from_check(&report, SessionOptions::from_check(&options, None));
    session.set_verdict("platform_logs", Verdict::Problem);
    session
        .notes_mut("platform_logs")
        .push_str("No GET /api/calls at 14:02 in the Railway log");
    session.set_verdict("provider_portal", Verdict::Ok);
    session
}

/// Adds a replayed stream (both tracks) that went through a token-gated listener.
async fn with_stream(mut session: Session) -> Session {
    let options = ListenOptions {
        bind: "127.0.0.1:0".parse().unwrap(),
        token: Some(Secret::new(SECRETS[4])),
        ..ListenOptions::default()
    };
    let mut listener = Listener::start(options, Arc::new(|_| {})).await.unwrap();
    let replay_options = ReplayOptions {
        url: format!("ws://{}/calls/{}/audio", listener.addr(), SECRETS[4]),
        protocol: Provider::Telnyx,
        codec: Codec::Pcmu,
        source: Source::Tone {
            freq_hz: 440.0,
            seconds: 2.0,
        },
        tracks: Tracks::Both,
        pace: Pace::Max,
        streams: 1,
        timeout: Duration::from_secs(5),
        resolve: Vec::new(),
        extra_roots: Vec::new(),
        auth_token: None,
        twilio_auth_token: None,
        call_id: None,
        custom_parameters: Default::default(),
    };
    replay::run(&replay_options, &|_| {}).await;
    listener.wait_for_closed(1).await;
    listener.stop();
    let live = listener.store();
    let streams = live.lock().unwrap().streams.clone();
    session.set_streams(streams.iter());
    session
}

fn all_formats(session: &Session) -> Vec<(Format, String)> {
    [Format::Markdown, Format::Html, Format::Json]
        .into_iter()
        .map(|f| (f, report::render(session, f, &Default::default())))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_format_carries_verdict_checks_levels_and_notes() {
    let healthy = with_stream(checked(DemoMode::Healthy).await).await;
    let failing = checked(DemoMode::PathMismatch).await;
    for (session, verdict) in [
        (&healthy, "Reachable from here"),
        (
            &failing,
            "The provider cannot connect: the server's route does not match this path",
        ),
    ] {
        for (format, text) in all_formats(session) {
            let verdict = if format == Format::Html {
                report::html::escape(verdict)
            } else {
                verdict.to_string()
            };
            assert!(text.contains(&verdict), "{format:?} lacks the verdict");
            for id in CheckId::ALL {
                assert!(
                    text.contains(id.as_str()),
                    "{format:?} lacks check {}",
                    id.as_str()
                );
            }
            assert!(
                text.contains("No GET /api/calls at 14:02 in the Railway log"),
                "{format:?} lacks the notes"
            );
        }
    }
    support::golden_session("session_with_a_stream", &healthy);
    support::golden_session("session_path_mismatch", &failing);
    let markdown = report::render(&healthy, Format::Markdown, &Default::default());
    assert!(markdown.starts_with("## Stream Doctor: Reachable from here"));
    assert!(markdown.contains("| ✔ pass | tls |"));
    assert!(markdown.contains("- **Read the hosting platform's logs**: Found a problem: No GET"));
    assert!(
        markdown.contains(
            "| 1 | telnyx | `/calls/[redacted]/audio` | PCMU/8000 | inbound | 100 | -9.0 dBFS"
        ),
        "{markdown}"
    );
    let failing_md = report::render(&failing, Format::Markdown, &Default::default());
    assert!(
        failing_md.contains("WebSocketServer({ noServer: true })"),
        "the fix snippet is in the ticket"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_html_parses_stands_alone_and_draws_levels() {
    let session = with_stream(checked(DemoMode::Healthy).await).await;
    let html = report::render(&session, Format::Html, &Default::default());
    let page = scraper::Html::parse_document(&html);
    assert!(
        page.errors.is_empty(),
        "HTML parse errors: {:?}",
        page.errors
    );
    let select = |css: &str| scraper::Selector::parse(css).unwrap();
    assert_eq!(page.select(&select("h1")).count(), 1);
    assert!(
        page.select(&select("meta[name=viewport]")).next().is_some(),
        "readable on a phone"
    );
    for tag in ["script", "link", "img", "iframe", "object", "embed"] {
        assert_eq!(
            page.select(&select(tag)).count(),
            0,
            "a <{tag}> in a self-contained page"
        );
    }
    for element in page.select(&select("*")) {
        for attr in ["src", "href", "srcset", "data"] {
            if let Some(value) = element.value().attr(attr) {
                assert!(value.starts_with('#'), "external reference {attr}={value}");
            }
        }
    }
    assert!(!html.contains("url("), "no CSS fetches");
    let summaries: Vec<String> = page
        .select(&select("details > summary"))
        .map(|s| s.text().collect())
        .collect();
    assert!(
        summaries
            .iter()
            .any(|s| s.starts_with("Certificate chain (2 sent)")),
        "{summaries:?}"
    );
    assert!(
        summaries.iter().any(|s| s == "Raw request and answer"),
        "{summaries:?}"
    );
    let lines = page.select(&select("svg polyline")).count();
    assert_eq!(lines, 4, "RMS and peak for each of the two tracks");
    let points = page
        .select(&select("svg polyline"))
        .next()
        .unwrap()
        .value()
        .attr("points")
        .unwrap();
    assert!(
        points.split(' ').count() >= 90,
        "a level history, not a dot"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_reaches_any_format() {
    let session = with_stream(checked(DemoMode::AuthRequired).await).await;
    for (format, text) in all_formats(&session) {
        for secret in SECRETS {
            let needle = secret
                .trim_start_matches("Bearer ")
                .trim_start_matches("sid=");
            assert!(!text.contains(needle), "{format:?} shows {needle}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_json_report_round_trips_through_the_report_command() {
    let session = with_stream(checked(DemoMode::Healthy).await).await;
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("session.json");
    std::fs::write(
        &saved,
        report::render(&session, Format::Json, &Default::default()),
    )
    .unwrap();
    let run = |format: &str, out: Option<&std::path::Path>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_stream-doctor"));
        command.args(["report", saved.to_str().unwrap(), "--format", format]);
        if let Some(out) = out {
            command.args(["--out", out.to_str().unwrap()]);
        }
        command.output().unwrap()
    };
    let json = run("json", None);
    assert_eq!(
        json.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&json.stderr)
    );
    let again: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let original: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(again, original);
    assert_eq!(original["schema_version"], 1);
    assert!(original["checks"].is_array() && original["diagnosis"]["causes"].is_array());
    let html_file = dir.path().join("report.html");
    let html = run("html", Some(&html_file));
    assert_eq!(html.status.code(), Some(0));
    assert!(
        std::fs::read_to_string(&html_file)
            .unwrap()
            .starts_with("<!DOCTYPE html>")
    );
    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, "not a session").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_stream-doctor"))
        .args(["report", garbage.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a Stream Doctor session"));
}
