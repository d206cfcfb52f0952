//! What the window does with each event the engine sends back: one function per family (check
//! runs, the demo target, the local listener, what a listener heard, the provider's API, the
//! remote watch, the tunnel).

use std::sync::Arc;

use super::App;
use crate::catalog::CheckId;
use crate::check::CheckResult;
use crate::check::evidence::RetryReason;
use crate::demo::playback::PlaybackError;
use crate::diagnosis::CheckReport;
use crate::engine::{DemoInfo, Event, RunId, WatchStatus};
use crate::provider::api::ApiError;
use crate::records::live::{ListenSummary, LiveStore};
use crate::records::telnyx_api::Answer;
use crate::report::verdict_line;
use crate::server::confirm::Arrival;
use crate::server::mirror::Following;
use crate::server::monitor::{Happening, MonitorEvent};
use crate::server::ngrok::TunnelError;

/// A check run's progress, as far as the window follows it.
enum RunProgress {
    Started(CheckId),
    Retrying(CheckId, RetryReason, u32),
    Finished(Box<CheckResult>),
    Done(Box<CheckReport>),
    Cancelled,
}

impl App {
    pub(super) fn apply(&mut self, event: Event) {
        match event {
            Event::Started { run, check } => self.run_progress(run, RunProgress::Started(check)),
            Event::Retrying {
                run,
                check,
                why,
                attempt,
            } => self.run_progress(run, RunProgress::Retrying(check, why, attempt)),
            Event::Finished { run, result } => {
                self.run_progress(run, RunProgress::Finished(Box::new(result)))
            }
            Event::Done { run, report } => {
                self.run_progress(run, RunProgress::Done(Box::new(report)))
            }
            Event::Cancelled { run } => {
                if self.talk.running == Some(run) {
                    self.talk.running = None;
                }
                self.run_progress(run, RunProgress::Cancelled)
            }
            Event::Conversed { run, result } => {
                self.runs.forget(run);
                self.talk.running = None;
                match result {
                    Ok(report) => self.session.set_conversation(*report),
                    Err(why) => {
                        let problem = format!("the call could not be placed: {why}");
                        self.session.log(problem.clone());
                        self.talk.problem = Some(problem);
                    }
                }
            }
            Event::DemoReady(info) => self.demo_ready_at(info),
            Event::DemoFailed(problem) => {
                self.session.log(format!("demo target failed: {problem}"));
                self.target.problem = Some(format!("The demo target could not start: {problem}"));
            }
            Event::Listening { addr, store } => self.listening(addr, store),
            Event::ListenFailed { bind, error } => {
                let problem = format!("cannot listen on {bind}: {error}");
                self.session.log(problem.clone());
                self.live.demo_playing = false;
                self.live.problem = Some(problem);
            }
            Event::ListenerStopped(summary) => self.listener_stopped(&summary),
            Event::Stream(event) => self.heard(*event),
            Event::Api {
                label,
                result,
                arrival,
            } => self.api_answered(label, result, arrival),
            Event::DemoStreamDone(outcome) => self.demo_stream_done(outcome),
            Event::Watch(status) => self.watch_status(status),
            Event::Tunnel(found) => self.tunnel_found(found),
        }
    }

    /// Progress of a run still wanted; a cancelled run's late events are dropped.
    fn run_progress(&mut self, run: RunId, progress: RunProgress) {
        if !self.runs.wants(run) {
            return;
        }
        match progress {
            RunProgress::Started(check) => self.runs.check_started(run, check),
            RunProgress::Retrying(check, why, attempt) => {
                self.runs.check_retrying(check, why, attempt)
            }
            RunProgress::Finished(result) => {
                self.runs.check_finished(result.id);
                self.session.record(*result);
            }
            RunProgress::Done(report) => {
                self.runs.forget(run);
                self.session.log(format!(
                    "run {run} done in {:.2} s: {}",
                    report.duration_ms / 1000.0,
                    verdict_line(&report.checks, Some(&report.diagnosis))
                ));
            }
            RunProgress::Cancelled => {
                self.runs.forget(run);
                self.session
                    .log(format!("run {run} cancelled; results so far are kept"));
            }
        }
    }

    fn demo_ready_at(&mut self, info: DemoInfo) {
        self.session.log(format!(
            "demo target ready at {} (mode {})",
            info.url,
            info.mode.name()
        ));
        self.demo = Some(info);
    }

    fn listening(&mut self, addr: std::net::SocketAddr, store: LiveStore) {
        self.session
            .log(format!("listening for media streams on {addr}"));
        self.live.set_listening(addr, store);
    }

    fn listener_stopped(&mut self, summary: &ListenSummary) {
        self.session.log(format!(
            "listener on {} stopped after {} stream(s)",
            summary.listen,
            summary.streams.len()
        ));
        self.live.set_stopped();
    }

    /// What a listener (local, or watched) said happened.
    fn heard(&mut self, event: MonitorEvent) {
        let line = event.line();
        match event.what {
            // A finding logs itself as it joins the session; levels are the plot's.
            Happening::Finding(finding) => self.session.add_finding(finding),
            Happening::Levels { .. } => {}
            Happening::Webhook(record) => {
                self.session.log(format!("stream {line}"));
                self.session.add_webhook(*record);
            }
            _ => self.session.log(format!("stream {line}")),
        }
    }

    fn api_answered(
        &mut self,
        label: &'static str,
        result: Result<Answer, Arc<ApiError>>,
        arrival: Arrival,
    ) {
        match &result {
            Ok(answer) => {
                self.session.log(format!("provider API: {label} answered"));
                for finding in &answer.findings {
                    self.session.add_finding(finding.clone());
                }
            }
            Err(why) => self.session.log(format!("provider API: {label}: {why}")),
        }
        if arrival == Arrival::Arrived {
            self.session
                .log("the test stream arrived at the app's listener");
        }
        self.provider
            .answered(label, result.as_ref().map_err(ToString::to_string));
    }

    fn demo_stream_done(&mut self, outcome: Result<u64, Arc<PlaybackError>>) {
        self.live.demo_playing = false;
        match outcome {
            Ok(frames) => self
                .session
                .log(format!("demo stream done: {frames} media frames sent")),
            Err(e) => {
                self.session.log(format!("demo stream failed: {e}"));
                self.live.problem = Some(format!("The demo stream failed: {e}"));
            }
        }
    }

    fn watch_status(&mut self, status: WatchStatus) {
        self.watch.update(&status);
        if let Some((text, _)) = &self.watch.status {
            self.session.log(text.clone());
        }
        match status {
            WatchStatus::Connecting { store } => self.live.set_watching(store),
            WatchStatus::Link(Following::Stopped { .. }) => self.live.stop_watching(),
            _ => {}
        }
    }

    fn tunnel_found(&mut self, found: Result<String, TunnelError>) {
        match &found {
            Ok(url) => self.session.log(format!("ngrok tunnel found: {url}")),
            Err(why) => self.session.log(format!("no ngrok tunnel: {why}")),
        }
        self.live.tunnel = Some(found.map_err(|e| e.to_string()));
    }
}
