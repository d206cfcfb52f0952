//! The record of one troubleshooting session, and the one thing every report is made from:
//! the target and its options (secrets typed so they serialise as a mask), the latest result
//! of every check with its evidence, the diagnosis, a person's verdicts and notes, stream
//! summaries with their level history, webhook events, a timeline, and who made it where.
//! Its JSON extends `check`'s: `checks` and `diagnosis` keep their shape.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, Time};

use crate::audio::meter::{LevelPoint, decimate};
use crate::catalog::{CheckId, Finding};
use crate::check::options::CheckOptions;
use crate::check::{CheckResult, ToolInfo};
use crate::checklist::Verdict;
use crate::clock;
use crate::converse::ConverseReport;
use crate::diagnosis::CheckReport;
use crate::diagnosis::{Diagnosis, diagnose};
use crate::records::live::{StreamState, StreamSummary};
use crate::records::webhook::WebhookRecord;
use crate::secret::Secret;
use crate::vantage::Vantage;

/// Bumped when a field changes meaning; new fields alone do not bump it.
pub(crate) const SCHEMA_VERSION: u32 = 1;
/// Points per track kept in a report's level history.
pub(crate) const REPORT_LEVEL_POINTS: usize = 400;
/// The timeline keeps the newest entries; a long session does not grow without bound.
const MAX_LOG_ENTRIES: usize = 5000;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ManualRecord {
    pub verdict: Option<Verdict>,
    pub notes: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Wall-clock time of day, UTC, written `HH:MM:SS.mmm`.
    #[serde(with = "clock::timeline_time")]
    pub at: Time,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeaderRecord {
    pub name: String,
    pub value: Secret,
}

/// The options the checks ran with. Header values and the token are `Secret`s: a report can
/// only ever hold their mask.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionOptions {
    pub timeout_secs: f64,
    pub observe_secs: f64,
    pub resolve: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_server: Option<String>,
    pub ca_file: Option<String>,
    pub headers: Vec<HeaderRecord>,
    pub auth_token: Option<Secret>,
    pub provider_check: bool,
}

impl SessionOptions {
    pub fn from_check(options: &CheckOptions, ca_file: Option<String>) -> Self {
        Self {
            timeout_secs: options.timeout.as_secs_f64(),
            observe_secs: options.observe.as_secs_f64(),
            resolve: options.resolve.iter().map(ToString::to_string).collect(),
            dns_server: options.dns_server.map(|s| s.to_string()),
            ca_file,
            headers: options
                .headers
                .iter()
                .map(|(name, value)| HeaderRecord {
                    name: name.clone(),
                    value: Secret::new(value.clone()),
                })
                .collect(),
            auth_token: options.auth_token.clone(),
            provider_check: options.provider,
        }
    }
}

/// A stream as a report keeps it: its summary and each track's levels, decimated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StreamRecord {
    pub summary: StreamSummary,
    pub levels: BTreeMap<String, Vec<LevelPoint>>,
}

impl StreamRecord {
    pub(crate) fn from_state(state: &StreamState) -> Self {
        let levels = state
            .tracks
            .iter()
            .map(|(name, track)| {
                (
                    name.clone(),
                    decimate(&track.history.points, REPORT_LEVEL_POINTS),
                )
            })
            .collect();
        Self {
            summary: state.summary(),
            levels,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Session {
    pub schema_version: u32,
    pub tool: ToolInfo,
    pub host_os: String,
    pub target: String,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
    pub options: SessionOptions,
    /// Where the checks ran (a report compared with another says which is which).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vantage: Option<Vantage>,
    /// The latest result of each check, in check order.
    pub checks: Vec<CheckResult>,
    pub diagnosis: Option<Diagnosis>,
    /// By checklist item id.
    pub manual: BTreeMap<String, ManualRecord>,
    pub streams: Vec<StreamRecord>,
    pub webhooks: Vec<WebhookRecord>,
    /// What the provider's own record says (`provider.*` findings), joined with the checks'
    /// causes in the diagnosis.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    /// The latest call placed as the provider (`converse`, the window's "Talk to it").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<ConverseReport>,
    pub log: Vec<LogEntry>,
    /// Counts changes, so views render again only when something changed.
    #[serde(skip)]
    pub revision: Revision,
}

/// A change counter: not part of what a session says, so it never makes two sessions differ.
#[derive(Clone, Copy, Debug, Default)]
pub struct Revision(u64);

impl Revision {
    pub fn get(self) -> u64 {
        self.0
    }

    fn bump(&mut self) {
        self.0 += 1;
    }
}

impl PartialEq for Revision {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Default for Session {
    fn default() -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            tool: ToolInfo::this(),
            host_os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            target: String::new(),
            started_at: clock::now(),
            ended_at: None,
            options: SessionOptions::default(),
            vantage: None,
            checks: Vec::new(),
            diagnosis: None,
            manual: BTreeMap::new(),
            streams: Vec::new(),
            webhooks: Vec::new(),
            findings: Vec::new(),
            conversation: None,
            log: Vec::new(),
            revision: Revision::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a Stream Doctor session (JSON): {source}")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
    #[error(
        "{path} was written by a newer Stream Doctor (schema {found}, this one reads up to {SCHEMA_VERSION})"
    )]
    Newer { path: String, found: u32 },
}

impl Session {
    pub fn new(target: impl Into<String>) -> Self {
        Self {
            target: target.into(),
            ..Self::default()
        }
    }

    /// The session of one `check` run.
    pub fn from_check(report: &CheckReport, options: SessionOptions) -> Self {
        Self {
            tool: report.tool.clone(),
            target: report.target.clone(),
            started_at: report.started_at,
            ended_at: Some(clock::now()),
            options,
            checks: report.checks.clone(),
            diagnosis: Some(report.diagnosis.clone()),
            ..Self::default()
        }
    }

    /// Reads a saved session (the JSON report).
    pub fn load(path: &std::path::Path) -> Result<Self, LoadError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
            path: shown.clone(),
            source,
        })?;
        Self::read(&text, &shown)
    }

    /// Reads a saved session's text; `shown` names where it came from in the errors.
    pub fn read(text: &str, shown: &str) -> Result<Self, LoadError> {
        let session: Session = serde_json::from_str(text).map_err(|source| LoadError::Parse {
            path: shown.to_string(),
            source,
        })?;
        if session.schema_version > SCHEMA_VERSION {
            return Err(LoadError::Newer {
                path: shown.to_string(),
                found: session.schema_version,
            });
        }
        Ok(session)
    }

    pub fn result(&self, id: CheckId) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// Keeps `result` as the latest of its check and diagnoses again.
    pub(crate) fn record(&mut self, result: CheckResult) {
        self.log(format!(
            "{} {}: {} ({:.1} ms)",
            result.id.as_str(),
            result.status.as_str(),
            result.summary,
            result.duration_ms
        ));
        match self.checks.iter_mut().find(|c| c.id == result.id) {
            Some(existing) => *existing = result,
            None => {
                self.checks.push(result);
                self.checks.sort_by_key(|c| c.id);
            }
        }
        self.diagnosis = Some(diagnose(&self.checks, &self.findings));
    }

    /// Forgets check results (a new target), keeping manual records and the timeline.
    pub(crate) fn retarget(&mut self, target: impl Into<String>) {
        self.target = target.into();
        self.checks.clear();
        self.diagnosis = None;
        self.log(format!("target set to {}", self.target));
    }

    /// Keeps a finding from the provider's own record and diagnoses again.
    pub(crate) fn add_finding(&mut self, finding: Finding) {
        if self.findings.contains(&finding) {
            return;
        }
        self.log(format!("{}: {}", finding.cause.as_str(), finding.summary));
        self.findings.push(finding);
        self.diagnosis = Some(diagnose(&self.checks, &self.findings));
    }

    /// Keeps a webhook the listener received.
    pub(crate) fn add_webhook(&mut self, record: WebhookRecord) {
        self.revision.bump();
        self.webhooks.push(record);
    }

    pub fn set_verdict(&mut self, item: &str, verdict: Verdict) {
        self.manual.entry(item.to_string()).or_default().verdict = Some(verdict);
        self.log(format!("{item}: marked '{}'", verdict.label()));
    }

    /// The notes of `item`, to edit (counted as a change).
    pub fn notes_mut(&mut self, item: &str) -> &mut String {
        self.revision.bump();
        &mut self.manual.entry(item.to_string()).or_default().notes
    }

    /// Keeps a call placed as the provider, replacing the one before.
    pub(crate) fn set_conversation(&mut self, report: ConverseReport) {
        let verdict = report
            .diagnosis
            .verdict
            .map_or("no cause", |id| id.as_str());
        self.log(format!("talked to {}: {verdict}", report.url));
        self.conversation = Some(report);
    }

    /// Takes the streams a listener has seen, replacing what was there.
    pub fn set_streams<'a>(&mut self, streams: impl IntoIterator<Item = &'a StreamState>) {
        self.revision.bump();
        self.streams = streams.into_iter().map(StreamRecord::from_state).collect();
    }

    /// Adds a timeline entry; every change a session records goes through here.
    pub(crate) fn log(&mut self, text: impl Into<String>) {
        self.revision.bump();
        self.log.push(LogEntry {
            at: clock::time_of_day(),
            text: text.into(),
        });
        if self.log.len() > MAX_LOG_ENTRIES {
            let excess = self.log.len() - MAX_LOG_ENTRIES;
            self.log.drain(..excess);
        }
    }

    /// The timeline as plain text, for the clipboard.
    pub fn log_text(&self) -> String {
        self.log
            .iter()
            .map(|e| format!("{} {}\n", clock::timeline_text(e.at), e.text))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;

    #[test]
    fn a_newer_result_replaces_the_older_and_rediagnoses() {
        let mut session = Session::new("wss://h.example/a");
        let mut result = CheckResult::skipped(CheckId::Tls, "first");
        session.record(result.clone());
        result.summary = "second".into();
        result.status = Status::Pass;
        session.record(result);
        assert_eq!(session.checks.len(), 1);
        assert_eq!(
            session.result(CheckId::Tls).map(|r| r.summary.as_str()),
            Some("second")
        );
        assert!(session.diagnosis.is_some());
        assert_eq!(session.log.len(), 2);
        session.set_verdict("platform_logs", Verdict::Problem);
        session
            .notes_mut("platform_logs")
            .push_str("no GET at 14:02");
        assert_eq!(
            session.manual["platform_logs"].verdict,
            Some(Verdict::Problem)
        );
        assert!(
            session
                .log_text()
                .contains("platform_logs: marked 'Found a problem'")
        );
    }

    #[test]
    fn options_keep_only_masks_of_secrets() {
        let options = CheckOptions {
            headers: vec![("Authorization".into(), "Bearer s3cret".into())],
            auth_token: Some(Secret::new("t0ken")),
            ..CheckOptions::default()
        };
        let session = Session {
            options: SessionOptions::from_check(&options, None),
            ..Session::new("wss://h.example/a")
        };
        let json = serde_json::to_string(&session).unwrap_or_default();
        assert!(
            !json.contains("s3cret") && !json.contains("t0ken"),
            "{json}"
        );
        assert!(json.contains("\"schema_version\":1"));
        let back: Session = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back.options.headers[0].name, "Authorization");
    }
}
