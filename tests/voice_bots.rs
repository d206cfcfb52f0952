//! `converse` against voice bots written as teams write them, in Python with `websockets`
//! (`tests/frameworks/voice_bot.py`, installed by `scripts/setup-frameworks`): a healthy one, and
//! one for each fault the way back suffers in the field, each named by its own cause, in both
//! providers' shapes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use stream_doctor::audio::detect::Format;
use stream_doctor::catalog::{CauseId, Provider};
use stream_doctor::converse::{self, ConverseOptions, ConverseReport};

/// A bot process; killed when dropped.
struct Bot {
    child: Child,
    port: u16,
}

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bot(mode: &str) -> Bot {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join("target/frameworks/uvicorn-ws/bin/python");
    assert!(
        python.exists(),
        "the Python bots' runtime is missing: run scripts/setup-frameworks (scripts/test does)"
    );
    let mut child = Command::new(python)
        .arg(root.join("tests/frameworks/voice_bot.py"))
        .arg(mode)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("no port: {line:?}"));
    Bot { child, port }
}

async fn talk(
    mode: &str,
    provider: Provider,
    options: ConverseOptions,
) -> (String, ConverseReport) {
    let bot = bot(mode);
    let options = ConverseOptions {
        url: format!("ws://127.0.0.1:{}/media", bot.port),
        protocol: provider,
        timeout: Duration::from_secs(4),
        ..options
    };
    let report = converse::run(&options).await.unwrap();
    drop(bot);
    (format!("{mode} as {}", provider.name()), report)
}

fn one_turn() -> ConverseOptions {
    ConverseOptions {
        turns: 1,
        ..ConverseOptions::default()
    }
}

fn causes(report: &ConverseReport) -> Vec<CauseId> {
    report.diagnosis.causes.iter().map(|c| c.id).collect()
}

/// Every cause of the way back, each from the bot that shows it; the verdict is that cause.
#[tokio::test(flavor = "multi_thread")]
async fn each_python_bot_is_named_by_its_cause() {
    use CauseId::*;
    let cases = [
        ("good", Provider::Telnyx, OkConversation),
        ("good", Provider::Twilio, OkConversation),
        ("one-way", Provider::Telnyx, ReplyNone),
        ("one-way", Provider::Twilio, ReplyNone),
        ("alaw", Provider::Telnyx, ReplyCodecMismatch),
        ("alaw", Provider::Twilio, ReplyCodecMismatch),
        ("wav", Provider::Telnyx, ReplyContainerInPayload),
        ("wav", Provider::Twilio, ReplyContainerInPayload),
        ("fast", Provider::Telnyx, ReplySampleRateMismatch),
        ("fast", Provider::Twilio, ReplySampleRateMismatch),
        ("no-stream-sid", Provider::Twilio, ReplyStreamSidMissing),
        ("sloppy", Provider::Telnyx, ReplyInvalidMessage),
        ("silent", Provider::Telnyx, ReplySilent),
        ("hang-up", Provider::Telnyx, StreamClosedMidCall),
        ("hang-up", Provider::Twilio, StreamClosedMidCall),
        ("stutter", Provider::Telnyx, ReplyUnderrun),
        ("stutter", Provider::Twilio, ReplyUnderrun),
        ("late", Provider::Telnyx, ReplyLate),
        ("late", Provider::Twilio, ReplyLate),
        ("sloppy", Provider::Twilio, ReplyInvalidMessage),
        ("silent", Provider::Twilio, ReplySilent),
    ];
    let reports = futures_util::future::join_all(
        cases
            .iter()
            .map(|(mode, provider, _)| talk(mode, *provider, one_turn())),
    )
    .await;
    for ((_, _, want), (name, report)) in cases.iter().zip(&reports) {
        assert_eq!(
            report.diagnosis.verdict,
            Some(*want),
            "{name}: {:?}",
            report.diagnosis.causes
        );
    }
    let sloppy = causes(&reports[11].1);
    for also in [CauseId::ReplyFrameSize, CauseId::ReplyMarkMalformed] {
        assert!(sloppy.contains(&also), "{sloppy:?}");
    }
    let good = &reports[0].1.calls[0].reply;
    assert_eq!(good.detected.unwrap().format, Format::Mulaw);
    assert_eq!((good.marks.sent, good.marks.echoed), (1, 1));
}

/// Interruptions and repeated calls: a bot that stops and sends `clear` when the caller speaks
/// over it passes; one that talks on is named; a bot mute after its first call is a later call
/// failing.
#[tokio::test(flavor = "multi_thread")]
async fn barge_in_and_later_calls_against_python_bots() {
    let barge = || ConverseOptions {
        barge_in: true,
        ..one_turn()
    };
    let twice = ConverseOptions {
        calls: 2,
        ..one_turn()
    };
    let ((_, clears), (_, talks_on), (_, later), (_, later_twilio)) = tokio::join!(
        talk("clear-on-barge-in", Provider::Twilio, barge()),
        talk("good", Provider::Telnyx, barge()),
        talk("first-call-only", Provider::Telnyx, twice.clone()),
        talk("first-call-only", Provider::Twilio, twice),
    );
    let clear = &clears.calls[0].reply.clear;
    assert!(clear.sent, "{clears:#?}");
    let after = clear.after_barge_in_ms.unwrap();
    assert!(after < 1000.0, "{after}");
    assert!(!causes(&clears).contains(&CauseId::ReplyNoClearOnBargeIn));
    assert_eq!(
        talks_on.diagnosis.verdict,
        Some(CauseId::ReplyNoClearOnBargeIn),
        "{:?}",
        talks_on.diagnosis.causes
    );
    for later in [&later, &later_twilio] {
        assert_eq!(
            later.diagnosis.verdict,
            Some(CauseId::StreamLaterCallFails),
            "{:?}",
            later.diagnosis.causes
        );
    }
}
