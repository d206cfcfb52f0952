//! Every kind of secret at once (the stream auth token, header values from `-H` and the
//! environment, the listener's token in paths, headers and webhook URLs, the Twilio auth token,
//! the provider's API key, a URL's password), through every command a person runs. Each
//! command is first shown to have done its work (streams arrived, webhooks were judged,
//! findings fired, recordings were written, reports were made), then every output, file, file
//! name, log line and report is searched for each secret. Commands: check (every format, the
//! GitHub files), listen, watch, replay, report, compare, telnyx, and two that fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use base64::Engine;
use ed25519_dalek::SigningKey;
use serde_json::Value;
use stream_doctor::provider::signature::telnyx_sign;
use stream_doctor::secret::Secret;
use stream_doctor::stream::replay::{self, Pace};
use support::telnyx_api::{FakeTelnyx, KEY};
use support::{free_port, tone_replay};

const AUTH_TOKEN: &str = "SECRET-auth-7f3a";
const HEADER_VALUE: &str = "SECRET-header-91c2";
const ENV_HEADER_VALUE: &str = "SECRET-envheader-44d0";
const LISTEN_TOKEN: &str = "SECRET-listen-e5b8";
const TWILIO_TOKEN: &str = "SECRET-twilio-0a9d";
const URL_PASSWORD: &str = "SECRET-password-6be1";
const ALL: [&str; 7] = [
    AUTH_TOKEN,
    HEADER_VALUE,
    ENV_HEADER_VALUE,
    LISTEN_TOKEN,
    TWILIO_TOKEN,
    URL_PASSWORD,
    KEY,
];

fn bin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_stream-doctor"));
    for var in [
        "PORT",
        "STREAM_DOCTOR_TOKEN",
        "STREAM_DOCTOR_LISTEN_TOKEN",
        "STREAM_DOCTOR_AUTH_TOKEN",
        "STREAM_DOCTOR_HEADERS",
        "TELNYX_API_KEY",
        "TWILIO_AUTH_TOKEN",
        "GITHUB_OUTPUT",
        "GITHUB_STEP_SUMMARY",
        "GITHUB_WORKSPACE",
    ] {
        command.env_remove(var);
    }
    command
}

fn clean(what: &str, text: &str) {
    for secret in ALL {
        assert!(!text.contains(secret), "{what} shows {secret}:\n{text}");
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Both streams clean, and the exit status the command should have earned.
fn outputs(what: &str, out: &Output, status: i32) {
    clean(&format!("{what} (stdout)"), &stdout(out));
    clean(&format!("{what} (stderr)"), &stderr(out));
    assert_eq!(
        out.status.code(),
        Some(status),
        "{what}: {}{}",
        stdout(out),
        stderr(out)
    );
}

async fn run(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

async fn until_listening(port: u16) {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nothing listens on {port}");
}

/// One HTTP POST; the answer's status line.
async fn post(port: u16, path: &str, headers: &[(&str, String)], body: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(body.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

fn telnyx_webhook(event: &str, call: &str, stream_url: &str) -> String {
    format!(
        r#"{{"data":{{"record_type":"event","event_type":"{event}","id":"e1","occurred_at":"2026-11-25T14:00:00Z","payload":{{"call_control_id":"{call}","failure_reason":"connection_failed","stream_url":"{stream_url}"}}}},"meta":{{"attempt":1}}}}"#
    )
}

/// Sends SIGINT, as Ctrl-C would: the listener then prints its summary.
fn interrupt(child: &std::process::Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn files_under(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_reaches_any_output_file_or_report() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    let recordings = path("recordings");
    std::fs::create_dir(&recordings).unwrap();

    // The listener, with its token, the Twilio auth token and a Telnyx key to judge by.
    let telnyx_key = SigningKey::from_bytes(&[7; 32]);
    let public_key =
        base64::engine::general_purpose::STANDARD.encode(telnyx_key.verifying_key().as_bytes());
    let port = free_port();
    let token_url = format!("wss://app.example.com/calls/{LISTEN_TOKEN}/audio");
    let mut listen = bin();
    listen
        .args(["listen", "--bind", &format!("127.0.0.1:{port}")])
        .args(["--format", "json", "--started-grace", "0.5"])
        .args([
            "--expect-url",
            &format!("wss://elsewhere.example/calls/{LISTEN_TOKEN}/audio"),
        ])
        .args(["--webhook-public-key", &public_key])
        .arg("--record")
        .arg(&recordings)
        .env("STREAM_DOCTOR_TOKEN", LISTEN_TOKEN)
        .env("TWILIO_AUTH_TOKEN", TWILIO_TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let listening = listen.spawn().unwrap();
    until_listening(port).await;
    let mut watch = bin();
    watch
        .args([
            "watch",
            &format!("ws://127.0.0.1:{port}"),
            "--format",
            "json",
        ])
        .env("STREAM_DOCTOR_TOKEN", LISTEN_TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let watching = watch.spawn().unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;

    // check, every format and the GitHub files, of a URL with a password and the token in its
    // path, sending the auth token and two header values: its provider stream reaches the
    // listener.
    let checked = format!("ws://alice:{URL_PASSWORD}@127.0.0.1:{port}/calls/{LISTEN_TOKEN}/audio");
    for format in ["text", "json", "markdown", "html"] {
        let mut command = bin();
        command
            .args([
                "check",
                &checked,
                "--observe",
                "0",
                "--auth-token",
                AUTH_TOKEN,
            ])
            .args([
                "-H",
                &format!("X-Api-Key: {HEADER_VALUE}"),
                "--format",
                format,
            ])
            .env(
                "STREAM_DOCTOR_HEADERS",
                format!("X-Other: {ENV_HEADER_VALUE}"),
            )
            // The listener's token is a secret this command knows from the environment.
            .env("STREAM_DOCTOR_TOKEN", LISTEN_TOKEN)
            .env("GITHUB_STEP_SUMMARY", path("summary.md"))
            .env("GITHUB_OUTPUT", path("outputs.txt"))
            .env("GITHUB_WORKSPACE", dir.path());
        let out = run(command).await;
        outputs(&format!("check --format {format}"), &out, 0);
        assert!(
            stdout(&out).contains("127.0.0.1") && stdout(&out).contains("[redacted]"),
            "check --format {format} shows no masked target:\n{}",
            stdout(&out)
        );
    }
    let mut saved = bin();
    saved
        .args([
            "check",
            &checked,
            "--observe",
            "0",
            "--auth-token",
            AUTH_TOKEN,
        ])
        .args(["--format", "json", "--no-provider", "--out"])
        .arg(path("saved.json"))
        .env("STREAM_DOCTOR_TOKEN", LISTEN_TOKEN);
    outputs("check --out", &run(saved).await, 0);

    // Two streams: the token in the path, and in the provider's auth header only.
    let mut in_path = tone_replay(
        format!("ws://127.0.0.1:{port}/calls/{LISTEN_TOKEN}/audio"),
        0.5,
        Pace::Max,
        Some("v3:path"),
    );
    in_path.auth_token = Some(Secret::new(AUTH_TOKEN));
    let mut in_header = tone_replay(
        format!("ws://127.0.0.1:{port}/plain/audio"),
        0.5,
        Pace::Max,
        Some("v3:header"),
    );
    in_header.auth_token = Some(Secret::new(LISTEN_TOKEN));
    for stream in [in_path, in_header] {
        let summary = replay::run(&stream, &|_| {}).await;
        assert!(
            summary.streams.iter().all(|s| s.error.is_none()),
            "{summary:?}"
        );
    }

    // replay, both formats, to a URL with a password and the token in its path.
    for format in ["text", "json"] {
        let mut command = bin();
        command
            .args(["replay", &checked, "--seconds", "0.3", "--pace", "max"])
            .args(["--auth-token", AUTH_TOKEN, "--format", format])
            .env("STREAM_DOCTOR_TOKEN", LISTEN_TOKEN);
        let out = run(command).await;
        outputs(&format!("replay --format {format}"), &out, 0);
        assert!(
            stdout(&out).contains("15"),
            "15 frames sent:\n{}",
            stdout(&out)
        );
    }

    // converse, every format, to the same URL, with both tokens: the listener answers nothing,
    // so the call fails (exit 1) and its report names the URL it called.
    for format in ["text", "json", "markdown", "html"] {
        let mut command = bin();
        command
            .args(["converse", &checked, "--turns", "1", "--timeout", "1"])
            .args(["--auth-token", AUTH_TOKEN, "--format", format])
            .env("STREAM_DOCTOR_TOKEN", LISTEN_TOKEN)
            .env("TWILIO_AUTH_TOKEN", TWILIO_TOKEN);
        let out = run(command).await;
        outputs(&format!("converse --format {format}"), &out, 1);
        assert!(
            stdout(&out).contains("reply.none") && stdout(&out).contains("[redacted]"),
            "converse --format {format} names the cause and the masked URL:\n{}",
            stdout(&out)
        );
    }

    // A stream whose path holds the token inside a longer segment is refused, and says so.
    let near = format!("/calls/{LISTEN_TOKEN}-old/audio");
    let answer = post(port, &near, &[], "").await;
    assert!(answer.contains("404"), "{answer}");

    // Webhooks naming a URL that holds the token: Telnyx unsigned, Telnyx signed by another
    // key, Twilio with a well-formed wrong signature.
    let started = telnyx_webhook("streaming.started", "v3:ghost", &token_url);
    let json = ("Content-Type", "application/json".to_string());
    let answer = post(
        port,
        &format!("/{LISTEN_TOKEN}/webhooks/telnyx"),
        std::slice::from_ref(&json),
        &started,
    )
    .await;
    assert!(answer.contains("200"), "{answer}");
    let failed = telnyx_webhook("streaming.failed", "v3:ghost", &token_url);
    let stamp = time::OffsetDateTime::now_utc().unix_timestamp().to_string();
    let stranger = SigningKey::from_bytes(&[9; 32]);
    let wrongly = vec![
        json,
        ("Telnyx-Timestamp", stamp.clone()),
        (
            "Telnyx-Signature-Ed25519",
            telnyx_sign(&stranger, &stamp, failed.as_bytes()),
        ),
    ];
    let answer = post(
        port,
        &format!("/{LISTEN_TOKEN}/webhooks/telnyx"),
        &wrongly,
        &failed,
    )
    .await;
    assert!(answer.contains("200"), "{answer}");
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("StreamEvent", "stream-error")
        .append_pair("CallSid", "CA1")
        .append_pair("StreamSid", "MZ1")
        .append_pair("StreamUrl", &token_url)
        .append_pair("StreamError", "Connection timeout")
        .finish();
    let twilio = vec![
        (
            "Content-Type",
            "application/x-www-form-urlencoded".to_string(),
        ),
        (
            "X-Twilio-Signature",
            base64::engine::general_purpose::STANDARD.encode([1u8; 20]),
        ),
    ];
    let answer = post(
        port,
        &format!("/{LISTEN_TOKEN}/webhooks/twilio"),
        &twilio,
        &form,
    )
    .await;
    assert!(answer.contains("200"), "{answer}");
    // Past the grace, the started stream that never came is a finding too.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    interrupt(&listening);
    let listened = tokio::task::spawn_blocking(move || listening.wait_with_output().unwrap())
        .await
        .unwrap();
    outputs("listen", &listened, 0);
    let summary: Value = serde_json::from_str(&stdout(&listened)).expect("listen's JSON summary");
    let streams = summary["streams"].as_array().unwrap();
    assert!(streams.len() >= 5, "{summary:#}");
    let paths: Vec<&str> = streams.iter().filter_map(|s| s["path"].as_str()).collect();
    assert!(paths.contains(&"/calls/[redacted]/audio"), "{paths:?}");
    assert!(paths.contains(&"/plain/audio"), "{paths:?}");
    let hooks = summary["webhooks"].as_array().unwrap();
    let verdicts: Vec<&str> = hooks
        .iter()
        .filter_map(|h| h["signature"].as_str())
        .collect();
    assert_eq!(verdicts, ["missing", "invalid", "invalid"], "{hooks:#?}");
    for hook in hooks {
        assert_eq!(
            hook["stream_url"], "wss://app.example.com/calls/[redacted]/audio",
            "{hook:#}"
        );
    }
    let findings: Vec<&str> = summary["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    for id in [
        "provider.started_not_connected",
        "provider.stream_failed",
        "provider.url_differs",
    ] {
        assert!(findings.contains(&id), "no {id} in {findings:?}");
    }
    assert!(
        stderr(&listened).contains("does not match"),
        "the Twilio signature was not judged on its URL:\n{}",
        stderr(&listened)
    );
    let recorded = files_under(&recordings);
    assert!(recorded.len() >= 2, "{recorded:?}");
    for name in &recorded {
        clean("a recording's name", name);
    }

    let watched = tokio::task::spawn_blocking(move || watching.wait_with_output().unwrap())
        .await
        .unwrap();
    outputs("watch", &watched, 0);
    for event in ["connect", "webhook", "finding", "refused"] {
        assert!(
            stdout(&watched).contains(&format!("\"event\":\"{event}\"")),
            "watch saw no {event}:\n{}",
            stdout(&watched)
        );
    }

    // Reports and a comparison of the saved session, every format.
    for format in ["markdown", "html", "json"] {
        let mut report = bin();
        report
            .arg("report")
            .arg(path("saved.json"))
            .args(["--format", format]);
        let out = run(report).await;
        outputs(&format!("report --format {format}"), &out, 0);
        assert!(stdout(&out).contains("127.0.0.1"));
    }
    for format in ["text", "json", "markdown", "html"] {
        let mut compare = bin();
        compare
            .arg("compare")
            .arg(path("saved.json"))
            .arg(path("saved.json"))
            .args(["--format", format]);
        let out = run(compare).await;
        outputs(&format!("compare --format {format}"), &out, 0);
        assert!(!stdout(&out).is_empty());
    }

    // The provider's API, the key from the environment, a stream started with the auth token.
    let fake = FakeTelnyx::start().await;
    for (args, status) in [
        (vec!["deliveries", "--format", "json"], 1),
        (vec!["call", "v3:nobody"], 1),
        (
            vec![
                "stream-start",
                "v3:ended",
                "--url",
                "wss://x.example/s",
                "--auth-token",
                AUTH_TOKEN,
            ],
            1,
        ),
        (vec!["app", "jammed"], 1),
    ] {
        let mut telnyx = bin();
        telnyx
            .arg("telnyx")
            .args(&args)
            .env("TELNYX_API_KEY", KEY)
            .env("TELNYX_API_BASE", fake.base());
        let out = run(telnyx).await;
        outputs(&format!("telnyx {args:?}"), &out, status);
    }
    assert!(
        fake.seen()
            .iter()
            .all(|s| s.authorization.as_deref() == Some(&format!("Bearer {KEY}"))),
        "the API was not called with the key"
    );

    // Error messages: a usage error quoting a path that holds the token, and a failure
    // naming one.
    let mut report = bin();
    report
        .args(["report", &format!("/nonexistent/{LISTEN_TOKEN}.json")])
        .env("STREAM_DOCTOR_TOKEN", LISTEN_TOKEN);
    let out = run(report).await;
    outputs("report of a missing file", &out, 2);
    assert!(
        stderr(&out).contains("/nonexistent/[redacted].json"),
        "{}",
        stderr(&out)
    );
    let mut listen = bin();
    listen
        .args(["listen", "--bind", "127.0.0.1:0", "--token", LISTEN_TOKEN])
        .args(["--record", &format!("/proc/{LISTEN_TOKEN}/x")]);
    let out = run(listen).await;
    outputs("listen with a record folder it cannot make", &out, 1);
    assert!(
        stderr(&out).contains("creating /proc/[redacted]/x"),
        "{}",
        stderr(&out)
    );

    for file in [
        "summary.md",
        "outputs.txt",
        "stream-doctor-report.json",
        "saved.json",
    ] {
        let text = std::fs::read_to_string(path(file)).unwrap();
        assert!(
            text.contains("127.0.0.1") || file == "outputs.txt",
            "{file}"
        );
        clean(file, &text);
    }
}
