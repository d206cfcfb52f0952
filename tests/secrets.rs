//! Every kind of secret at once (the stream auth token, header values, the listener's token,
//! the Twilio auth token, the provider's API key), through every command a person runs, and
//! every output, file, log line and report greped for them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use stream_doctor::stream::replay::{self, Pace};
use support::telnyx_api::{FakeTelnyx, KEY};
use support::tone_replay;

const AUTH_TOKEN: &str = "SECRET-auth-7f3a";
const HEADER_VALUE: &str = "SECRET-header-91c2";
const ENV_HEADER_VALUE: &str = "SECRET-envheader-44d0";
const LISTEN_TOKEN: &str = "SECRET-listen-e5b8";
const TWILIO_TOKEN: &str = "SECRET-twilio-0a9d";
const ALL: [&str; 6] = [
    AUTH_TOKEN,
    HEADER_VALUE,
    ENV_HEADER_VALUE,
    LISTEN_TOKEN,
    TWILIO_TOKEN,
    KEY,
];

fn bin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_stream-doctor"));
    for var in [
        "PORT",
        "STREAM_DOCTOR_TOKEN",
        "STREAM_DOCTOR_LISTEN_TOKEN",
        "TELNYX_API_KEY",
        "GITHUB_OUTPUT",
        "GITHUB_STEP_SUMMARY",
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

fn outputs(what: &str, out: &Output) {
    clean(
        &format!("{what} (stdout)"),
        &String::from_utf8_lossy(&out.stdout),
    );
    clean(
        &format!("{what} (stderr)"),
        &String::from_utf8_lossy(&out.stderr),
    );
}

async fn run(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_reaches_any_output_file_or_report() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);

    // check, every format, and the GitHub files.
    for format in ["text", "json", "markdown", "html"] {
        let mut command = bin();
        command
            .args([
                "check",
                "--demo",
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
            .env("GITHUB_STEP_SUMMARY", path("summary.md"))
            .env("GITHUB_OUTPUT", path("outputs.txt"))
            .env("GITHUB_WORKSPACE", dir.path());
        outputs(&format!("check --format {format}"), &run(command).await);
    }
    let mut saved = bin();
    saved
        .args([
            "check",
            "--demo",
            "--observe",
            "0",
            "--auth-token",
            AUTH_TOKEN,
            "--format",
            "json",
            "--out",
        ])
        .arg(path("saved.json"));
    outputs("check --out", &run(saved).await);
    for format in ["markdown", "html", "json"] {
        let mut report = bin();
        report
            .arg("report")
            .arg(path("saved.json"))
            .args(["--format", format]);
        outputs(&format!("report --format {format}"), &run(report).await);
    }

    // listen with its token and Twilio's, a stream carrying the auth token, webhooks, watch.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut listen = bin();
    listen
        .args([
            "listen",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--duration",
            "4",
            "--format",
            "json",
        ])
        .env("STREAM_DOCTOR_TOKEN", LISTEN_TOKEN)
        .env("TWILIO_AUTH_TOKEN", TWILIO_TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let listening = listen.spawn().unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
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
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut stream = tone_replay(
        format!("ws://127.0.0.1:{port}/calls/{LISTEN_TOKEN}/audio"),
        0.5,
        Pace::Max,
        None,
    );
    stream.auth_token = Some(stream_doctor::secret::Secret::new(AUTH_TOKEN));
    replay::run(&stream, &|_| {}).await;
    let hook = format!(
        "POST /{LISTEN_TOKEN}/webhooks/twilio HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nX-Twilio-Signature: {TWILIO_TOKEN}\r\nContent-Length: 21\r\n\r\nStreamEvent=stream-er"
    );
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut tcp, hook.as_bytes())
        .await
        .unwrap();
    let listened = tokio::task::spawn_blocking(move || listening.wait_with_output().unwrap())
        .await
        .unwrap();
    outputs("listen", &listened);
    let watched = tokio::task::spawn_blocking(move || watching.wait_with_output().unwrap())
        .await
        .unwrap();
    outputs("watch", &watched);
    assert!(String::from_utf8_lossy(&watched.stdout).contains("\"event\":\"connect\""));

    // The provider's API, the key from the environment, a stream started with the auth token.
    let fake = FakeTelnyx::start().await;
    for args in [
        vec!["deliveries", "--format", "json"],
        vec!["call", "v3:nobody"],
        vec![
            "stream-start",
            "v3:ended",
            "--url",
            "wss://x.example/s",
            "--auth-token",
            AUTH_TOKEN,
        ],
        vec!["app", "jammed"],
    ] {
        let mut telnyx = bin();
        telnyx
            .arg("telnyx")
            .args(&args)
            .env("TELNYX_API_KEY", KEY)
            .env("TELNYX_API_BASE", fake.base());
        outputs(&format!("telnyx {args:?}"), &run(telnyx).await);
    }

    for file in [
        "summary.md",
        "outputs.txt",
        "stream-doctor-report.json",
        "saved.json",
    ] {
        clean(file, &std::fs::read_to_string(path(file)).unwrap());
    }
}
