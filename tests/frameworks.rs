//! The app's own software, named from real frameworks run as servers on 127.0.0.1: a
//! Socket.IO server (npm's socket.io on Node), and FastAPI on uvicorn without and with a
//! WebSocket library (PyPI). `scripts/setup-frameworks` installs them into target/frameworks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use std::sync::Arc;

use stream_doctor::catalog::{CauseId, CheckId, Provider};
use stream_doctor::check::Status;
use stream_doctor::check::evidence::RetryReason;
use stream_doctor::check::options::CheckOptions;
use stream_doctor::converse::{self, ConverseOptions};
use stream_doctor::provider::signature::twilio_sign;
use stream_doctor::provider::webhook::Keys;
use stream_doctor::records::webhook::SignatureVerdict;
use stream_doctor::secret::Secret;
use stream_doctor::server::listener::{ListenOptions, Listener};
use stream_doctor::stream::replay::{self, Pace};
use support::{dump, first_failure, run_url};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A framework server; killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn frameworks() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/frameworks");
    assert!(
        dir.join("node/node_modules/socket.io").exists()
            && dir.join("uvicorn-plain/bin/python").exists()
            && dir.join("uvicorn-ws/bin/python").exists(),
        "the framework servers are missing: run scripts/setup-frameworks (scripts/test does)"
    );
    dir
}

/// Starts `program args`, reads the port it prints first.
fn serve(mut command: Command) -> Server {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the framework server starts");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let port = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("no port from the server: {line:?}"));
    Server { child, port }
}

fn app(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/frameworks")
        .join(name)
        .display()
        .to_string()
}

fn uvicorn(variant: &str) -> Server {
    uvicorn_app(variant, "fastapi_app.py", &[])
}

fn uvicorn_app(variant: &str, file: &str, env: &[(&str, &str)]) -> Server {
    let python = frameworks().join(format!("uvicorn-{variant}/bin/python"));
    let mut command = Command::new(python);
    command.arg(app(file)).envs(env.iter().copied());
    serve(command)
}

fn options() -> CheckOptions {
    CheckOptions {
        timeout: Duration::from_secs(3),
        observe: Duration::from_millis(300),
        ..CheckOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_socket_io_server_is_named() {
    let node_modules = frameworks().join("node/node_modules");
    let mut command = Command::new("node");
    command
        .arg(app("socketio_server.js"))
        .env("NODE_PATH", node_modules);
    let server = serve(command);
    let url = format!("ws://127.0.0.1:{}/api/calls/123/audio", server.port);
    let report = run_url(&url, &options()).await;
    assert_eq!(
        first_failure(&report),
        Some(CauseId::AppSocketioProtocol),
        "{}",
        dump(&report)
    );
    let upgrade = report
        .check(CheckId::Upgrade)
        .unwrap()
        .details
        .upgrade()
        .unwrap();
    let by = upgrade.answered_by.as_ref().unwrap();
    assert_eq!(by.name, "socket.io");
    assert!(report.diagnosis.causes[0].fix.contains("noServer"));

    // At Socket.IO's own path the refusal itself says so.
    let own = format!("ws://127.0.0.1:{}/socket.io/", server.port);
    let report = run_url(&own, &options()).await;
    assert_eq!(
        first_failure(&report),
        Some(CauseId::AppSocketioProtocol),
        "{}",
        dump(&report)
    );

    // At its full Engine.IO URL it upgrades, then speaks first: the open packet names it.
    let engine_io = format!(
        "ws://127.0.0.1:{}/socket.io/?EIO=4&transport=websocket",
        server.port
    );
    let report = run_url(&engine_io, &options()).await;
    assert_eq!(
        report.check(CheckId::Upgrade).unwrap().status,
        Status::Pass,
        "{}",
        dump(&report)
    );
    assert_eq!(
        first_failure(&report),
        Some(CauseId::AppSocketioProtocol),
        "{}",
        dump(&report)
    );
    let session = report.check(CheckId::Websocket).unwrap();
    assert!(
        session.summary.contains("Engine.IO open packet"),
        "{}",
        session.summary
    );
    assert!(!report.diagnosis.reachable);
}

/// python-socketio over FastAPI: the call path gets a bare 403 that says nothing of Socket.IO;
/// Engine.IO's own handshake beside it does.
#[tokio::test(flavor = "multi_thread")]
async fn python_socketio_over_fastapi_is_named() {
    let server = uvicorn_app("ws", "socketio_fastapi_app.py", &[]);
    let url = format!("ws://127.0.0.1:{}/api/calls/123/audio", server.port);
    let report = run_url(&url, &options()).await;
    let upgrade = report.check(CheckId::Upgrade).unwrap();
    let evidence = upgrade.details.upgrade().unwrap();
    assert_eq!(evidence.exchange.status, Some(403), "{}", dump(&report));
    assert_eq!(
        first_failure(&report),
        Some(CauseId::AppSocketioProtocol),
        "{}",
        dump(&report)
    );
    assert_eq!(evidence.answered_by.as_ref().unwrap().name, "socket.io");
}

#[tokio::test(flavor = "multi_thread")]
async fn uvicorn_without_a_websocket_library_is_named() {
    let server = uvicorn("plain");
    let url = format!("ws://127.0.0.1:{}/api/calls/123/audio", server.port);
    let report = run_url(&url, &options()).await;
    assert_eq!(
        first_failure(&report),
        Some(CauseId::AppWebsocketSupportMissing),
        "{}",
        dump(&report)
    );
    let cause = &report.diagnosis.causes[0];
    assert!(cause.summary.contains("uvicorn"), "{}", cause.summary);
    assert!(cause.fix.contains("uvicorn[standard]"), "{}", cause.fix);
}

/// The same app with `uvicorn[standard]`: it upgrades, and a missing route is not mistaken for
/// missing WebSocket support.
#[tokio::test(flavor = "multi_thread")]
async fn uvicorn_with_a_websocket_library_upgrades() {
    let server = uvicorn("ws");
    let url = format!("ws://127.0.0.1:{}/api/calls/123/audio", server.port);
    let report = run_url(&url, &options()).await;
    assert_eq!(
        report.check(CheckId::Upgrade).unwrap().status,
        Status::Pass,
        "{}",
        dump(&report)
    );
    let elsewhere = format!("ws://127.0.0.1:{}/no/such/route", server.port);
    let report = run_url(&elsewhere, &options()).await;
    let causes: Vec<CauseId> = report.diagnosis.causes.iter().map(|c| c.id).collect();
    assert!(
        !causes.contains(&CauseId::AppWebsocketSupportMissing),
        "{}",
        dump(&report)
    );
    // Starlette's 403 for a route it does not have asks for nothing, and no credential
    // changes it: asked again with an Origin and with an Authorization header, it is the same.
    assert_eq!(
        first_failure(&report),
        Some(CauseId::AppNoWebsocketRoute),
        "{}",
        dump(&report)
    );
    assert!(!causes.contains(&CauseId::HttpAuthRequired), "{causes:?}");
    let upgrade = report.check(CheckId::Upgrade).unwrap();
    let evidence = upgrade.details.upgrade().unwrap();
    let retry = evidence.retry.as_ref().unwrap();
    assert_eq!(retry.why, RetryReason::WithOrigin);
    assert_eq!(evidence.further.len(), 1);
    assert_eq!(evidence.further[0].why, RetryReason::WithAuthorization);
    assert!(
        evidence.further[0]
            .exchange
            .request
            .contains("Authorization: ")
    );
    assert_eq!(evidence.further[0].exchange.status, Some(403));
    let cause = &report.diagnosis.causes[0];
    assert!(cause.fix.contains("@app.websocket"), "{}", cause.fix);
}

/// The same refusal where the app has a route at a common path: that path is named.
#[tokio::test(flavor = "multi_thread")]
async fn a_route_at_a_common_path_is_named() {
    let server = uvicorn_app("ws", "fastapi_app.py", &[("MEDIA_STREAM_ROUTE", "1")]);
    let url = format!("ws://127.0.0.1:{}/api/media/stream", server.port);
    let report = run_url(&url, &options()).await;
    assert_eq!(
        first_failure(&report),
        Some(CauseId::WsPathMismatch),
        "{}",
        dump(&report)
    );
    let cause = &report.diagnosis.causes[0];
    assert!(
        cause.summary.contains("'/media-stream'"),
        "{}",
        cause.summary
    );
    assert!(cause.fix.contains("another path"), "{}", cause.fix);
    let causes: Vec<CauseId> = report.diagnosis.causes.iter().map(|c| c.id).collect();
    assert!(
        !causes.contains(&CauseId::AppNoWebsocketRoute),
        "{causes:?}"
    );
}

const TWILIO_TOKEN: &str = "twilio-acct-t0ken-91";

fn twilio_options(token: Option<&str>) -> CheckOptions {
    CheckOptions {
        protocol: Provider::Twilio,
        twilio_auth_token: token.map(Secret::new),
        ..options()
    }
}

/// A server that validates X-Twilio-Signature with Twilio's own validator: the check signs as
/// Twilio does and gets in; unsigned, it is refused and the fix names the signature; signed
/// with another account's token, it is refused and the fix says so. `replay` signs too.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_validating_twilios_signature_lets_the_signed_check_in() {
    let server = uvicorn_app(
        "ws",
        "twilio_media_app.py",
        &[("TWILIO_AUTH_TOKEN", TWILIO_TOKEN)],
    );
    let url = format!("ws://127.0.0.1:{}/media-stream?call=CA1", server.port);

    let report = run_url(&url, &twilio_options(Some(TWILIO_TOKEN))).await;
    assert!(report.diagnosis.reachable, "{}", dump(&report));
    assert_eq!(
        report.check(CheckId::Provider).unwrap().status,
        Status::Pass,
        "{}",
        dump(&report)
    );

    let report = run_url(&url, &twilio_options(None)).await;
    assert_eq!(
        first_failure(&report),
        Some(CauseId::HttpAuthRequired),
        "{}",
        dump(&report)
    );
    let fix = &report.diagnosis.causes[0].fix;
    assert!(fix.contains("--twilio-auth-token"), "{fix}");

    let report = run_url(&url, &twilio_options(Some("another-account"))).await;
    assert_eq!(
        first_failure(&report),
        Some(CauseId::HttpAuthRequired),
        "{}",
        dump(&report)
    );
    assert!(
        report.diagnosis.causes[0]
            .fix
            .contains("another account's auth token"),
        "{}",
        report.diagnosis.causes[0].fix
    );
    let upgrade = report
        .check(CheckId::Upgrade)
        .unwrap()
        .details
        .upgrade()
        .unwrap();
    assert!(upgrade.exchange.request.contains("X-Twilio-Signature: "));
    assert!(
        !upgrade
            .exchange
            .request
            .contains(&twilio_sign("another-account", &url, &[])),
        "the signature is masked like any header value"
    );

    let mut replay = support::tone_replay(url.clone(), 0.4, Pace::Max, None);
    replay.protocol = Provider::Twilio;
    replay.twilio_auth_token = Some(Secret::new(TWILIO_TOKEN));
    let sent = replay::run(&replay, &|_| {}).await;
    assert_eq!(sent.streams[0].error, None, "{:?}", sent.streams[0]);
    assert!(sent.media_frames_sent > 0);
}

/// `converse` signs its call as Twilio does: the validating server lets the signed call in and
/// refuses the unsigned one.
#[tokio::test(flavor = "multi_thread")]
async fn converse_signs_its_call_as_twilio_does() {
    let server = uvicorn_app(
        "ws",
        "twilio_media_app.py",
        &[("TWILIO_AUTH_TOKEN", TWILIO_TOKEN)],
    );
    let call = |token: Option<&str>| ConverseOptions {
        url: format!("ws://127.0.0.1:{}/media-stream?call=CA2", server.port),
        protocol: Provider::Twilio,
        twilio_auth_token: token.map(Secret::new),
        turns: 1,
        timeout: Duration::from_secs(2),
        ..ConverseOptions::default()
    };
    let (with_token, without) = (call(Some(TWILIO_TOKEN)), call(None));
    let (signed, unsigned) = tokio::join!(converse::run(&with_token), converse::run(&without));
    let signed = signed.unwrap();
    assert!(signed.calls[0].connected, "{:?}", signed.calls[0].problem);
    assert_eq!(
        signed.diagnosis.verdict,
        Some(CauseId::ReplyNone),
        "it never answers"
    );
    let unsigned = unsigned.unwrap();
    assert!(!unsigned.calls[0].connected);
    let problem = unsigned.calls[0].problem.as_deref().unwrap_or_default();
    assert!(problem.contains("403"), "{problem}");
}

/// A JSON callback signed by Twilio's own SDK (bodySHA256 in the URL) is valid at the
/// listener; the same body changed on the way is not.
#[tokio::test(flavor = "multi_thread")]
async fn a_twilio_json_callback_signed_by_its_sdk_is_valid() {
    let listener = Listener::start(
        ListenOptions {
            bind: "127.0.0.1:0".parse().unwrap(),
            webhook_keys: Keys {
                telnyx_public_key: None,
                twilio_auth_token: Some(Secret::new(TWILIO_TOKEN)),
            },
            ..ListenOptions::default()
        },
        Arc::new(|_| {}),
    )
    .await
    .unwrap();
    let addr = listener.addr();
    let body = r#"{"StreamEvent":"stream-error","StreamSid":"MZ9","CallSid":"CA9","StreamError":"Connection timeout"}"#;
    let python = frameworks().join("uvicorn-ws/bin/python");
    let signed = Command::new(python)
        .args([
            "-c",
            "import sys; from twilio.request_validator import RequestValidator as V; v = V(sys.argv[1]); h = v.compute_hash(sys.argv[3]); url = sys.argv[2] + '?bodySHA256=' + h; print(url); print(v.compute_signature(url, {}))",
            TWILIO_TOKEN,
            &format!("http://{addr}/webhooks/twilio"),
            body,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(signed.stdout).unwrap();
    let mut lines = text.lines();
    let (url, signature) = (lines.next().unwrap(), lines.next().unwrap());
    let path = url.trim_start_matches(&format!("http://{addr}"));
    for (sent, valid) in [
        (body.to_string(), true),
        (body.replace("CA9", "CA8"), false),
    ] {
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nX-Twilio-Signature: {signature}\r\nContent-Length: {}\r\n\r\n{sent}",
            sent.len()
        );
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut answer)).await;
        let last = loop {
            let hooks = listener.store().lock().unwrap().webhooks.clone();
            if hooks.len() == 1 + usize::from(!valid) {
                break hooks.last().cloned().unwrap();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let want = if valid {
            SignatureVerdict::Valid
        } else {
            SignatureVerdict::Invalid
        };
        assert_eq!(last.signature, want, "{last:?}");
        assert_eq!(last.event_type, "stream-error");
        assert_eq!(last.failure_reason.as_deref(), Some("Connection timeout"));
    }
}
