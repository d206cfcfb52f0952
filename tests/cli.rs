//! `stream-doctor check` as a person or a script runs it: the real binary against real servers
//! on 127.0.0.1, its exit codes, its JSON contract and its other formats.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::{Command, Output};

use stream_doctor::demo::Behavior;
use stream_doctor::demo::certs::Served;
use support::{HOST, Scenario};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_stream-doctor"))
}

/// Runs the binary off the async runtime so the test's servers keep serving meanwhile.
async fn run(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        bin()
            .args(args)
            .env_remove("STREAM_DOCTOR_AUTH_TOKEN")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The arguments that point the binary at a scenario: pin, CA file, short deadlines.
fn args_for(scenario: &Scenario, dir: &tempfile::TempDir, extra: &[&str]) -> Vec<String> {
    let ca = dir.path().join("root.pem");
    std::fs::write(&ca, scenario.pki.root_pem()).unwrap();
    let port = scenario.server.addr().port();
    let mut args: Vec<String> = vec![
        "check".into(),
        scenario.url(),
        "--resolve".into(),
        format!("{HOST}:{port}:127.0.0.1"),
        "--ca-file".into(),
        ca.display().to_string(),
        "--timeout".into(),
        "2".into(),
        "--observe".into(),
        "0".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

#[tokio::test(flavor = "multi_thread")]
async fn healthy_json_follows_the_contract_and_exits_0() {
    let scenario = Scenario::tls(Behavior::Healthy, Served::FullChain).await;
    let dir = tempfile::tempdir().unwrap();
    let out = run(args_for(&scenario, &dir, &["--format", "json"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["tool"]["name"], "stream-doctor");
    assert_eq!(json["target"], scenario.url());
    assert!(json["started_at"].as_str().unwrap().ends_with('Z'));
    let ids: Vec<&str> = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "url",
            "dns",
            "tcp",
            "tls",
            "upgrade",
            "websocket",
            "paths",
            "provider"
        ]
    );
    for check in json["checks"].as_array().unwrap() {
        for field in ["status", "summary", "duration_ms", "details"] {
            assert!(check.get(field).is_some(), "{field} missing in {check}");
        }
    }
    assert_eq!(json["diagnosis"]["reachable"], true);
    let cause = &json["diagnosis"]["causes"][0];
    for field in ["id", "check", "severity", "summary", "fix"] {
        assert!(cause.get(field).is_some(), "{field} missing in {cause}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_cause_exits_1_with_the_verdict_first() {
    let scenario = Scenario::tls(Behavior::Healthy, Served::LeafOnly).await;
    let dir = tempfile::tempdir().unwrap();
    let out = run(args_for(&scenario, &dir, &[])).await;
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let first = stdout.lines().next().unwrap();
    assert!(first.contains("tls.incomplete_chain"), "{stdout}");
    assert!(
        !stdout.contains('\x1b'),
        "colour codes in a pipe: {stdout:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn markdown_and_html_go_to_the_out_file() {
    let scenario = Scenario::tls(
        Behavior::ExactPath("/api/calls/:id/audio".into()),
        Served::FullChain,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    for (format, marker) in [
        ("markdown", "| ✖ fail | paths |"),
        ("html", "<!DOCTYPE html>"),
    ] {
        let file = dir.path().join(format!("report.{format}"));
        let out = run(args_for(
            &scenario,
            &dir,
            &["--format", format, "--out", file.to_str().unwrap()],
        ))
        .await;
        assert_eq!(out.status.code(), Some(1));
        assert!(
            out.stdout.is_empty(),
            "the report went to the file, not stdout"
        );
        let written = std::fs::read_to_string(&file).unwrap();
        assert!(written.contains(marker), "{format}: {written}");
        assert!(written.contains("ws.path_mismatch"), "{format}: {written}");
        assert!(
            text(&out.stderr).contains("ws.path_mismatch"),
            "the verdict is echoed"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_built_in_demo_needs_no_setup() {
    let healthy = run(vec![
        "check".into(),
        "--demo".into(),
        "--observe".into(),
        "0".into(),
    ])
    .await;
    assert_eq!(healthy.status.code(), Some(0), "{}", text(&healthy.stdout));
    let faulty = run(vec![
        "check".into(),
        "--demo".into(),
        "path-mismatch".into(),
        "--format".into(),
        "json".into(),
    ])
    .await;
    assert_eq!(faulty.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&faulty.stdout).unwrap();
    assert_eq!(json["diagnosis"]["causes"][0]["id"], "ws.path_mismatch");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_usage_exits_2_with_a_message() {
    let cases: [&[&str]; 8] = [
        &["check"],
        &["check", "wss://x.test/a", "--timeout", "soon"],
        &["check", "wss://x.test/a", "--timeout", "-1"],
        &["check", "wss://x.test/a", "--resolve", "x.test:443"],
        &["check", "wss://x.test/a", "-H", "no colon here"],
        &[
            "check",
            "wss://x.test/a",
            "--ca-file",
            "/nonexistent/ca.pem",
        ],
        &["check", "--demo", "no-such-mode"],
        // Twilio's stream is always PCMU/8000: another codec is not a Twilio stream.
        &[
            "replay",
            "ws://127.0.0.1:9/a",
            "--protocol",
            "twilio",
            "--codec",
            "L16",
        ],
    ];
    for args in cases {
        let out = run(args.iter().map(|s| s.to_string()).collect()).await;
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains("error"),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_auth_token_never_appears_in_any_format() {
    let scenario = Scenario::tls(
        Behavior::RequireToken("s3cret-token-value".into()),
        Served::FullChain,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    for format in ["text", "json", "markdown", "html"] {
        let out = run(args_for(
            &scenario,
            &dir,
            &[
                "--auth-token",
                "s3cret-token-value",
                "-H",
                "X-Api-Key: another-s3cret",
                "--format",
                format,
            ],
        ))
        .await;
        assert_eq!(
            out.status.code(),
            Some(0),
            "{format}: {}",
            text(&out.stdout)
        );
        let shown = text(&out.stdout);
        assert!(
            !shown.contains("s3cret"),
            "{format} leaked a secret: {shown}"
        );
    }
}

/// `listen` and `replay` as a person runs them: two processes, a Twilio stream, a recording.
#[tokio::test(flavor = "multi_thread")]
async fn listen_and_replay_commands_talk_to_each_other() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let mut listen = bin()
        .args([
            "listen",
            "--bind",
            "127.0.0.1:0",
            "--max-streams",
            "1",
            "--duration",
            "30",
            "--format",
            "json",
            "--record",
        ])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut events = BufReader::new(listen.stderr.take().unwrap());
    let mut first = String::new();
    events.read_line(&mut first).unwrap();
    let addr = first
        .split_whitespace()
        .find_map(|w| w.strip_prefix("ws://"))
        .map(|w| w.trim_end_matches('/').to_string())
        .unwrap_or_else(|| panic!("no address in {first:?}"));
    let replay = run(vec![
        "replay".into(),
        format!("ws://{addr}/calls/7/audio"),
        "--protocol".into(),
        "twilio".into(),
        "--codec".into(),
        "PCMU".into(),
        "--seconds".into(),
        "1".into(),
        "--pace".into(),
        "max".into(),
        "--format".into(),
        "json".into(),
    ])
    .await;
    assert_eq!(replay.status.code(), Some(0), "{}", text(&replay.stderr));
    let sent: serde_json::Value = serde_json::from_slice(&replay.stdout).unwrap();
    assert_eq!(sent["media_frames_sent"], 50);
    let output = tokio::task::spawn_blocking(move || listen.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let stream = &summary["streams"][0];
    assert_eq!(stream["protocol"], "twilio");
    assert_eq!(stream["media_format"]["encoding"], "audio/x-mulaw");
    assert_eq!(stream["tracks"]["inbound"]["frames"], 50);
    assert_eq!(stream["closed"]["code"], 1000);
    let recorded = stream["recordings"][0].as_str().unwrap();
    assert!(
        std::path::Path::new(recorded).starts_with(dir.path())
            && std::path::Path::new(recorded).exists()
    );
}

/// A provider's code explained, and its checks run against a real server.
#[tokio::test(flavor = "multi_thread")]
async fn explain_names_the_checks_and_runs_them() {
    let out = run(vec!["explain".into(), "Error 31910".into()]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains("SSL Protocol Error"), "{shown}");
    assert!(shown.contains("Checks that answer it: tls"), "{shown}");

    let unknown = run(vec!["explain".into(), "12345".into()]).await;
    assert_eq!(unknown.status.code(), Some(2));
    assert!(text(&unknown.stderr).contains("not a code this tool knows"));

    let scenario = Scenario::plain(Behavior::Healthy).await;
    let url = format!(
        "ws://127.0.0.1:{}/api/calls/123/audio",
        scenario.server.addr().port()
    );
    let out = run(vec![
        "explain".into(),
        "31922".into(),
        "--check".into(),
        url,
    ])
    .await;
    let shown = text(&out.stdout);
    assert!(shown.contains("url.insecure_scheme"), "{shown}");
    assert!(shown.contains("warn  url"), "the url check ran: {shown}");
}

/// `check` as the GitHub Action runs it: the two files the runner names get the summary and
/// the outputs, and the JSON report lands in the workspace. No secret reaches any of them.
#[tokio::test(flavor = "multi_thread")]
async fn check_writes_the_job_summary_and_step_outputs_under_github_actions() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    let outputs = dir.path().join("outputs.txt");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let (summary_path, outputs_path, workspace) =
        (summary.clone(), outputs.clone(), dir.path().to_path_buf());
    let out = tokio::task::spawn_blocking(move || {
        bin()
            .args([
                "check",
                "--demo",
                "--observe",
                "0",
                "--vantage",
                "ci-runner",
                "--auth-token",
                "tok-SECRET-1",
                "--fail-on",
                "warn",
            ])
            .env("GITHUB_STEP_SUMMARY", &summary_path)
            .env("GITHUB_OUTPUT", &outputs_path)
            .env("GITHUB_WORKSPACE", &workspace)
            .env(
                "STREAM_DOCTOR_HEADERS",
                "X-Api-Key: hdr-SECRET-2\nX-Trace: 1\n",
            )
            .env_remove("STREAM_DOCTOR_AUTH_TOKEN")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the demo's loopback warning fails with --fail-on warn: {}",
        text(&out.stderr)
    );
    let written = std::fs::read_to_string(&summary).unwrap();
    assert!(
        written.starts_with("earlier step\n## Stream Doctor: "),
        "appended: {written}"
    );
    assert!(written.contains("From `ci-runner`"), "{written}");
    assert!(written.len() < 1024 * 1024);
    let outputs = std::fs::read_to_string(&outputs).unwrap();
    assert!(outputs.contains("reachable=true\n"), "{outputs}");
    assert!(
        outputs.contains("verdict=dns.private_address\n"),
        "{outputs}"
    );
    let report_path = outputs
        .lines()
        .find_map(|l| l.strip_prefix("report-path="))
        .unwrap();
    assert_eq!(
        report_path, "stream-doctor-report.json",
        "relative to the workspace, as both the container and later steps can open it"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(report_path)).unwrap())
            .unwrap();
    assert_eq!(report["vantage"]["label"], "ci-runner");
    assert!(report["vantage"]["ipv6"].is_boolean());
    let headers = report["options"]["headers"].as_array().unwrap();
    assert_eq!(headers.len(), 2, "STREAM_DOCTOR_HEADERS reached the check");
    for file in [written, outputs, report.to_string(), text(&out.stdout)] {
        assert!(!file.contains("tok-SECRET-1") && !file.contains("hdr-SECRET-2"));
    }

    let bad = tokio::task::spawn_blocking(|| {
        bin()
            .args(["check", "--demo"])
            .env("STREAM_DOCTOR_HEADERS", "no colon here")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("STREAM_DOCTOR_HEADERS"));
}

/// One event language: `listen` prints, for each event, the very line `watch` prints for it
/// (time, stream number and all), a webhook, levels and notes included.
#[tokio::test(flavor = "multi_thread")]
async fn listen_and_watch_print_the_same_line_for_the_same_event() {
    use std::process::Stdio;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listening = bin()
        .args(["listen", "--bind", &format!("127.0.0.1:{port}")])
        .args(["--max-streams", "1"])
        .env_remove("STREAM_DOCTOR_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let watching = bin()
        .args(["watch", &format!("ws://127.0.0.1:{port}")])
        .env_remove("STREAM_DOCTOR_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let hook = "{\"data\":{\"event_type\":\"streaming.started\",\"payload\":{\"call_control_id\":\"v3:same\",\"stream_url\":\"wss://x.example/a\"}}}";
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let post = format!(
        "POST /webhooks/telnyx HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{hook}",
        hook.len()
    );
    tokio::io::AsyncWriteExt::write_all(&mut tcp, post.as_bytes())
        .await
        .unwrap();
    let replay = run(vec![
        "replay".into(),
        format!("ws://127.0.0.1:{port}/api/calls/1/audio"),
        "--seconds".into(),
        "1.5".into(),
        "--call-id".into(),
        "v3:same".into(),
    ])
    .await;
    assert_eq!(replay.status.code(), Some(0), "{}", text(&replay.stderr));
    let listened = tokio::task::spawn_blocking(move || listening.wait_with_output().unwrap())
        .await
        .unwrap();
    let watched = tokio::task::spawn_blocking(move || watching.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(watched.status.code(), Some(0), "{}", text(&watched.stderr));
    // Event lines start with their time; `listen` adds its header and summary around them.
    let events = |out: &Output| -> Vec<String> {
        text(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("20"))
            .map(str::to_string)
            .collect()
    };
    let (said, seen) = (events(&listened), events(&watched));
    for kind in [
        "webhook streaming.started",
        "connect from",
        "start: telnyx PCMU/8000",
        "levels inbound rms",
        "stop",
        "closed by remote, code 1000",
    ] {
        assert!(
            said.iter().any(|l| l.contains(kind)),
            "listen said no '{kind}':\n{}",
            said.join("\n")
        );
    }
    assert_eq!(said, seen, "listen and watch differ");
}

/// The conventions of a command-line tool: `--version` names the commit, the binary writes its
/// own shell completions and man page, and NO_COLOR wins even over a forced color.
#[test]
fn version_completions_man_page_and_no_color() {
    let out = bin().arg("--version").output().unwrap();
    let version = text(&out.stdout);
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .unwrap();
    let commit = text(&head.stdout).trim().to_string();
    assert!(
        version.starts_with("stream-doctor 0.") && version.contains(&format!("({commit})")),
        "{version} (HEAD {commit})"
    );
    for (shell, mark) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef stream-doctor"),
        ("fish", "complete -c stream-doctor"),
    ] {
        let out = bin().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let script = text(&out.stdout);
        assert!(
            script.contains(mark) && script.contains("converse"),
            "{shell}: {script:.200}"
        );
    }
    let man = text(&bin().arg("manpage").output().unwrap().stdout);
    assert!(
        man.contains(".TH stream-doctor 1") && man.contains("converse"),
        "{man:.300}"
    );

    let forced = bin()
        .arg("--help")
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert!(
        text(&forced.stdout).contains('\u{1b}'),
        "color forced: escapes"
    );
    let plain = bin()
        .arg("--help")
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!text(&plain.stdout).contains('\u{1b}'));
    let usage = bin()
        .arg("check")
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
    assert!(
        !text(&usage.stderr).contains('\u{1b}'),
        "{}",
        text(&usage.stderr)
    );
}
