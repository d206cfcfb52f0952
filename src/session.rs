//! The record of one troubleshooting session: the target, the latest result of every check,
//! the diagnosis they give, a person's verdicts and notes on manual steps, and a timeline of
//! what happened. The window renders it; reports are made from it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::check::{CheckId, CheckResult};
use crate::checklist::Verdict;
use crate::diagnosis::{Diagnosis, diagnose};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ManualRecord {
    pub verdict: Option<Verdict>,
    pub notes: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Wall-clock time, `HH:MM:SS.mmm` UTC.
    pub at: String,
    pub text: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub target: String,
    pub started_at: String,
    /// The latest result of each check, in check order.
    pub checks: Vec<CheckResult>,
    pub diagnosis: Option<Diagnosis>,
    /// By checklist item id.
    pub manual: BTreeMap<String, ManualRecord>,
    pub log: Vec<LogEntry>,
}

/// The timeline keeps the newest entries; a long session does not grow without bound.
const MAX_LOG_ENTRIES: usize = 5000;

impl Session {
    pub fn new(target: impl Into<String>) -> Self {
        Self {
            target: target.into(),
            started_at: crate::probe::now_rfc3339(),
            ..Self::default()
        }
    }

    pub fn result(&self, id: CheckId) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// Keeps `result` as the latest of its check and diagnoses again.
    pub fn record(&mut self, result: CheckResult) {
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
        self.diagnosis = Some(diagnose(&self.checks));
    }

    /// Forgets check results (a new target), keeping manual records and the timeline.
    pub fn retarget(&mut self, target: impl Into<String>) {
        self.target = target.into();
        self.checks.clear();
        self.diagnosis = None;
        self.log(format!("target set to {}", self.target));
    }

    pub fn set_verdict(&mut self, item: &str, verdict: Verdict) {
        self.manual.entry(item.to_string()).or_default().verdict = Some(verdict);
        self.log(format!("{item}: marked '{}'", verdict.label()));
    }

    pub fn notes_mut(&mut self, item: &str) -> &mut String {
        &mut self.manual.entry(item.to_string()).or_default().notes
    }

    pub fn log(&mut self, text: impl Into<String>) {
        let now = time::OffsetDateTime::now_utc();
        let at = format!(
            "{:02}:{:02}:{:02}.{:03}",
            now.hour(),
            now.minute(),
            now.second(),
            now.millisecond()
        );
        self.log.push(LogEntry {
            at,
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
            .map(|e| format!("{} {}\n", e.at, e.text))
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
}
