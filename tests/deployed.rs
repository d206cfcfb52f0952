//! The listener as it runs deployed on a platform: off loopback only with a token, `PORT` from
//! the environment, `/healthz` open, the token taken from the path or the provider's header,
//! the provider's upgrade request recorded, and the monitor (and `watch`) showing a real
//! stream's events to someone else, never the token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::free_port;

use std::net::SocketAddr;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use stream_doctor::records::live::{LiveStreams, StreamState};
use stream_doctor::secret::Secret;
use stream_doctor::server::listener::{ListenOptions, Listener};
use stream_doctor::server::monitor::{Happening, MonitorEvent};
use stream_doctor::server::watch::{self, WatchEnd, WatchError, WatchOptions};
use stream_doctor::stream::replay::{self, Pace, ReplayOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOKEN: &str = "deploy-t0ken-5150";
const AUTH_TOKEN: &str = "provider-auth-xyz";

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_stream-doctor"))
}

fn clean(mut command: Command) -> Command {
    for var in [
        "PORT",
        "STREAM_DOCTOR_TOKEN",
        "STREAM_DOCTOR_LISTEN_TOKEN",
        "STREAM_DOCTOR_AUTH_TOKEN",
    ] {
        command.env_remove(var);
    }
    command
}

async fn output(command: Command) -> Output {
    let mut command = clean(command);
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn listener() -> Listener {
    let options = ListenOptions {
        bind: "127.0.0.1:0".parse().unwrap(),
        token: Some(Secret::new(TOKEN)),
        ..ListenOptions::default()
    };
    Listener::start(options, Arc::new(|_| {})).await.unwrap()
}

fn replay_to(url: String, auth_token: Option<&str>) -> ReplayOptions {
    ReplayOptions {
        auth_token: auth_token.map(Secret::new),
        ..support::tone_replay(url, 1.5, Pace::Realtime, Some("v3:deployed"))
    }
}

fn watch_options(listener: &Listener, token: &str) -> WatchOptions {
    WatchOptions {
        url: format!("ws://{}", listener.addr()),
        token: Some(Secret::new(token)),
        timeout: Duration::from_secs(5),
        extra_roots: Vec::new(),
        resolve: Vec::new(),
    }
}

/// One raw HTTP exchange; the whole answer (empty when nothing listens yet).
async fn http(addr: SocketAddr, request: &str) -> String {
    let Ok(mut tcp) = tokio::net::TcpStream::connect(addr).await else {
        return String::new();
    };
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_string(&mut answer)).await;
    answer
}

/// Sends `request` and reads the answer's head only (an upgraded connection stays open).
async fn answer_head(addr: SocketAddr, request: &str) -> String {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut byte)).await {
            Ok(Ok(1)) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn off_loopback_listen_needs_a_token_or_says_it_goes_without() {
    let mut command = bin();
    command.args(["listen", "--bind", "0.0.0.0:0", "--duration", "0.5"]);
    let out = output(command).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("needs a token"),
        "{}",
        text(&out.stderr)
    );

    let mut command = bin();
    command.args([
        "listen",
        "--bind",
        "0.0.0.0:0",
        "--duration",
        "0.5",
        "--public-without-token",
    ]);
    let out = output(command).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("warning: listening on 0.0.0.0"),
        "{}",
        text(&out.stderr)
    );

    let mut command = clean(bin());
    command
        .args(["listen", "--duration", "0.5"])
        .env("PORT", "eighty");
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("PORT is 'eighty', not a port number"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn port_from_the_environment_binds_all_interfaces_and_healthz_answers_without_a_token() {
    let port = free_port();
    let mut command = clean(bin());
    command
        .args(["listen", "--duration", "3"])
        .env("PORT", port.to_string())
        .env("STREAM_DOCTOR_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command.spawn().unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut answer = String::new();
    for _ in 0..100 {
        answer = http(addr, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
        if !answer.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("\r\n\r\nok"), "{answer}");
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let printed = text(&out.stdout);
    assert!(
        printed.contains(&format!("listening on ws://0.0.0.0:{port}/")),
        "{printed}"
    );
    assert!(!printed.contains(TOKEN) && !text(&out.stderr).contains(TOKEN));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_passes_in_the_path_or_the_providers_header_and_nowhere_else() {
    let listener = listener().await;
    let addr = listener.addr();
    let without = replay::run(&replay_to(format!("ws://{addr}/stream"), None), &|_| {}).await;
    assert!(without.streams[0].error.is_some(), "no token: refused");
    let header = replay::run(
        &replay_to(format!("ws://{addr}/stream"), Some(TOKEN)),
        &|_| {},
    )
    .await;
    assert_eq!(
        header.streams[0].error, None,
        "the provider's auth-token header carries it"
    );
    let path = replay::run(
        &replay_to(format!("ws://{addr}/stream/{TOKEN}"), Some(AUTH_TOKEN)),
        &|_| {},
    )
    .await;
    assert_eq!(path.streams[0].error, None);
    let hook = http(
        addr,
        &format!("POST /webhooks/telnyx HTTP/1.1\r\nHost: x\r\nx-telnyx-streaming-auth-token: {TOKEN}\r\nContent-Length: 2\r\n\r\n{{}}"),
    )
    .await;
    assert!(
        hook.starts_with("HTTP/1.1 404"),
        "a webhook needs the token in its path: {hook}"
    );
    assert!(
        !hook.contains("token"),
        "the refusal says nothing of the token: {hook}"
    );
    // An upgrade as a provider might send it: what it carried is recorded, never the token.
    let upgrade = answer_head(
        addr,
        &format!("GET /stream HTTP/1.1\r\nHost: x\r\nUser-Agent: Telnyx-Media/1.0\r\nOrigin: https://telnyx.example\r\nx-telnyx-streaming-auth-token: {TOKEN}\r\nCF-Ray: 8a1b-IAD\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"),
    )
    .await;
    assert!(upgrade.starts_with("HTTP/1.1 101"), "{upgrade}");
    let summary = listener.stop();
    assert_eq!(summary.refused, 2);
    assert_eq!(summary.streams.len(), 3);
    let seen = summary.streams[2]
        .request
        .clone()
        .expect("the upgrade request");
    assert_eq!(seen.user_agent.as_deref(), Some("Telnyx-Media/1.0"));
    assert!(seen.auth_token_header && seen.origin);
    assert_eq!(seen.edge.map(|e| e.name), Some("cloudflare".to_string()));
    let replayed = summary.streams[0].request.clone().expect("recorded");
    assert!(replayed.auth_token_header && !replayed.origin);
    let json = serde_json::to_string(&summary).unwrap();
    assert!(
        !json.contains(TOKEN) && !json.contains(AUTH_TOKEN),
        "{json}"
    );
}

/// What a watcher connecting now sees within `within`.
async fn monitor_events(listener: &Listener, within: Duration) -> Vec<MonitorEvent> {
    let options = watch_options(listener, TOKEN);
    let monitor = watch::connect(&options).await.unwrap();
    let mut events = Vec::new();
    let mut unreadable = 0;
    {
        let mut keep = |e: MonitorEvent| events.push(e);
        let run = monitor.run(&mut keep, &mut unreadable);
        let _ = tokio::time::timeout(within, run).await;
    }
    assert_eq!(unreadable, 0);
    events
}

#[tokio::test(flavor = "multi_thread")]
async fn the_monitor_shows_a_real_stream_and_replays_it_to_a_late_watcher() {
    let listener = Arc::new(listener().await);
    let url = format!("ws://{}/api/calls/1/audio/{TOKEN}", listener.addr());
    let early = {
        let listener = listener.clone();
        tokio::spawn(async move {
            let options = watch_options(&listener, TOKEN);
            let monitor = watch::connect(&options).await.unwrap();
            let mut events = Vec::new();
            let mut unreadable = 0;
            let ended = monitor
                .run(&mut |e: MonitorEvent| events.push(e), &mut unreadable)
                .await;
            (events, ended)
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sent = replay::run(&replay_to(url, Some(AUTH_TOKEN)), &|_| {}).await;
    assert_eq!(sent.streams[0].error, None);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    listener.stop();
    let (events, ended) = early.await.unwrap();
    assert_eq!(ended, WatchEnd::Closed("the listener stopped".into()));
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| match &e.what {
            Happening::Connect { .. } => "connect",
            Happening::Start { .. } => "start",
            Happening::Levels { .. } => "levels",
            Happening::Stop => "stop",
            Happening::Close(_) => "close",
            _ => "other",
        })
        .collect();
    let first = |k: &str| {
        kinds
            .iter()
            .position(|x| *x == k)
            .unwrap_or_else(|| panic!("no {k}: {kinds:?}"))
    };
    assert!(
        first("connect") < first("start")
            && first("start") < first("stop")
            && first("stop") < first("close"),
        "{kinds:?}"
    );
    let levels: Vec<usize> = events
        .iter()
        .filter_map(|e| match &e.what {
            Happening::Levels { tracks } => Some(tracks["inbound"].points.len()),
            _ => None,
        })
        .collect();
    assert!(!levels.is_empty(), "{kinds:?}");
    assert_eq!(
        levels.iter().sum::<usize>(),
        75,
        "every 20 ms frame of 1.5 s, once: {levels:?}"
    );
    assert!(events.iter().all(|e| !e.replayed && e.stream == Some(1)));
    let Happening::Connect { headers, path, .. } = &events[first("connect")].what else {
        unreachable!()
    };
    assert!(
        path.contains("[redacted]") && !path.contains(TOKEN),
        "{path}"
    );
    let auth = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("x-telnyx-streaming-auth-token"))
        .unwrap();
    assert_eq!(auth.1, "[redacted]");
    let wire = serde_json::to_string(&events).unwrap();
    assert!(!wire.contains(TOKEN) && !wire.contains(AUTH_TOKEN));

    // One reducer: a store rebuilt elsewhere from the monitor's events reads as the listener's.
    let mut remote = LiveStreams::default();
    for event in &events {
        remote.apply(event);
    }
    let store = listener.store();
    {
        let local = store.lock().unwrap();
        let (here, there) = (&local.streams[0], &remote.streams[0]);
        assert_eq!(remote.streams.len(), local.streams.len());
        let lines = |s: &StreamState| {
            s.timeline
                .iter()
                .map(|e| e.text.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(lines(there), lines(here));
        assert!(
            lines(here)
                .iter()
                .any(|l| l.starts_with("start: telnyx PCMU/8000")),
            "{:?}",
            lines(here)
        );
        let (a, b) = (here.summary(), there.summary());
        assert_eq!(
            (
                &b.path,
                &b.protocol,
                &b.stream_id,
                &b.call_control_id,
                &b.media_format,
                &b.closed,
                &b.request
            ),
            (
                &a.path,
                &a.protocol,
                &a.stream_id,
                &a.call_control_id,
                &a.media_format,
                &a.closed,
                &a.request
            )
        );
        let points = |s: &StreamState| {
            s.tracks["inbound"]
                .recent
                .iter()
                .map(|p| p.at_ms)
                .collect::<Vec<_>>()
        };
        assert_eq!(points(there), points(here));
        assert_eq!(there.tracks["inbound"].frames, 75);
    }

    // A watcher that comes after the stream is shown what happened before it came.
    let later = self::listener().await;
    let mut options = replay_to(format!("ws://{}/{TOKEN}", later.addr()), None);
    options.pace = Pace::Max;
    replay::run(&options, &|_| {}).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let events = monitor_events(&later, Duration::from_millis(500)).await;
    assert!(events.len() >= 4, "{events:?}");
    assert!(events.iter().all(|e| e.replayed), "{events:?}");
    assert!(matches!(events[0].what, Happening::Connect { .. }));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_monitor_refuses_a_watcher_without_the_token() {
    let listener = listener().await;
    let answer = http(
        listener.addr(),
        "GET /monitor HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    let options = watch_options(&listener, "wrong");
    match watch::connect(&options).await {
        Err(WatchError::Refused(401, _)) => {}
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a wrong token was let in"),
    }
    let query = http(
        listener.addr(),
        &format!("GET /monitor?token={TOKEN} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"),
    )
    .await;
    assert!(
        query.starts_with("HTTP/1.1 401"),
        "never in a query string: {query}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_prints_a_deployed_listeners_events_until_it_stops() {
    let listener = listener().await;
    let addr = listener.addr();
    let mut command = clean(bin());
    command
        .args(["watch", &format!("ws://{addr}"), "--format", "json"])
        .env("STREAM_DOCTOR_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command.spawn().unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut options = replay_to(format!("ws://{addr}/{TOKEN}/s"), None);
    options.pace = Pace::Max;
    replay::run(&options, &|_| {}).await;
    tokio::time::sleep(Duration::from_millis(1300)).await;
    listener.stop();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    for kind in ["connect", "start", "levels", "stop", "close"] {
        assert!(kinds.contains(&kind), "{kind} missing: {kinds:?}");
    }
    assert!(
        lines
            .iter()
            .all(|l| l["at"].is_string() && l["replayed"].is_boolean())
    );
    assert!(
        text(&out.stderr).contains("the listener closed the monitor"),
        "{}",
        text(&out.stderr)
    );
    assert!(!text(&out.stdout).contains(TOKEN));

    let mut command = bin();
    command.args(["watch", &format!("ws://{addr}"), "--timeout", "1"]);
    let out = output(command).await;
    assert_eq!(out.status.code(), Some(1), "the listener is gone");
    assert!(
        text(&out.stderr).contains("cannot watch"),
        "{}",
        text(&out.stderr)
    );
}

/// `listen | head -1`: the reader goes away after one line; the listener keeps serving.
#[tokio::test(flavor = "multi_thread")]
async fn a_reader_that_goes_away_does_not_take_the_listener_down() {
    use std::io::BufRead;
    let port = free_port();
    let mut command = clean(bin());
    command
        .args([
            "listen",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--duration",
            "4",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let first = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
        line
    })
    .await
    .unwrap();
    assert!(first.starts_with("listening on"), "{first}");
    let mut options = replay_to(format!("ws://127.0.0.1:{port}/s"), None);
    options.pace = Pace::Max;
    let sent = replay::run(&options, &|_| {}).await;
    assert_eq!(sent.streams[0].error, None, "{:?}", sent.streams[0]);
    let closed_normally = matches!(
        sent.streams[0].close,
        Some(stream_doctor::records::close::Close::Frame {
            code: Some(1000),
            ..
        })
    );
    assert!(closed_normally, "{:?}", sent.streams[0]);
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    // Only the summary at the end has nowhere to go: said, not panicked over.
    assert!(
        !text(&out.stderr).contains("panicked"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("Broken pipe"),
        "{}",
        text(&out.stderr)
    );
}
