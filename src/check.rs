//! What a run of the checks produces: check ids, statuses, evidence and findings, and the
//! report `check --format json` prints. Field names here are a public contract
//! (docs/diagnosis.md): extend them, never rename them.

use serde::{Deserialize, Serialize};

use crate::diagnosis::{CauseId, Diagnosis};

/// The checks, in the order a connection is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckId {
    Url,
    Dns,
    Tcp,
    Tls,
    Upgrade,
    Websocket,
    Paths,
    Provider,
}

impl CheckId {
    pub const ALL: [CheckId; 8] = [
        CheckId::Url,
        CheckId::Dns,
        CheckId::Tcp,
        CheckId::Tls,
        CheckId::Upgrade,
        CheckId::Websocket,
        CheckId::Paths,
        CheckId::Provider,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::Url => "url",
            CheckId::Dns => "dns",
            CheckId::Tcp => "tcp",
            CheckId::Tls => "tls",
            CheckId::Upgrade => "upgrade",
            CheckId::Websocket => "websocket",
            CheckId::Paths => "paths",
            CheckId::Provider => "provider",
        }
    }

    /// The checks that must run for this one to run, itself last.
    pub fn needs(self) -> &'static [CheckId] {
        use CheckId::*;
        match self {
            Url => &[Url],
            Dns => &[Url, Dns],
            Tcp => &[Url, Dns, Tcp],
            Tls => &[Url, Dns, Tcp, Tls],
            Upgrade => &[Url, Dns, Tcp, Tls, Upgrade],
            Websocket => &[Url, Dns, Tcp, Tls, Upgrade, Websocket],
            Paths => &[Url, Dns, Tcp, Paths],
            Provider => &[Url, Dns, Tcp, Tls, Upgrade, Websocket, Provider],
        }
    }

    /// What the check does, in words for someone who does not know the protocols.
    pub const fn title(self) -> &'static str {
        match self {
            CheckId::Url => "The stream URL is well formed",
            CheckId::Dns => "The host name resolves",
            CheckId::Tcp => "The server accepts a connection",
            CheckId::Tls => "The certificate is one the provider trusts",
            CheckId::Upgrade => "The server agrees to switch to WebSocket",
            CheckId::Websocket => "A WebSocket session stays open",
            CheckId::Paths => "The route matches the exact path",
            CheckId::Provider => "The server accepts a provider-style stream",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    /// Not run: a check it depends on failed, or it does not apply.
    Skip,
    /// The probe itself broke: always a defect of this tool, never of the target.
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
            Status::Error => "error",
        }
    }
}

/// Something a check observed that the diagnosis turns into a named cause.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub cause: CauseId,
    pub summary: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub id: CheckId,
    pub status: Status,
    pub summary: String,
    pub duration_ms: f64,
    /// The evidence: what was sent, what came back, timings. Shape differs per check.
    pub details: serde_json::Value,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
}

impl CheckResult {
    /// A check that did not run because an earlier one failed or it does not apply.
    pub fn skipped(id: CheckId, reason: impl Into<String>) -> Self {
        Self {
            id,
            status: Status::Skip,
            summary: reason.into(),
            duration_ms: 0.0,
            details: serde_json::Value::Null,
            findings: Vec::new(),
        }
    }

    /// A check that found one cause and stopped there.
    pub fn found(
        id: CheckId,
        cause: CauseId,
        summary: String,
        duration_ms: f64,
        details: serde_json::Value,
    ) -> Self {
        let finding = Finding {
            cause,
            summary: summary.clone(),
        };
        Self::from_findings(id, summary, duration_ms, details, vec![finding])
    }

    /// A probe that broke before it could judge anything: a defect of this tool.
    pub fn broken(id: CheckId, message: impl Into<String>, duration_ms: f64) -> Self {
        Self {
            id,
            status: Status::Error,
            summary: message.into(),
            duration_ms,
            details: serde_json::Value::Null,
            findings: Vec::new(),
        }
    }

    /// Status from the findings: the worst severity among them, else pass.
    pub fn from_findings(
        id: CheckId,
        summary: impl Into<String>,
        duration_ms: f64,
        details: serde_json::Value,
        findings: Vec<Finding>,
    ) -> Self {
        use crate::diagnosis::Severity;
        let status = if findings
            .iter()
            .any(|f| f.cause.severity() == Severity::Fail)
        {
            Status::Fail
        } else if findings
            .iter()
            .any(|f| f.cause.severity() == Severity::Warn)
        {
            Status::Warn
        } else {
            Status::Pass
        };
        Self {
            id,
            status,
            summary: summary.into(),
            duration_ms,
            details,
            findings,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

impl ToolInfo {
    pub fn this() -> Self {
        Self {
            name: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// The whole answer of `check`: what `--format json` prints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    pub tool: ToolInfo,
    pub target: String,
    pub started_at: String,
    pub duration_ms: f64,
    pub checks: Vec<CheckResult>,
    pub diagnosis: Diagnosis,
}

impl CheckReport {
    /// 0 when nothing stops the provider; 1 when a cause is `fail` or a probe broke.
    pub fn exit_code(&self) -> i32 {
        if self.diagnosis.reachable { 0 } else { 1 }
    }

    pub fn check(&self, id: CheckId) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.id == id)
    }
}

/// Milliseconds with a fraction, as the reports print durations.
pub fn millis(duration: std::time::Duration) -> f64 {
    (duration.as_secs_f64() * 1000.0 * 10.0).round() / 10.0
}
