//! The window's background worker: it owns one tokio runtime, takes `Command`s (checks, the
//! demo target, the listener, the demo stream, the provider's API), and sends back `Event`s tagged with the run
//! they belong to. Stream levels do not travel as events: the listener's `LiveStore` is shared,
//! bounded, and read by the UI each frame. A waker (the window's repaint request) is
//! called after every event, so the UI sleeps until something arrives and never blocks.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use tokio::runtime::Runtime;
use tokio::task::AbortHandle;

use crate::catalog::CheckId;
use crate::check::CheckResult;
use crate::check::evidence::RetryReason;
use crate::check::options::CheckOptions;
use crate::converse::{self, ConverseError, ConverseOptions, ConverseReport};
use crate::demo::bot::BotStyle;
use crate::demo::playback::{self, PlaybackError};
use crate::demo::{Behavior, DemoError, DemoMode, DemoTarget};
use crate::diagnosis::CheckReport;
use crate::probe::{self, Progress};
use crate::provider::api::{self, Api, ApiError, DeliveryFilter, EventsOf, StreamStart};
use crate::provider::correlate::DEFAULT_STARTED_GRACE;
use crate::provider::webhook;
use crate::records::address::ResolvePin;
use crate::records::live::ListenSummary;
use crate::records::live::LiveStore;
use crate::records::telnyx_api::Answer;
use crate::secret::Secret;
use crate::server::confirm::{self, Arrival};
use crate::server::listener::{ListenOptions, Listener};
use crate::server::mirror::{self, Following, Halt, Mirror};
use crate::server::monitor::MonitorEvent;
use crate::server::ngrok::{self, TunnelError};
use crate::server::watch::WatchOptions;

pub(crate) type RunId = u64;

#[derive(Clone, Debug)]
pub(crate) enum Command {
    /// Run the checks `scope` needs (every check when `None`).
    Run {
        run: RunId,
        url: String,
        options: CheckOptions,
        scope: Option<CheckId>,
    },
    Cancel {
        run: RunId,
    },
    CancelAll,
    /// Start the built-in demo target, or switch its mode (the address stays the same).
    Demo(DemoMode),
    /// Stand in for the user's server on 127.0.0.1:`port` (0: any free port).
    Listen {
        port: u16,
        token: Option<Secret>,
        /// What the webhooks' signatures are judged with.
        keys: webhook::Keys,
    },
    StopListening,
    /// Replay the demo speech clip into the app's own listener, as a provider would.
    DemoStream,
    /// Replay `count` streams of a tone on both tracks for `seconds` into the app's own
    /// listener: the load `--measure-streams` measures the window under.
    ToneStreams {
        count: usize,
        seconds: f64,
    },
    /// Ask a local ngrok agent for the public URL of a tunnel to `port`.
    DetectTunnel {
        port: u16,
    },
    /// Watch a listener that runs elsewhere through its monitor, reconnecting when the link
    /// drops, until `StopWatching`.
    Watch(WatchOptions),
    StopWatching,
    /// The URL last checked, which the listener compares the provider's `stream_url`s with.
    ExpectUrl(Option<String>),
    /// Place a short call as the provider and judge the way back (`converse`); with
    /// `demo_bot`, to a demo bot of that style started for it. Cancellable as a run.
    Converse {
        run: RunId,
        options: Box<ConverseOptions>,
        demo_bot: Option<BotStyle>,
    },
    /// Ask the provider's REST API; a stream started while the listener runs is watched for.
    Api {
        call: ApiCall,
        key: Secret,
        /// The documented base when `None`.
        base: Option<String>,
    },
}

/// A request to the provider's REST API.
#[derive(Clone, Debug)]
pub(crate) enum ApiCall {
    Deliveries(DeliveryFilter),
    Events(EventsOf),
    CallStatus(String),
    App(String),
    StreamStart { call: String, start: StreamStart },
    StreamStop { call: String },
}

impl ApiCall {
    /// What it is, in the words of the window's buttons.
    pub(crate) fn label(&self) -> &'static str {
        match self {
            ApiCall::Deliveries(_) => "webhook deliveries",
            ApiCall::Events(_) => "call events",
            ApiCall::CallStatus(_) => "call status",
            ApiCall::App(_) => "application",
            ApiCall::StreamStart { .. } => "start a test stream",
            ApiCall::StreamStop { .. } => "stop the stream",
        }
    }
}

/// How watching a remote listener goes.
#[derive(Clone, Debug)]
pub(crate) enum WatchStatus {
    /// The streams it shows land in `store`, as a local listener's do.
    Connecting { store: LiveStore },
    /// The link's news, as `mirror::follow` tells it (stopped by hand is `Stopped` too).
    Link(Following),
}

/// What the UI needs to point checks at the demo target.
#[derive(Clone, Debug)]
pub(crate) struct DemoInfo {
    pub mode: DemoMode,
    pub url: String,
    pub pin: ResolvePin,
    pub root: CertificateDer<'static>,
}

#[derive(Clone, Debug)]
pub(crate) enum Event {
    Started {
        run: RunId,
        check: CheckId,
    },
    /// A check asks again (attempt `attempt`, counting the first), and why.
    Retrying {
        run: RunId,
        check: CheckId,
        why: RetryReason,
        attempt: u32,
    },
    Finished {
        run: RunId,
        result: CheckResult,
    },
    Done {
        run: RunId,
        report: CheckReport,
    },
    Cancelled {
        run: RunId,
    },
    DemoReady(DemoInfo),
    DemoFailed(Arc<DemoError>),
    Listening {
        addr: SocketAddr,
        store: LiveStore,
    },
    ListenFailed {
        bind: SocketAddr,
        error: Arc<std::io::Error>,
    },
    ListenerStopped(ListenSummary),
    /// What a listener (local, or watched) said happened.
    Stream(Box<MonitorEvent>),
    DemoStreamDone(Result<u64, Arc<PlaybackError>>),
    Tunnel(Result<String, TunnelError>),
    Watch(WatchStatus),
    /// A call placed as the provider, judged.
    Conversed {
        run: RunId,
        result: Result<Box<ConverseReport>, Arc<ConverseError>>,
    },
    /// The API's answer (or why there is none), with what was asked.
    Api {
        label: &'static str,
        result: Result<Answer, Arc<ApiError>>,
        arrival: Arrival,
    },
}

type Waker = Arc<dyn Fn() + Send + Sync>;
/// Sends an event to the window and wakes it.
type Emit = Arc<dyn Fn(Event) + Send + Sync>;

pub(crate) struct Engine {
    runtime: Option<Runtime>,
    sender: mpsc::Sender<Event>,
    events: mpsc::Receiver<Event>,
    waker: Waker,
    runs: Arc<Mutex<HashMap<RunId, AbortHandle>>>,
    demo: Arc<tokio::sync::Mutex<Option<DemoTarget>>>,
    listener: Arc<tokio::sync::Mutex<Option<Listener>>>,
    expect_url: Arc<Mutex<Option<String>>>,
    watching: Mutex<Option<AbortHandle>>,
}

impl Engine {
    /// `waker` is called from the runtime's threads after each event.
    pub(crate) fn new(waker: impl Fn() + Send + Sync + 'static) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("stream-doctor-engine")
            .enable_all()
            .build()?;
        let (sender, events) = mpsc::channel();
        Ok(Self {
            runtime: Some(runtime),
            sender,
            events,
            waker: Arc::new(waker),
            runs: Arc::new(Mutex::new(HashMap::new())),
            demo: Arc::new(tokio::sync::Mutex::new(None)),
            listener: Arc::new(tokio::sync::Mutex::new(None)),
            expect_url: Arc::new(Mutex::new(None)),
            watching: Mutex::new(None),
        })
    }

    fn emitter(&self) -> Emit {
        let sender = self.sender.clone();
        let waker = self.waker.clone();
        Arc::new(move |event| {
            let _ = sender.send(event);
            waker();
        })
    }

    /// Acts on a command without waiting for it: the work runs on the engine's runtime.
    pub(crate) fn send(&self, command: Command) {
        let Some(runtime) = &self.runtime else {
            return;
        };
        let emit = self.emitter();
        match command {
            Command::Run {
                run,
                url,
                options,
                scope,
            } => self.run_checks(runtime, emit, run, url, options, scope),
            Command::Cancel { run } => self.cancel(&emit, run),
            Command::CancelAll => self.cancel_all(&emit),
            Command::Demo(mode) => self.demo_target(runtime, emit, mode),
            Command::Listen { port, token, keys } => self.listen(runtime, emit, port, token, keys),
            Command::StopListening => self.stop_listening(runtime, emit),
            Command::DemoStream => self.play(runtime, emit, None),
            Command::ToneStreams { count, seconds } => {
                self.play(runtime, emit, Some((count, seconds)))
            }
            Command::ExpectUrl(url) => self.expect_url(runtime, url),
            Command::DetectTunnel { port } => {
                runtime.spawn(async move {
                    let found = ngrok::public_url(ngrok::AGENT_API, port, Duration::from_secs(2));
                    emit(Event::Tunnel(found.await));
                });
            }
            Command::Watch(options) => self.watch(runtime, emit, options),
            Command::StopWatching => self.stop_watching(&emit),
            Command::Api { call, key, base } => self.ask(runtime, emit, call, key, base),
            Command::Converse {
                run,
                options,
                demo_bot,
            } => self.converse(runtime, emit, run, *options, demo_bot),
        }
    }
}

/// The way back: a call placed as the provider, cancellable like a run.
impl Engine {
    fn converse(
        &self,
        runtime: &Runtime,
        emit: Emit,
        run: RunId,
        mut options: ConverseOptions,
        demo_bot: Option<BotStyle>,
    ) {
        let runs = self.runs.clone();
        let Ok(mut registered) = self.runs.lock() else {
            return;
        };
        let handle = runtime.spawn(async move {
            let result = async {
                // Kept alive for the call: dropping it stops the bot.
                let bot = match demo_bot {
                    Some(style) => Some(DemoTarget::start(Behavior::Bot(style)).await?),
                    None => None,
                };
                if let Some(bot) = &bot {
                    options.url = bot.url.clone();
                    options.resolve.push(bot.pin.clone());
                    options.extra_roots.push(bot.root.clone());
                }
                converse::run(&options).await
            }
            .await;
            if let Ok(mut runs) = runs.lock() {
                runs.remove(&run);
            }
            emit(Event::Conversed {
                run,
                result: result.map(Box::new).map_err(Arc::new),
            });
        });
        registered.insert(run, handle.abort_handle());
    }
}

/// Checks: runs, each cancellable.
impl Engine {
    fn run_checks(
        &self,
        runtime: &Runtime,
        emit: Emit,
        run: RunId,
        url: String,
        options: CheckOptions,
        scope: Option<CheckId>,
    ) {
        let runs = self.runs.clone();
        // Held across the spawn so a run that ends at once cannot remove itself before it is
        // registered.
        let Ok(mut registered) = self.runs.lock() else {
            return;
        };
        let handle = runtime.spawn(async move {
            let progress = |p: Progress| match p {
                Progress::Started(check) => emit(Event::Started { run, check }),
                Progress::Retrying {
                    check,
                    why,
                    attempt,
                } => emit(Event::Retrying {
                    run,
                    check,
                    why,
                    attempt,
                }),
                Progress::Finished(result) => emit(Event::Finished {
                    run,
                    result: *result,
                }),
            };
            let report = probe::run_scoped(&url, &options, scope, &progress).await;
            if let Ok(mut runs) = runs.lock() {
                runs.remove(&run);
            }
            emit(Event::Done { run, report });
        });
        registered.insert(run, handle.abort_handle());
    }

    fn cancel(&self, emit: &Emit, run: RunId) {
        let handle = self.runs.lock().ok().and_then(|mut runs| runs.remove(&run));
        if let Some(handle) = handle {
            handle.abort();
            emit(Event::Cancelled { run });
        }
    }

    fn cancel_all(&self, emit: &Emit) {
        let all: Vec<(RunId, AbortHandle)> = self
            .runs
            .lock()
            .map(|mut runs| runs.drain().collect())
            .unwrap_or_default();
        for (run, handle) in all {
            handle.abort();
            emit(Event::Cancelled { run });
        }
    }

    /// The built-in target, started once and switched between its modes.
    fn demo_target(&self, runtime: &Runtime, emit: Emit, mode: DemoMode) {
        let demo = self.demo.clone();
        runtime.spawn(async move {
            let mut demo = demo.lock().await;
            if demo.is_none() {
                match DemoTarget::start(mode.behavior()).await {
                    Ok(started) => *demo = Some(started),
                    Err(e) => {
                        emit(Event::DemoFailed(Arc::new(e)));
                        return;
                    }
                }
            }
            if let Some(target) = demo.as_ref() {
                target.server.set_behavior(mode.behavior());
                emit(Event::DemoReady(DemoInfo {
                    mode,
                    url: target.url.clone(),
                    pin: target.pin.clone(),
                    root: target.root.clone(),
                }));
            }
        });
    }
}

/// The local listener, and the demo stream played into it.
impl Engine {
    fn listen(
        &self,
        runtime: &Runtime,
        emit: Emit,
        port: u16,
        token: Option<Secret>,
        keys: webhook::Keys,
    ) {
        let slot = self.listener.clone();
        let expect = self.expected_url();
        runtime.spawn(async move {
            let options = ListenOptions {
                bind: SocketAddr::from(([127, 0, 0, 1], port)),
                token,
                webhook_keys: keys,
                expect_url: expect,
                ..ListenOptions::default()
            };
            start_listener(&slot, &emit, options).await;
        });
    }

    fn stop_listening(&self, runtime: &Runtime, emit: Emit) {
        let slot = self.listener.clone();
        runtime.spawn(async move {
            if let Some(listener) = slot.lock().await.take() {
                emit(Event::ListenerStopped(listener.stop()));
            }
        });
    }

    /// Plays the demo speech (or `load`: tone streams) into the listener, starting one on a
    /// free port when none runs.
    fn play(&self, runtime: &Runtime, emit: Emit, load: Option<(usize, f64)>) {
        let slot = self.listener.clone();
        let expect_url = self.expected_url();
        runtime.spawn(async move {
            let running = slot.lock().await.as_ref().map(Listener::addr);
            let addr = match running {
                Some(addr) => Some(addr),
                None => {
                    let options = ListenOptions {
                        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
                        expect_url,
                        ..ListenOptions::default()
                    };
                    start_listener(&slot, &emit, options).await
                }
            };
            if let Some(addr) = addr {
                let played = playback::play(addr, load).await.map_err(Arc::new);
                emit(Event::DemoStreamDone(played));
            }
        });
    }

    /// The URL checked, which the listener compares the provider's `stream_url`s with.
    fn expect_url(&self, runtime: &Runtime, url: Option<String>) {
        if let Ok(mut expected) = self.expect_url.lock() {
            expected.clone_from(&url);
        }
        let slot = self.listener.clone();
        runtime.spawn(async move {
            if let Some(listener) = slot.lock().await.as_ref() {
                listener.expect_url(url);
            }
        });
    }
}

/// A listener elsewhere, watched; and the provider's API.
impl Engine {
    fn watch(&self, runtime: &Runtime, emit: Emit, options: WatchOptions) {
        let task = runtime.spawn(watch_remote(options, emit));
        if let Ok(mut watching) = self.watching.lock()
            && let Some(old) = watching.replace(task.abort_handle())
        {
            old.abort();
        }
    }

    fn stop_watching(&self, emit: &Emit) {
        let old = self.watching.lock().ok().and_then(|mut w| w.take());
        if let Some(old) = old {
            old.abort();
            emit(Event::Watch(WatchStatus::Link(Following::Stopped {
                why: Halt::ByHand,
            })));
        }
    }

    fn ask(&self, runtime: &Runtime, emit: Emit, call: ApiCall, key: Secret, base: Option<String>) {
        let slot = self.listener.clone();
        runtime.spawn(async move {
            let label = call.label();
            let store = slot.lock().await.as_ref().map(Listener::store);
            let (result, arrival) = ask_api(call, key, base, store).await;
            emit(Event::Api {
                label,
                result,
                arrival,
            });
        });
    }
}

impl Engine {
    fn expected_url(&self) -> Option<String> {
        self.expect_url.lock().ok().and_then(|u| u.clone())
    }

    /// Every event that arrived since the last call, oldest first.
    pub(crate) fn poll(&self) -> Vec<Event> {
        self.events.try_iter().collect()
    }
}

/// Starts a listener in `slot` (stopping the one there); its address, or `None` when it failed.
async fn start_listener(
    slot: &tokio::sync::Mutex<Option<Listener>>,
    emit: &Emit,
    options: ListenOptions,
) -> Option<SocketAddr> {
    let mut slot = slot.lock().await;
    if let Some(old) = slot.take() {
        emit(Event::ListenerStopped(old.stop()));
    }
    let notice_emit = emit.clone();
    let bind = options.bind;
    let heard = move |event: &MonitorEvent| notice_emit(Event::Stream(Box::new(event.clone())));
    match Listener::start(options, Arc::new(heard)).await {
        Ok(listener) => {
            let addr = listener.addr();
            emit(Event::Listening {
                addr,
                store: listener.store(),
            });
            *slot = Some(listener);
            Some(addr)
        }
        Err(e) => {
            emit(Event::ListenFailed {
                bind,
                error: Arc::new(e),
            });
            None
        }
    }
}

/// One call on the provider's API, with its own deadline; a stream started while `store` (the
/// listener) runs is watched for there.
async fn ask_api(
    call: ApiCall,
    key: Secret,
    base: Option<String>,
    store: Option<LiveStore>,
) -> (Result<Answer, Arc<ApiError>>, Arrival) {
    let api = match Api::new(key, base.as_deref(), api::DEFAULT_TIMEOUT) {
        Ok(api) => api,
        Err(e) => return (Err(Arc::new(e)), Arrival::NotWatched),
    };
    let answer = match call {
        ApiCall::Deliveries(filter) => api.deliveries(&filter).await,
        ApiCall::Events(of) => api.events(&of, API_LIST_LIMIT).await,
        ApiCall::CallStatus(call) => api.call_status(&call).await,
        ApiCall::App(id) => api.app(&id).await,
        ApiCall::StreamStop { call } => api.stream_stop(&call, None).await,
        ApiCall::StreamStart { call, start } => {
            let watch = store.as_ref().map(|s| (s, DEFAULT_STARTED_GRACE));
            return match confirm::start_and_confirm(&api, &call, &start, watch).await {
                Ok((answer, arrival)) => (Ok(answer), arrival),
                Err(e) => (Err(Arc::new(e)), Arrival::NotWatched),
            };
        }
    };
    (answer.map_err(Arc::new), Arrival::NotWatched)
}

/// Watches a remote listener into a mirror store until aborted (`mirror::follow`); the webhooks
/// and findings it brings join the session as local ones do.
async fn watch_remote(options: WatchOptions, emit: Emit) {
    let mut mirror = Mirror::default();
    emit(Event::Watch(WatchStatus::Connecting {
        store: mirror.store.clone(),
    }));
    let state_emit = emit.clone();
    let state = move |following: Following| state_emit(Event::Watch(WatchStatus::Link(following)));
    let mut news = |event: MonitorEvent| emit(Event::Stream(Box::new(event)));
    mirror::follow(&options, &mut mirror, &state, &mut news).await;
}

/// Items a list from the window asks for.
const API_LIST_LIMIT: usize = 100;

impl Drop for Engine {
    fn drop(&mut self) {
        // A resolver lookup may sit in a blocking thread; closing the window must not wait for it.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn wait_for(engine: &Engine, mut done: impl FnMut(&Event) -> bool) -> Vec<Event> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            for event in engine.poll() {
                let stop = done(&event);
                seen.push(event);
                if stop {
                    return seen;
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("timed out; saw {seen:?}");
    }

    fn demo(engine: &Engine, mode: DemoMode) -> DemoInfo {
        engine.send(Command::Demo(mode));
        let events = wait_for(engine, |e| {
            matches!(e, Event::DemoReady(_) | Event::DemoFailed(_))
        });
        match events.last() {
            Some(Event::DemoReady(info)) => info.clone(),
            other => panic!("no demo: {other:?}"),
        }
    }

    fn options_for(info: &DemoInfo) -> CheckOptions {
        CheckOptions {
            observe: Duration::ZERO,
            resolve: vec![info.pin.clone()],
            extra_roots: vec![info.root.clone()],
            ..CheckOptions::default()
        }
    }

    #[test]
    fn a_run_reports_progress_then_its_report_and_wakes_the_ui() {
        let wakes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = wakes.clone();
        let engine = Engine::new(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        })
        .expect("engine");
        let info = demo(&engine, DemoMode::Healthy);
        engine.send(Command::Run {
            run: 7,
            url: info.url.clone(),
            options: options_for(&info),
            scope: Some(CheckId::Tls),
        });
        let events = wait_for(&engine, |e| matches!(e, Event::Done { .. }));
        let finished: Vec<CheckId> = events
            .iter()
            .filter_map(|e| match e {
                Event::Finished { run: 7, result } => Some(result.id),
                _ => None,
            })
            .collect();
        assert_eq!(finished, CheckId::Tls.needs());
        assert!(wakes.load(std::sync::atomic::Ordering::SeqCst) >= events.len());
        assert!(engine.runs.lock().is_ok_and(|runs| runs.is_empty()));
    }

    #[test]
    fn switching_the_demo_mode_keeps_its_address() {
        let engine = Engine::new(|| {}).expect("engine");
        let healthy = demo(&engine, DemoMode::Healthy);
        let broken = demo(&engine, DemoMode::PathMismatch);
        assert_eq!(healthy.url, broken.url);
        engine.send(Command::Run {
            run: 1,
            url: broken.url.clone(),
            options: options_for(&broken),
            scope: None,
        });
        let events = wait_for(&engine, |e| matches!(e, Event::Done { .. }));
        let Some(Event::Done { report, .. }) = events.last() else {
            panic!("no report");
        };
        assert_eq!(
            report.diagnosis.verdict().map(|c| c.id),
            Some(crate::catalog::CauseId::WsPathMismatch)
        );
    }

    #[test]
    fn cancel_stops_a_run_that_would_wait_for_its_deadline() {
        let engine = Engine::new(|| {}).expect("engine");
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let server = runtime
            .block_on(crate::demo::DemoServer::start(
                crate::demo::Behavior::Silent,
                None,
            ))
            .expect("server");
        let url = format!("ws://{}/audio", server.addr());
        let options = CheckOptions {
            timeout: Duration::from_secs(60),
            ..CheckOptions::default()
        };
        engine.send(Command::Run {
            run: 3,
            url,
            options,
            scope: None,
        });
        wait_for(&engine, |e| {
            matches!(
                e,
                Event::Started {
                    check: CheckId::Upgrade,
                    ..
                }
            )
        });
        let cancelled_at = Instant::now();
        engine.send(Command::Cancel { run: 3 });
        let events = wait_for(&engine, |e| matches!(e, Event::Cancelled { run: 3 }));
        assert!(!events.iter().any(|e| matches!(e, Event::Done { .. })));
        assert!(cancelled_at.elapsed() < Duration::from_secs(5));
        assert!(engine.runs.lock().is_ok_and(|runs| runs.is_empty()));
    }
}
