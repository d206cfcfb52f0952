//! `replay` into `listen` over real sockets: both providers' protocols, every codec, levels
//! against sox as the referee, recording, the token, and the bad input the listener survives.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use stream_doctor::audio::Codec;
use stream_doctor::audio::wav;
use stream_doctor::catalog::Provider;
use stream_doctor::records::call::Received;
use stream_doctor::records::live::ListenSummary;
use stream_doctor::secret::Secret;
use stream_doctor::server::listener::{ListenOptions, Listener};
use stream_doctor::server::receiver::ReplyMode;
use stream_doctor::stream::replay::{self, Pace, ReplayOptions, Source, Tracks};
use tokio_tungstenite::tungstenite::Message;

fn sox_stats(path: &Path) -> (f64, f64) {
    let out = Command::new("sox")
        .arg(path)
        .args(["-n", "stats"])
        .output()
        .expect("sox is missing: run scripts/setup-test (Debian package sox)");
    let text = String::from_utf8_lossy(&out.stderr);
    let value = |name: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no '{name}' in sox output: {text}"))
    };
    (value("RMS lev dB"), value("Pk lev dB"))
}

fn speech(dir: &Path) -> PathBuf {
    let raw = dir.join("speech-raw.wav");
    let status = Command::new("espeak-ng")
        .args([
            "-w",
            raw.to_str().unwrap(),
            "Stream Doctor checks the media stream. One two three four five.",
        ])
        .status()
        .expect("espeak-ng is missing: run scripts/setup-test (Debian package espeak-ng)");
    assert!(status.success());
    let out = dir.join("speech.wav");
    let status = Command::new("sox")
        .args([
            raw.to_str().unwrap(),
            "-r",
            "8000",
            "-c",
            "1",
            "-b",
            "16",
            out.to_str().unwrap(),
        ])
        .status()
        .expect("sox");
    assert!(status.success());
    out
}

fn sox_tone(dir: &Path, rate: u32) -> PathBuf {
    let out = dir.join(format!("tone-{rate}.wav"));
    let status = Command::new("sox")
        .args([
            "-n",
            "-r",
            &rate.to_string(),
            "-c",
            "1",
            "-b",
            "16",
            out.to_str().unwrap(),
            "synth",
            "2",
            "sine",
            "440",
            "vol",
            "0.3",
        ])
        .status()
        .expect("sox is missing: run scripts/setup-test");
    assert!(status.success());
    out
}

async fn listener(options: ListenOptions) -> Listener {
    let options = ListenOptions {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..options
    };
    Listener::start(options, Arc::new(|_| {})).await.unwrap()
}

fn replay_options(url: String, protocol: Provider, codec: Codec, source: Source) -> ReplayOptions {
    ReplayOptions {
        url,
        protocol,
        codec,
        source,
        tracks: Tracks::Inbound,
        pace: Pace::Max,
        streams: 1,
        timeout: Duration::from_secs(5),
        resolve: Vec::new(),
        extra_roots: Vec::new(),
        auth_token: None,
        twilio_auth_token: None,
        call_id: None,
        custom_parameters: Default::default(),
    }
}

async fn replay_into(listener: &mut Listener, options: ReplayOptions) -> ListenSummary {
    let streams = options.streams as u64;
    let summary = replay::run(&options, &|_| {}).await;
    assert!(
        summary.streams.iter().all(|s| s.error.is_none()),
        "{summary:?}"
    );
    tokio::time::timeout(Duration::from_secs(5), listener.wait_for_closed(streams))
        .await
        .expect("streams closed");
    listener.stop()
}

/// Levels of every provider and codec, checked against sox on the audio the listener decoded
/// and on the original file.
#[tokio::test]
async fn levels_match_sox_for_both_providers_and_every_codec() {
    let dir = tempfile::tempdir().unwrap();
    let speech = speech(dir.path());
    let tone = sox_tone(dir.path(), 8000);
    let cases = [
        (Provider::Telnyx, Codec::Pcmu, &speech),
        (Provider::Twilio, Codec::Pcmu, &tone),
        (Provider::Telnyx, Codec::Pcma, &speech),
        (Provider::Telnyx, Codec::L16, &speech),
        (Provider::Twilio, Codec::L16, &tone),
        (Provider::Telnyx, Codec::G722, &tone),
    ];
    for (provider, codec, file) in cases {
        let record = dir
            .path()
            .join(format!("rec-{}-{}", provider.name(), codec.name()));
        std::fs::create_dir_all(&record).unwrap();
        let mut listener = listener(ListenOptions {
            record_dir: Some(record.clone()),
            ..ListenOptions::default()
        })
        .await;
        let clip = wav::read_file(file).unwrap();
        let url = format!("ws://{}/api/calls/42/audio", listener.addr());
        let summary = replay_into(
            &mut listener,
            replay_options(url, provider, codec, Source::Clip(clip)),
        )
        .await;
        let stream = &summary.streams[0];
        assert_eq!(stream.protocol.as_deref(), Some(provider.name()));
        let track = &stream.tracks["inbound"];
        let rms = track.rms_dbfs.unwrap();
        let peak = track.peak_dbfs.unwrap();
        let recorded = PathBuf::from(&stream.recordings[0]);
        let (sox_rms, sox_peak) = sox_stats(&recorded);
        let what = format!("{} {}", provider.name(), codec.name());
        assert!(
            (rms - sox_rms).abs() <= 0.1,
            "{what}: rms {rms} vs sox {sox_rms} on the decoded audio"
        );
        assert!(
            (peak - sox_peak).abs() <= 0.1,
            "{what}: peak {peak} vs sox {sox_peak}"
        );
        if codec != Codec::G722 {
            // G.722 band-limits and resamples; the others must also match the original file.
            let (original_rms, _) = sox_stats(file);
            assert!(
                (rms - original_rms).abs() <= 0.1,
                "{what}: rms {rms} vs sox {original_rms} on the original"
            );
        }
        assert_eq!(track.sequence_gaps, 0);
        assert_eq!(stream.closed.as_ref().and_then(|c| c.code), Some(1000));
    }
}

#[tokio::test]
async fn an_l16_recording_is_exactly_what_was_sent() {
    let dir = tempfile::tempdir().unwrap();
    let mut listener = listener(ListenOptions {
        record_dir: Some(dir.path().to_path_buf()),
        ..ListenOptions::default()
    })
    .await;
    let clip = wav::read_file(&sox_tone(dir.path(), 8000)).unwrap();
    let url = format!("ws://{}/a", listener.addr());
    let summary = replay_into(
        &mut listener,
        replay_options(
            url,
            Provider::Telnyx,
            Codec::L16,
            Source::Clip(clip.clone()),
        ),
    )
    .await;
    let recorded = wav::read_file(Path::new(&summary.streams[0].recordings[0])).unwrap();
    // Whole 20 ms frames only: the clip's tail shorter than a frame is sent as a short frame.
    assert_eq!(recorded.rate_hz, 8000);
    assert_eq!(recorded.samples, clip.samples);
}

#[tokio::test]
async fn both_tracks_and_parallel_streams_are_kept_apart() {
    let mut listener = listener(ListenOptions::default()).await;
    let url = format!("ws://{}/x", listener.addr());
    let mut options = replay_options(
        url,
        Provider::Telnyx,
        Codec::Pcmu,
        Source::Tone {
            freq_hz: 440.0,
            seconds: 1.0,
        },
    );
    options.tracks = Tracks::Both;
    options.streams = 3;
    let summary = replay_into(&mut listener, options).await;
    assert_eq!(summary.streams.len(), 3);
    for stream in &summary.streams {
        assert_eq!(stream.tracks.len(), 2);
        assert_eq!(stream.tracks["inbound"].frames, 50);
        assert_eq!(stream.tracks["outbound"].frames, 50);
    }
}

#[tokio::test]
async fn the_token_gates_paths_and_never_shows() {
    let mut listener = listener(ListenOptions {
        token: Some(Secret::new("tok3n-s3cret")),
        ..ListenOptions::default()
    })
    .await;
    let addr = listener.addr();
    let refused = tokio_tungstenite::client_async(
        format!("ws://{addr}/no/token"),
        tokio::net::TcpStream::connect(addr).await.unwrap(),
    )
    .await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 404)
        }
        other => panic!("expected a 404, got {other:?}"),
    }
    let url = format!("ws://{addr}/streams/tok3n-s3cret/audio");
    let summary = replay_into(
        &mut listener,
        replay_options(
            url,
            Provider::Telnyx,
            Codec::Pcmu,
            Source::Tone {
                freq_hz: 300.0,
                seconds: 0.5,
            },
        ),
    )
    .await;
    assert_eq!(summary.refused, 1);
    assert_eq!(summary.streams.len(), 1);
    let json = serde_json::to_string(&summary).unwrap();
    assert!(!json.contains("tok3n-s3cret"), "{json}");
    assert!(json.contains("/streams/[redacted]/audio"), "{json}");
}

#[tokio::test]
async fn the_reply_tone_comes_back_with_its_mark() {
    let mut listener = listener(ListenOptions {
        reply_tone: true,
        ..ListenOptions::default()
    })
    .await;
    let url = format!("ws://{}/bidi", listener.addr());
    let mut options = replay_options(
        url,
        Provider::Telnyx,
        Codec::Pcmu,
        Source::Tone {
            freq_hz: 440.0,
            seconds: 2.0,
        },
    );
    options.pace = Pace::Realtime;
    let outcome = replay::run(&options, &|_| {}).await;
    let received = &outcome.streams[0].received;
    assert_eq!(received.media, 50, "a second of 20 ms frames came back");
    assert_eq!(received.marks, vec!["stream-doctor-tone".to_string()]);
    listener.wait_for_closed(1).await;
    let summary = listener.stop();
    assert!(
        summary.streams[0].mark_round_trip_ms.is_some(),
        "{summary:?}"
    );
}

/// A Telnyx stream started without `stream_bidirectional_mode=rtp` plays base64 MP3, at most
/// one message a second (Telnyx's "Bidirectional Media" page): in mp3 mode the listener answers
/// with one MP3 message and its mark. Twilio takes only its own μ-law back, so a Twilio stream
/// gets the codec tone, and says why.
#[tokio::test]
async fn the_mp3_reply_is_one_mp3_message_and_twilio_gets_its_codec() {
    let mut listener = listener(ListenOptions {
        reply_tone: true,
        reply_mode: ReplyMode::Mp3,
        ..ListenOptions::default()
    })
    .await;
    let tone = Source::Tone {
        freq_hz: 440.0,
        seconds: 1.5,
    };
    let url = format!("ws://{}/bidi", listener.addr());
    let mut options = replay_options(url.clone(), Provider::Telnyx, Codec::Pcmu, tone.clone());
    options.pace = Pace::Realtime;
    let outcome = replay::run(&options, &|_| {}).await;
    let received = &outcome.streams[0].received;
    assert_eq!(received.media, 1, "one MP3 message, not 50 frames");
    assert_eq!(received.marks, vec!["stream-doctor-tone".to_string()]);
    let payload = received.messages.iter().find_map(|m| match m {
        Received::Text { text, .. } if text.contains("\"media\"") => {
            let from = text.find("\"payload\":\"")? + "\"payload\":\"".len();
            Some(text[from..].split('"').next()?.to_string())
        }
        _ => None,
    });
    // The kept text is cut short; its first bytes are enough for the MP3 frame's sync.
    let head = payload.expect("the media message is kept");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&head[..head.len() / 4 * 4])
        .unwrap();
    assert_eq!(bytes[0], 0xff, "an MPEG audio frame sync");
    assert_eq!(bytes[1] & 0xe0, 0xe0);

    let mut options = replay_options(url, Provider::Twilio, Codec::Pcmu, tone);
    options.pace = Pace::Realtime;
    let outcome = replay::run(&options, &|_| {}).await;
    assert_eq!(outcome.streams[0].received.media, 50);
    listener.wait_for_closed(2).await;
    let store = listener.store();
    let lines: Vec<String> = store.lock().unwrap().streams[1]
        .timeline
        .iter()
        .map(|e| e.text.clone())
        .collect();
    assert!(lines.iter().any(|l| l.contains("never MP3")), "{lines:?}");
}

type Client = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

async fn client(addr: std::net::SocketAddr, path: &str) -> Client {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio_tungstenite::client_async(format!("ws://{addr}{path}"), tcp)
        .await
        .unwrap()
        .0
}

const START_L16: &str = r#"{"event":"start","sequence_number":"1","stream_id":"S","start":{"call_control_id":"C","media_format":{"encoding":"L16","sample_rate":8000,"channels":1}}}"#;

fn media(payload: &str, chunk: u64) -> String {
    format!(
        r#"{{"event":"media","sequence_number":"{}","stream_id":"S","media":{{"track":"inbound","chunk":"{chunk}","timestamp":"{}","payload":"{payload}"}}}}"#,
        chunk + 1,
        (chunk - 1) * 20
    )
}

/// Every item of docs/streams.md's bad-input list: counted, shown, and no harm to other streams.
#[tokio::test]
async fn bad_input_is_counted_and_harms_no_other_stream() {
    let mut listener = listener(ListenOptions {
        max_frame_bytes: 64 * 1024,
        reply_tone: true,
        ..ListenOptions::default()
    })
    .await;
    let addr = listener.addr();

    // A healthy stream runs through all of it.
    let url = format!("ws://{addr}/healthy");
    let mut healthy = replay_options(
        url,
        Provider::Twilio,
        Codec::Pcmu,
        Source::Tone {
            freq_hz: 440.0,
            seconds: 3.0,
        },
    );
    healthy.pace = Pace::Realtime;
    let healthy_run = tokio::spawn(async move { replay::run(&healthy, &|_| {}).await });

    // Thousands of connections at once that never speak (3000 sockets in this process).
    let mut idle = Vec::new();
    for _ in 0..1500 {
        idle.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }

    // A client that sends everything wrong.
    let mut bad = client(addr, "/bad").await;
    let silence = base64_of(&[0u8; 320]);
    for text in [
        "this is not json".to_string(),
        r#"{"no_event": true}"#.to_string(),
        r#"{"event":"surprise","stream_id":"S"}"#.to_string(),
        media(&silence, 1),
        START_L16.to_string(),
        media("@@not base64@@", 2),
        media(&base64_of(&[1u8; 321]), 3),
        media(&silence, 7),
        media(&silence, 5),
    ] {
        bad.send(Message::text(text)).await.unwrap();
    }
    bad.send(Message::binary(vec![0u8; 10])).await.unwrap();
    bad.send(Message::text(r#"{"event":"stop","stream_id":"S"}"#))
        .await
        .unwrap();
    bad.close(None).await.unwrap();

    // A codec it cannot decode.
    let mut opus = client(addr, "/opus").await;
    opus.send(Message::text(START_L16.replace("L16", "OPUS")))
        .await
        .unwrap();
    opus.send(Message::text(media(&silence, 1))).await.unwrap();
    opus.close(None).await.unwrap();

    // A frame over the limit: that stream alone is closed with 1009.
    let mut huge = client(addr, "/huge").await;
    huge.send(Message::text(START_L16)).await.unwrap();
    huge.send(Message::binary(vec![7u8; 100 * 1024]))
        .await
        .unwrap();
    let mut close_code = None;
    while let Some(Ok(message)) = huge.next().await {
        if let Message::Close(Some(frame)) = message {
            close_code = Some(u16::from(frame.code));
        }
    }
    assert_eq!(close_code, Some(1009));

    // A client that stops reading while the listener replies to it.
    let mut deaf = client(addr, "/deaf").await;
    deaf.send(Message::text(START_L16)).await.unwrap();

    let outcome = healthy_run.await.unwrap();
    assert!(outcome.streams[0].error.is_none(), "{outcome:?}");
    drop(idle);
    drop(deaf);
    listener.wait_for_closed(5).await;
    let summary = listener.stop();
    let by_path = |path: &str| summary.streams.iter().find(|s| s.path == path).unwrap();

    let healthy = by_path("/healthy");
    assert_eq!(healthy.tracks["inbound"].frames, 150);
    assert_eq!(healthy.closed.as_ref().and_then(|c| c.code), Some(1000));

    let bad = by_path("/bad");
    assert_eq!(bad.messages.invalid, 2, "{bad:?}");
    assert_eq!(bad.messages.other, 1);
    assert_eq!(bad.messages.binary, 1);
    assert_eq!(bad.media_problems.before_start, 1);
    assert_eq!(bad.media_problems.bad_base64, 1);
    assert_eq!(bad.media_problems.odd_length, 1);
    let track = &bad.tracks["inbound"];
    assert_eq!(
        (track.frames, track.sequence_gaps, track.out_of_order),
        (3, 3, 1)
    );

    let opus = by_path("/opus");
    assert_eq!(opus.media_problems.undecodable_codec, 1);
    assert_eq!(opus.tracks["inbound"].rms_dbfs, None);

    let huge = by_path("/huge");
    assert_eq!(huge.closed.as_ref().and_then(|c| c.code), Some(1009));
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn listen_serves_tls_to_a_replay_that_trusts_its_root() {
    use stream_doctor::demo::certs::{Pki, Served, server_config};
    let pki = Pki::generate().unwrap();
    let tls = server_config(
        pki.serve("listen.test", Served::FullChain).unwrap(),
        &[b"http/1.1"],
    )
    .unwrap();
    let mut listener = listener(ListenOptions {
        tls: Some(tls),
        ..ListenOptions::default()
    })
    .await;
    let port = listener.addr().port();
    let mut options = replay_options(
        format!("wss://listen.test:{port}/secure"),
        Provider::Telnyx,
        Codec::Pcmu,
        Source::Tone {
            freq_hz: 440.0,
            seconds: 0.5,
        },
    );
    options.resolve = vec![format!("listen.test:{port}:127.0.0.1").parse().unwrap()];
    options.extra_roots = vec![pki.root_der()];
    let summary = replay_into(&mut listener, options).await;
    assert_eq!(summary.streams[0].tracks["inbound"].frames, 25);
}

#[tokio::test]
async fn frames_that_arrive_after_their_time_are_late() {
    let mut listener = listener(ListenOptions::default()).await;
    let mut ws = client(listener.addr(), "/late").await;
    let silence = base64_of(&[0u8; 320]);
    ws.send(Message::text(START_L16)).await.unwrap();
    ws.send(Message::text(media(&silence, 1))).await.unwrap();
    ws.send(Message::text(media(&silence, 2))).await.unwrap();
    // Frame 3 is due 40 ms after frame 1; it comes 400 ms later.
    tokio::time::sleep(Duration::from_millis(400)).await;
    ws.send(Message::text(media(&silence, 3))).await.unwrap();
    ws.close(None).await.unwrap();
    listener.wait_for_closed(1).await;
    let summary = listener.stop();
    let track = &summary.streams[0].tracks["inbound"];
    assert_eq!((track.frames, track.late_frames), (3, 1));
    assert_eq!(track.rms_dbfs, None, "silence has no level");
}
