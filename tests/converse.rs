//! `converse` against real bots on 127.0.0.1: the demo bot answering well and with each fault
//! the way back suffers in the field, and the listener's own reply tone in both of Telnyx's
//! bidirectional modes. Each call runs in real time (a phone line's 20 ms clock), so the calls
//! of a test run side by side.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use stream_doctor::audio::Codec;
use stream_doctor::audio::detect::Format;
use stream_doctor::catalog::{CauseId, Provider};
use stream_doctor::converse::{self, ConverseOptions, ConverseReport, Mode};
use stream_doctor::demo::bot::BotStyle;
use stream_doctor::demo::{Behavior, DemoServer};
use stream_doctor::server::listener::{ListenOptions, Listener};
use stream_doctor::server::receiver::ReplyMode;

async fn call(url: String, provider: Provider, mode: Mode, turns: u32) -> ConverseReport {
    let options = ConverseOptions {
        url,
        protocol: provider,
        mode,
        turns,
        timeout: Duration::from_secs(4),
        ..ConverseOptions::default()
    };
    converse::run(&options).await.unwrap()
}

async fn bot(style: BotStyle, provider: Provider, turns: u32) -> ConverseReport {
    let server = DemoServer::start(Behavior::Bot(style), None).await.unwrap();
    let url = format!("ws://{}/media", server.addr());
    call(url, provider, Mode::Rtp, turns).await
}

fn causes(report: &ConverseReport) -> Vec<CauseId> {
    report.diagnosis.causes.iter().map(|c| c.id).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_good_bot_is_heard_turn_by_turn() {
    let report = bot(BotStyle::Good, Provider::Telnyx, 2).await;
    assert_eq!(causes(&report), [CauseId::OkConversation], "{report:#?}");
    let call = &report.calls[0];
    assert_eq!(call.turns.len(), 2);
    for turn in &call.turns {
        let ms = turn.first_reply_ms.expect("a reply");
        assert!((250.0..1500.0).contains(&ms), "{ms}");
        assert_eq!(turn.reply_frames, 60, "1.2 s of speech in 20 ms frames");
        assert!((1500.0..=2500.0).contains(&turn.caller_speech_ms));
    }
    let reply = &call.reply;
    assert_eq!(reply.detected.unwrap().format, Format::Mulaw);
    assert_eq!((reply.marks.sent, reply.marks.echoed), (2, 2));
    assert_eq!(reply.chunk_bytes.median, 160.0);
    assert_eq!(reply.underruns.count, 0);
    let paced = reply.paced_bytes_per_second.unwrap();
    assert!((7000.0..9000.0).contains(&paced), "{paced}");
    let summary = &report.diagnosis.causes[0].summary;
    assert!(
        summary.contains("mulaw") && summary.contains(" ms"),
        "{summary}"
    );

    // Both sides' levels on one clock: the caller's while it speaks, the bot's after.
    let levels = &call.levels;
    assert!(levels.caller.len() > 100 && levels.bot.len() >= 50);
    let spoke = call.turns[0].spoke_until_ms.unwrap();
    assert!(levels.bot.iter().all(|p| p.at_ms > spoke - 20.0));
    let page = stream_doctor::report::converse::html(&report);
    assert!(
        page.contains("the caller's and the bot's levels"),
        "an SVG timeline"
    );
    let latency = format!("{:.0} ms", call.turns[0].first_reply_ms.unwrap());
    assert!(page.contains(&latency), "the turn's latency is marked");
    let markdown = stream_doctor::report::converse::markdown(&report);
    assert!(
        markdown.contains("| 1 | 2 |") && markdown.contains("ok.conversation"),
        "{markdown}"
    );
}

/// Each fault is named by its own cause, the first one the root cause.
#[tokio::test(flavor = "multi_thread")]
async fn each_fault_on_the_way_back_is_named() {
    let cases = [
        (BotStyle::OneWay, Provider::Telnyx, CauseId::ReplyNone),
        (
            BotStyle::Alaw,
            Provider::Telnyx,
            CauseId::ReplyCodecMismatch,
        ),
        (
            BotStyle::Wav,
            Provider::Telnyx,
            CauseId::ReplyContainerInPayload,
        ),
        (
            BotStyle::Fast,
            Provider::Telnyx,
            CauseId::ReplySampleRateMismatch,
        ),
        (BotStyle::Late, Provider::Telnyx, CauseId::ReplyLate),
        (
            BotStyle::NoStreamSid,
            Provider::Twilio,
            CauseId::ReplyStreamSidMissing,
        ),
        (BotStyle::Stutter, Provider::Telnyx, CauseId::ReplyUnderrun),
        (BotStyle::Silent, Provider::Telnyx, CauseId::ReplySilent),
        (
            BotStyle::HangUp,
            Provider::Telnyx,
            CauseId::StreamClosedMidCall,
        ),
        (
            BotStyle::Sloppy,
            Provider::Telnyx,
            CauseId::ReplyInvalidMessage,
        ),
    ];
    let reports = futures_util::future::join_all(
        cases
            .iter()
            .map(|(style, provider, _)| bot(*style, *provider, 1)),
    )
    .await;
    for ((style, _, want), report) in cases.iter().zip(&reports) {
        assert_eq!(
            report.diagnosis.verdict,
            Some(*want),
            "{}: {:?}",
            style.name(),
            report.diagnosis.causes
        );
    }
    let rate = &reports[3].diagnosis.causes[0].summary;
    assert!(
        rate.contains("8000") && rate.contains("times too slow"),
        "{rate}"
    );
    let alaw = &reports[1].diagnosis.causes[0].summary;
    assert!(alaw.contains("alaw"), "{alaw}");
    let stutter = &reports[6].calls[0].reply.underruns;
    assert_eq!(stutter.count, 1);
    assert!((250.0..400.0).contains(&stutter.total_ms), "{stutter:?}");
    let cut = &reports[8].diagnosis.causes[0].summary;
    assert!(cut.contains("code 1011"), "{cut}");
    let sloppy: Vec<CauseId> = causes(&reports[9]);
    for also in [CauseId::ReplyFrameSize, CauseId::ReplyMarkMalformed] {
        assert!(sloppy.contains(&also), "{sloppy:?}");
    }
}

/// Two calls in a row and a caller who speaks over the last reply: the demo bot stops and sends
/// `clear` at once, and both calls behave alike.
#[tokio::test(flavor = "multi_thread")]
async fn barge_in_is_cleared_and_repeated_calls_behave_alike() {
    let server = DemoServer::start(Behavior::Bot(BotStyle::Good), None)
        .await
        .unwrap();
    let options = ConverseOptions {
        url: format!("ws://{}/media", server.addr()),
        turns: 1,
        calls: 2,
        barge_in: true,
        hold: Duration::from_millis(500),
        timeout: Duration::from_secs(4),
        ..ConverseOptions::default()
    };
    let report = converse::run(&options).await.unwrap();
    assert_eq!(report.calls.len(), 2);
    assert!(report.calls.iter().all(|c| c.connected && c.replied()));
    assert_eq!(
        causes(&report),
        [CauseId::OkConversation],
        "{:?}",
        report.diagnosis
    );
    for call in &report.calls {
        let reply = &call.reply;
        assert!(reply.barge_in_at_ms.is_some());
        let after = reply.clear.after_barge_in_ms.expect("a clear");
        assert!(after < 1000.0, "{after}");
    }
}

/// Calls at once: each is heard on its own, and the turn latency is given over all of them.
#[tokio::test(flavor = "multi_thread")]
async fn calls_at_once_report_their_latency_spread() {
    let server = DemoServer::start(Behavior::Bot(BotStyle::Good), None)
        .await
        .unwrap();
    let options = ConverseOptions {
        url: format!("ws://{}/media", server.addr()),
        turns: 1,
        concurrent: 8,
        timeout: Duration::from_secs(4),
        ..ConverseOptions::default()
    };
    let report = converse::run(&options).await.unwrap();
    let at_once = report.concurrency.as_ref().expect("concurrency figures");
    assert_eq!((at_once.calls, at_once.failed), (8, 0), "{report:#?}");
    assert!(at_once.first_reply_ms.p50 >= 250.0 && at_once.first_reply_ms.max < 1500.0);
    let numbers: Vec<u32> = report.calls.iter().map(|c| c.call).collect();
    assert_eq!(numbers, (1..=8).collect::<Vec<_>>());
    assert_eq!(report.diagnosis.verdict, Some(CauseId::OkConversation));
}

/// A bot that answers only its first call: the second call's silence is named as a later call
/// failing, not as no reply.
#[tokio::test(flavor = "multi_thread")]
async fn a_bot_that_fails_after_its_first_call_is_named() {
    let server = DemoServer::start(Behavior::Bot(BotStyle::FirstCallOnly), None)
        .await
        .unwrap();
    let options = ConverseOptions {
        url: format!("ws://{}/media", server.addr()),
        turns: 1,
        calls: 2,
        timeout: Duration::from_secs(2),
        ..ConverseOptions::default()
    };
    let report = converse::run(&options).await.unwrap();
    assert!(report.calls[0].replied() && !report.calls[1].replied());
    assert_eq!(
        report.diagnosis.verdict,
        Some(CauseId::StreamLaterCallFails),
        "{:?}",
        report.diagnosis
    );
    assert!(!causes(&report).contains(&CauseId::ReplyNone));
    let summary = &report.diagnosis.causes[0].summary;
    assert!(summary.contains("call 2"), "{summary}");
}

/// Every codec the listener decodes carries a call: the caller's speech and the bot's answer
/// in it (G.722 at 16 kHz audio), the answer heard and timed.
#[tokio::test(flavor = "multi_thread")]
async fn a_call_in_each_codec_is_heard() {
    let server = DemoServer::start(Behavior::Bot(BotStyle::Good), None)
        .await
        .unwrap();
    let url = format!("ws://{}/media", server.addr());
    let call_in = |codec: Codec| {
        let options = ConverseOptions {
            url: url.clone(),
            codec,
            turns: 1,
            timeout: Duration::from_secs(4),
            ..ConverseOptions::default()
        };
        async move { (codec, converse::run(&options).await.unwrap()) }
    };
    let reports =
        futures_util::future::join_all([Codec::Pcma, Codec::L16, Codec::G722].map(call_in)).await;
    for (codec, report) in reports {
        let turn = &report.calls[0].turns[0];
        let ms = turn
            .first_reply_ms
            .unwrap_or_else(|| panic!("{codec:?}: {report:#?}"));
        assert!((250.0..1500.0).contains(&ms), "{codec:?}: {ms}");
        assert!(!report.fails(), "{codec:?}: {:?}", report.diagnosis.causes);
        let detected = report.calls[0].reply.detected.unwrap().format;
        let want = match codec {
            Codec::Pcma => Format::Alaw,
            Codec::L16 => Format::Pcm16be,
            _ => detected,
        };
        assert_eq!(detected, want, "{codec:?}");
    }
}

/// The listener's own reply tone, in Telnyx's two bidirectional modes: MP3 where the stream
/// plays MP3 is right; MP3 where raw audio belongs is a file in the payload.
#[tokio::test(flavor = "multi_thread")]
async fn the_listeners_mp3_reply_is_right_only_in_mp3_mode() {
    let options = ListenOptions {
        bind: "127.0.0.1:0".parse().unwrap(),
        reply_tone: true,
        reply_mode: ReplyMode::Mp3,
        ..ListenOptions::default()
    };
    let listener = Listener::start(options, Arc::new(|_| {})).await.unwrap();
    let url = format!("ws://{}/stream", listener.addr());
    let (mp3, rtp) = tokio::join!(
        call(url.clone(), Provider::Telnyx, Mode::Mp3, 1),
        call(url, Provider::Telnyx, Mode::Rtp, 1)
    );
    assert_eq!(
        mp3.diagnosis.verdict,
        Some(CauseId::OkConversation),
        "{:?}",
        mp3.diagnosis
    );
    assert_eq!(mp3.calls[0].reply.detected.unwrap().format, Format::Mp3);
    assert_eq!(
        rtp.diagnosis.verdict,
        Some(CauseId::ReplyContainerInPayload),
        "{:?}",
        rtp.diagnosis
    );
}

fn bin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_stream-doctor"));
    command
        .env_remove("STREAM_DOCTOR_AUTH_TOKEN")
        .env_remove("TWILIO_AUTH_TOKEN");
    command
}

/// The command: the contract's JSON, exit 1 on a failing cause, 2 for Twilio with another
/// codec, and the auth token it carries in no output.
#[test]
fn the_command_reports_json_and_exits_as_check_does() {
    let out = bin()
        .args([
            "converse", "--demo", "alaw", "--turns", "1", "--format", "json",
        ])
        .args(["--auth-token", "conv-t0ken-31"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("conv-t0ken-31"));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["protocol"], "telnyx");
    assert_eq!(json["options"]["bidirectional"], "rtp");
    assert_eq!(json["calls"][0]["reply"]["detected"]["format"], "alaw");
    assert_eq!(json["calls"][0]["reply"]["declared"]["encoding"], "PCMU");
    assert!(json["calls"][0]["turns"][0]["first_reply_ms"].is_number());
    assert_eq!(json["diagnosis"]["verdict"], "reply.codec_mismatch");
    assert!(
        json["diagnosis"]["causes"][0]["fix"]
            .as_str()
            .unwrap()
            .contains("A-law")
    );

    let out = bin()
        .args([
            "converse",
            "--demo",
            "--protocol",
            "twilio",
            "--codec",
            "PCMA",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("μ-law"));
}
