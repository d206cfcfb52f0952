//! Hostile servers against a real `check` process, hostile clients against a listener on the
//! runtime `listen` ships (current-thread): each server's trick ends in a named cause within
//! the deadline, with the check's own peak memory bounded; a listener under a burst of
//! connections, floods lasting the whole of a good stream, slow and silent clients and
//! malformed messages keeps an honest count of that stream and still accepts new connections
//! promptly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use stream_doctor::catalog::CauseId;
use stream_doctor::demo::Behavior;
use stream_doctor::demo::certs::Served;
use stream_doctor::records::live::ListenSummary;
use stream_doctor::server::listener::{ListenOptions, Listener};
use stream_doctor::stream::replay::{self, Pace};
use support::{HOST, Scenario, tone_replay};

/// A process's peak memory so far (VmHWM), in KiB; `None` once it has exited.
fn peak_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Runs `command` to its end, reading its peak memory from /proc every few milliseconds
/// while it runs (the high-water mark only grows, so the last reading holds the peak); the
/// exit code and the peak in KiB.
fn run_measured(mut command: std::process::Command) -> (Option<i32>, u64) {
    let mut child = command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut peak = 0;
    loop {
        if let Some(kib) = peak_kib(child.id()) {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            return (status.code(), peak);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Each hostile server meets a real `check` process: its trick ends in a named cause within
/// the deadline, no probe breaks, and the process's own peak memory stays under 60 MB (the
/// huge frame announces 100 MB and sends all of it; 10 MB of headers come without end).
#[tokio::test(flavor = "multi_thread")]
async fn every_hostile_server_ends_in_a_named_cause_within_the_deadline() {
    let cases: [(Behavior, bool, CauseId); 8] = [
        (
            Behavior::HeadersForever,
            true,
            CauseId::HttpMalformedResponse,
        ),
        (
            Behavior::UpgradeThenGarbage,
            true,
            CauseId::WsClosedOnConnect,
        ),
        (Behavior::UpgradeThenSilence, true, CauseId::WsNoPong),
        (
            Behavior::UpgradeThenHugeFrame,
            true,
            CauseId::WsClosedOnConnect,
        ),
        (
            Behavior::ResetMidHandshake,
            false,
            CauseId::HttpMalformedResponse,
        ),
        (Behavior::EofOnAccept, false, CauseId::HttpMalformedResponse),
        (Behavior::Silent, true, CauseId::TlsHandshakeTimeout),
        (Behavior::HugeHeadOnce, true, CauseId::HttpMalformedResponse),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (behavior, secure, cause) in cases {
        let scenario = if secure {
            Scenario::tls(behavior.clone(), Served::FullChain).await
        } else {
            Scenario::plain(behavior.clone()).await
        };
        let ca = dir.path().join("root.pem");
        std::fs::write(&ca, scenario.pki.root_pem()).unwrap();
        let report = dir.path().join("report.json");
        let _ = std::fs::remove_file(&report);
        let mut check = std::process::Command::new(env!("CARGO_BIN_EXE_stream-doctor"));
        check
            .args([
                "check",
                &scenario.url(),
                "--timeout",
                "1",
                "--observe",
                "0.3",
            ])
            .args([
                "--resolve",
                &format!("{HOST}:{}:127.0.0.1", scenario.server.addr().port()),
            ])
            .arg("--ca-file")
            .arg(&ca)
            .args(["--format", "json", "--out"])
            .arg(&report)
            .env_remove("GITHUB_OUTPUT")
            .env_remove("GITHUB_STEP_SUMMARY")
            .env_remove("STREAM_DOCTOR_HEADERS");
        let started = Instant::now();
        let (code, peak) = tokio::task::spawn_blocking(move || run_measured(check))
            .await
            .unwrap();
        let took = started.elapsed();
        assert!(took < Duration::from_secs(8), "{behavior:?} took {took:?}");
        let session: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        let broken: Vec<&serde_json::Value> = session["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["status"] == "error")
            .map(|c| &c["id"])
            .collect();
        assert!(
            broken.is_empty(),
            "{behavior:?}: a probe broke on {broken:?}"
        );
        let causes: Vec<&str> = session["diagnosis"]["causes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["id"].as_str())
            .collect();
        if cause.severity() == stream_doctor::catalog::Severity::Fail {
            assert_eq!(code, Some(1), "{behavior:?}");
            let first_failing = session["diagnosis"]["causes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["severity"] == "fail")
                .and_then(|c| c["id"].as_str());
            assert_eq!(
                first_failing,
                Some(cause.as_str()),
                "{behavior:?}: {causes:?}"
            );
        } else {
            assert!(causes.contains(&cause.as_str()), "{behavior:?}: {causes:?}");
        }
        assert!(
            peak > 0 && peak < 60 * 1024,
            "{behavior:?}: the check's peak memory was {peak} KiB: a hostile answer was buffered whole"
        );
    }
}

const UPGRADE: &str = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// How long a fresh upgrade takes to be answered with 101.
async fn time_to_upgrade(addr: SocketAddr, path: &str) -> Duration {
    let started = Instant::now();
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n{UPGRADE}");
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = [0u8; 12];
    tcp.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"HTTP/1.1 101");
    started.elapsed()
}

/// A listener as `stream-doctor listen` runs it: on a current-thread runtime of its own (in
/// its own thread here, so the clients' runtime never lends it a worker). Stops when told.
struct ShippedListener {
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    summary: std::thread::JoinHandle<ListenSummary>,
}

impl ShippedListener {
    fn start(options: ListenOptions) -> Self {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let summary = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let mut listener = Listener::start(options, Arc::new(|_| {})).await.unwrap();
                addr_tx.send(listener.addr()).unwrap();
                let _ = stop_rx.await;
                let summary = listener.stop();
                listener.stopped().await;
                summary
            })
        });
        let addr = addr_rx.recv().unwrap();
        Self {
            addr,
            stop,
            summary,
        }
    }

    async fn stop(self) -> ListenSummary {
        self.stop.send(()).unwrap();
        tokio::task::spawn_blocking(move || self.summary.join().unwrap())
            .await
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_hostile_clients_leaves_a_good_stream_exact_and_new_ones_welcome() {
    let listener = ShippedListener::start(ListenOptions {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..ListenOptions::default()
    });
    let addr = listener.addr;

    // A thousand connections that never say a word.
    let mut idle = Vec::new();
    for _ in 0..1000 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    // Slow-loris upgrades: a request head a byte at a time.
    let slow: Vec<_> = (0..50)
        .map(|_| {
            tokio::spawn(async move {
                let Ok(mut tcp) = TcpStream::connect(addr).await else {
                    return;
                };
                for byte in b"GET /slow HTTP/1.1\r\nHost: x\r\n" {
                    if tcp.write_all(&[*byte]).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
            })
        })
        .collect();
    // A monitor that never reads, while everything above makes events.
    let mut deaf = TcpStream::connect(addr).await.unwrap();
    deaf.write_all(format!("GET /monitor HTTP/1.1\r\nHost: x\r\n{UPGRADE}").as_bytes())
        .await
        .unwrap();
    // Malformed messages and an oversize frame on streams of their own.
    let malformed = tokio::spawn(async move {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(format!("GET /bad HTTP/1.1\r\nHost: x\r\n{UPGRADE}").as_bytes())
            .await
            .unwrap();
        for payload in [&b"{"[..], b"[]", b"{\"event\":\"media\"}", b"{\"event\":1}"] {
            // Masked text frames, as a client must send them.
            let mut frame = vec![0x81, 0x80 | payload.len() as u8, 0, 0, 0, 0];
            frame.extend_from_slice(payload);
            let _ = tcp.write_all(&frame).await;
        }
        let mut huge = vec![0x82, 0xff];
        huge.extend_from_slice(&(8u64 * 1024 * 1024).to_be_bytes());
        huge.extend_from_slice(&[0, 0, 0, 0]);
        let _ = tcp.write_all(&huge).await;
        // Until the listener closes: a socket dropped with its 101 unread is reset, and a reset
        // may discard frames the listener has not read yet.
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut answer)).await;
    });
    // Floods: four streams as fast as the socket takes them, one after another on each of
    // four lanes, from before the good stream starts until after it ends.
    let flooding = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let floods: Vec<_> = (0..4)
        .map(|i| {
            let flooding = flooding.clone();
            tokio::spawn(async move {
                let mut sent = 0;
                while flooding.load(std::sync::atomic::Ordering::SeqCst) {
                    let options =
                        tone_replay(format!("ws://{addr}/flood/{i}"), 10.0, Pace::Max, None);
                    let summary = replay::run(&options, &|_| {}).await;
                    assert!(
                        summary.streams.iter().all(|s| s.error.is_none()),
                        "{summary:?}"
                    );
                    sent += summary.media_frames_sent;
                }
                sent
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The well-behaved stream: three seconds in real time.
    let good = tokio::spawn(async move {
        let options = tone_replay(
            format!("ws://{addr}/good"),
            3.0,
            Pace::Realtime,
            Some("v3:good"),
        );
        replay::run(&options, &|_| {}).await
    });
    // New connections are still taken promptly in the middle of it all.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut waits = Vec::new();
    for _ in 0..5 {
        waits.push(time_to_upgrade(addr, "/newcomer").await);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let sent = good.await.unwrap();
    assert_eq!(sent.streams[0].error, None, "{:?}", sent.streams[0]);
    flooding.store(false, std::sync::atomic::Ordering::SeqCst);
    let mut flooded = 0;
    for flood in floods {
        flooded += flood.await.unwrap();
    }
    malformed.await.unwrap();
    for task in slow {
        task.abort();
    }
    let summary = listener.stop().await;
    let good = summary
        .streams
        .iter()
        .find(|s| s.call_control_id.as_deref() == Some("v3:good"))
        .expect("the good stream");
    let inbound = &good.tracks["inbound"];
    assert_eq!(inbound.frames, 150, "every frame of 3 s, exactly");
    assert_eq!(inbound.sequence_gaps, 0);
    assert_eq!(
        inbound.late_frames, 0,
        "the listener's own load is not the sender's lateness"
    );
    // A 0.5-amplitude sine: 20·log10(0.5/√2) = -9.03 dBFS, within PCMU's rounding.
    let rms = inbound.rms_dbfs.unwrap();
    assert!((rms + 9.03).abs() < 0.2, "rms {rms}");
    let floods_metered: u64 = summary
        .streams
        .iter()
        .filter(|s| s.path.starts_with("/flood"))
        .map(|s| s.tracks["inbound"].frames)
        .sum();
    assert!(
        flooded >= 4 * 2 * 500,
        "the lanes kept flooding from before the good stream to after it: {flooded} frames"
    );
    assert_eq!(
        floods_metered, flooded,
        "the floods were all read and counted too"
    );
    let bad = summary.streams.iter().find(|s| s.path == "/bad").unwrap();
    assert!(bad.messages.invalid >= 4, "{:?}", bad.messages);
    assert_eq!(bad.closed.as_ref().and_then(|c| c.code), Some(1009));
    let slowest = waits.iter().max().unwrap();
    assert!(
        *slowest < Duration::from_secs(2),
        "a newcomer waited {slowest:?}: {waits:?}"
    );
    drop(idle);
    drop(deaf);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_listener_sheds_idle_slow_clients_for_a_newcomer() {
    let listener = ShippedListener::start(ListenOptions {
        bind: "127.0.0.1:0".parse().unwrap(),
        max_connections: 20,
        ..ListenOptions::default()
    });
    let addr = listener.addr;
    // Every place taken by a client that has sent half a request head and then nothing.
    let mut slow = Vec::new();
    for _ in 0..20 {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        slow.push(tcp);
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;

    let waited = tokio::time::timeout(Duration::from_secs(5), time_to_upgrade(addr, "/fresh"))
        .await
        .expect("the newcomer was answered");
    assert!(
        waited < Duration::from_secs(2),
        "the newcomer waited {waited:?}"
    );
    // The shed clients were told nothing more and their sockets closed.
    let mut closed = 0;
    for tcp in &mut slow {
        let mut byte = [0u8; 1];
        if let Ok(Ok(0)) = tokio::time::timeout(Duration::from_secs(1), tcp.read(&mut byte)).await {
            closed += 1;
        }
    }
    assert!(closed >= 1, "no idle client gave way");
    let summary = listener.stop().await;
    assert!(
        summary.refused >= 1,
        "each shed client is counted as refused"
    );
}
