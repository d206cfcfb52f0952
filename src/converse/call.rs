//! One call placed as the provider: the same upgrade and first messages as the `provider`
//! check, then a phone line's clock, a 20 ms frame every 20 ms for the whole call (the caller's
//! utterance, then silence while the bot answers), the replies handed to the `Ear` as they
//! arrive, and each `mark` echoed when its audio has played. It ends after the turns (and the
//! hold) with `stop` and a close, or when the server ends it.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::ear::{Ear, Mode};
use crate::audio::meter::{LevelPoint, Summary, decimate};
use crate::audio::{Codec, Encoder};
use crate::catalog::Provider;
use crate::clock::millis;
use crate::net::close;
use crate::records::close::Close;
use crate::records::conversation::{CallClose, CallLevels, CallRecord, ClosedBy, Spread};
use crate::records::exchange::UpgradeAuth;
use crate::stream::caller::{self, CLOCK_RATE_HZ, Dial, OpenError, Ws};
use crate::stream::script::{FRAME_MS, Script};

/// With barge-in, the caller speaks again this long after the bot's reply starts.
const BARGE_IN_AFTER_MS: f64 = 500.0;
/// Each side's levels are kept to this many points (a report draws them).
const LEVEL_POINTS: usize = 600;
/// A turn whose reply never ends (a bot that talks on and on) ends after this many timeouts.
const TURN_CAP_TIMEOUTS: f64 = 3.0;

/// What one call does.
pub(crate) struct Plan<'a> {
    pub provider: Provider,
    pub codec: Codec,
    pub mode: Mode,
    pub turns: u32,
    /// A turn whose reply has not started this long after the caller stopped ends without one.
    pub turn_timeout: Duration,
    /// After the turns, the caller stays on the line in silence this long.
    pub hold: Duration,
    /// In the last turn, speak over the reply.
    pub barge_in: bool,
    /// The caller's utterances at the codec's audio rate, spoken in turn.
    pub utterances: &'a [Vec<i16>],
}

impl Plan<'_> {
    /// Samples in one 20 ms frame at the codec's audio rate (G.722 carries 16 kHz).
    fn frame_samples(&self) -> usize {
        (self.codec.audio_rate(CLOCK_RATE_HZ) as usize * FRAME_MS as usize) / 1000
    }
}

/// Where the caller is in the call.
enum Phase {
    Speaking {
        turn: u32,
        frame: usize,
    },
    /// Silent while the bot answers; `barged`: the caller already spoke over this reply.
    Waiting {
        turn: u32,
        since: f64,
        barged: bool,
    },
    /// Speaking over the reply (barge-in), until the utterance is over.
    Interrupting {
        turn: u32,
        frame: usize,
    },
    Holding {
        until: f64,
    },
}

/// Places call `number` and reports it.
pub(crate) async fn place(dial: &Dial<'_>, plan: &Plan<'_>, number: u32) -> CallRecord {
    let auth = UpgradeAuth {
        stream_token: dial.auth_token,
        account_token: dial.account_token,
        url: dial.target.url.as_str(),
    };
    let headers = plan.provider.protocol().upgrade_headers(&auth);
    let (ws, witness) = match caller::open(dial, &headers).await {
        Ok(opened) => opened,
        Err(e) => {
            let problem = match e {
                OpenError::Refused {
                    status,
                    answered_by,
                } => {
                    let by = answered_by
                        .map(|b| format!(" from {}", b.describe()))
                        .unwrap_or_default();
                    format!("the upgrade got {status}{by}")
                }
                other => other.to_string(),
            };
            return CallRecord {
                call: number,
                problem: Some(problem),
                ..CallRecord::default()
            };
        }
    };
    talk(ws, witness, dial, plan, number).await
}

async fn talk(
    ws: Ws,
    witness: close::CloseWitness,
    dial: &Dial<'_>,
    plan: &Plan<'_>,
    number: u32,
) -> CallRecord {
    let opened = Instant::now();
    let since = move |at: Instant| millis(at.saturating_duration_since(opened));
    let (mut sink, mut source) = ws.split();
    let (heard_tx, mut heard) = mpsc::unbounded_channel::<(Instant, String)>();
    let reader = tokio::spawn(async move {
        loop {
            match source.next().await {
                Some(Ok(Message::Text(text))) => {
                    let _ = heard_tx.send((Instant::now(), text.to_string()));
                }
                Some(Ok(Message::Binary(bytes))) => {
                    let _ =
                        heard_tx.send((Instant::now(), format!("<{} binary bytes>", bytes.len())));
                }
                Some(Ok(Message::Close(frame))) => {
                    let close = witness
                        .close()
                        .unwrap_or_else(|| close::of_frame(frame.as_ref()));
                    return (Instant::now(), close);
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    let close = witness
                        .close()
                        .unwrap_or_else(|| Close::error(e.to_string()));
                    return (Instant::now(), close);
                }
                None => return (Instant::now(), Close::no_frame()),
            }
        }
    });

    let mut script = Script::new(plan.provider);
    let mut ear = Ear::new(plan.provider, plan.codec, plan.mode, &script.ids.stream_id);
    let mut encoder = Encoder::new(plan.codec);
    let rate_hz = plan.codec.audio_rate(CLOCK_RATE_HZ);
    let frame_samples = plan.frame_samples();
    let silence = vec![0i16; frame_samples];
    let mut jitter = Vec::new();
    let mut caller_levels = Vec::new();
    let timeout = dial.timeout;
    let send = async |sink: &mut futures_util::stream::SplitSink<Ws, Message>, text: String| {
        matches!(
            tokio::time::timeout(timeout, sink.send(Message::text(text))).await,
            Ok(Ok(()))
        )
    };
    let mut ended: Option<CallClose> = None;
    let mut sent_ok = send(&mut sink, script.connected(dial.auth_token)).await
        && send(
            &mut sink,
            script.start(plan.codec, CLOCK_RATE_HZ, &["inbound"]),
        )
        .await;
    let utterance =
        |turn: u32| &plan.utterances[(turn as usize - 1) % plan.utterances.len().max(1)];
    let speech_ms = |turn: u32| utterance(turn).len() as f64 / f64::from(rate_hz) * 1000.0;
    let mut phase = Phase::Speaking { turn: 1, frame: 0 };
    ear.begin_turn(1, speech_ms(1));
    let began = Instant::now();
    let mut tick: u64 = 0;
    while sent_ok {
        let due = began + Duration::from_millis(tick * FRAME_MS);
        tokio::time::sleep_until(due).await;
        let now_instant = Instant::now();
        jitter.push(millis(now_instant.saturating_duration_since(due)));
        tick += 1;
        let now = since(now_instant);
        while let Ok((at, text)) = heard.try_recv() {
            ear.hear(since(at), &text);
        }
        if reader.is_finished() {
            break;
        }
        for name in ear.due_marks(now) {
            sent_ok &= send(&mut sink, script.mark(&name)).await;
        }
        let (frame, next) = step(&mut phase, &mut ear, plan, now, &utterance, &speech_ms);
        let samples = frame.unwrap_or(&silence);
        caller_levels.push(LevelPoint::measured(now, &Summary::of(samples)));
        let chunk = tick;
        sent_ok &= send(
            &mut sink,
            script.media("inbound", chunk, &encoder.encode(samples)),
        )
        .await;
        if !next {
            break;
        }
    }
    let hung_up = !reader.is_finished();
    if hung_up {
        let _ = send(&mut sink, script.stop()).await;
        let bye = CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        };
        let _ = tokio::time::timeout(
            Duration::from_millis(500),
            sink.send(Message::Close(Some(bye))),
        )
        .await;
    }
    let read = tokio::time::timeout(Duration::from_secs(1), reader).await;
    while let Ok((at, text)) = heard.try_recv() {
        ear.hear(since(at), &text);
    }
    if let Ok(Ok((at, close))) = read {
        let (code, reason) = match &close {
            Close::Frame { code, reason, .. } => (*code, reason.clone()),
            Close::Error { error } => (None, error.clone()),
        };
        let by = match (&close, hung_up) {
            (_, true) => ClosedBy::Client,
            (Close::Frame { .. }, false) => ClosedBy::Server,
            (Close::Error { .. }, false) => ClosedBy::Error,
        };
        ended = Some(CallClose {
            by,
            at_ms: since(at),
            code,
            reason,
        });
    }
    if !sent_ok && ended.as_ref().is_none_or(|c| c.by == ClosedBy::Client) {
        ended = Some(CallClose {
            by: ClosedBy::Error,
            at_ms: since(Instant::now()),
            code: None,
            reason: "the server stopped reading".into(),
        });
    }
    let (turns, reply, bot) = ear.finish();
    let levels = CallLevels {
        caller: decimate(&caller_levels, LEVEL_POINTS),
        bot: decimate(&bot, LEVEL_POINTS),
    };
    CallRecord {
        call: number,
        connected: true,
        problem: None,
        close: ended,
        turns,
        reply,
        send_jitter_ms: Spread::of(&jitter),
        levels,
    }
}

/// Moves the caller on at `now`: the frame to send (`None`: silence), and whether the call goes
/// on.
fn step<'p>(
    phase: &mut Phase,
    ear: &mut Ear,
    plan: &'p Plan<'_>,
    now: f64,
    utterance: &impl Fn(u32) -> &'p Vec<i16>,
    speech_ms: &impl Fn(u32) -> f64,
) -> (Option<&'p [i16]>, bool) {
    let timeout_ms = plan.turn_timeout.as_secs_f64() * 1000.0;
    match *phase {
        Phase::Speaking { turn, frame } | Phase::Interrupting { turn, frame } => {
            let speech = utterance(turn);
            let at = frame * plan.frame_samples();
            if at >= speech.len() {
                let barged = matches!(phase, Phase::Interrupting { .. });
                if !barged {
                    ear.spoke_until(now);
                }
                *phase = Phase::Waiting {
                    turn,
                    since: now,
                    barged,
                };
                return (None, true);
            }
            let end = (at + plan.frame_samples()).min(speech.len());
            let next = frame + 1;
            *phase = match phase {
                Phase::Speaking { .. } => Phase::Speaking { turn, frame: next },
                _ => Phase::Interrupting { turn, frame: next },
            };
            (Some(&speech[at..end]), true)
        }
        Phase::Waiting {
            turn,
            since,
            barged,
        } => {
            let last = turn == plan.turns;
            if last
                && plan.barge_in
                && !barged
                && ear
                    .reply_started_at()
                    .is_some_and(|started| now - started >= BARGE_IN_AFTER_MS && ear.playing(now))
            {
                ear.barge_in(now);
                *phase = Phase::Interrupting { turn, frame: 0 };
                return step(phase, ear, plan, now, utterance, speech_ms);
            }
            let waited = now - since;
            let done = ear.reply_done(now)
                || (!ear.replying() && waited > timeout_ms)
                || waited > timeout_ms * TURN_CAP_TIMEOUTS;
            if !done {
                return (None, true);
            }
            if last {
                let hold = plan.hold.as_secs_f64() * 1000.0;
                *phase = Phase::Holding { until: now + hold };
                return (None, hold > 0.0);
            }
            let next = turn + 1;
            ear.begin_turn(next, speech_ms(next));
            *phase = Phase::Speaking {
                turn: next,
                frame: 0,
            };
            step(phase, ear, plan, now, utterance, speech_ms)
        }
        Phase::Holding { until } => (None, now < until),
    }
}
