//! What one check produces: its status, a one-line summary, the evidence it gathered and the
//! findings the diagnosis turns into causes. Field names here are a public contract
//! (docs/checks.md): extend them, never rename them.

pub mod evidence;
pub mod options;

use serde::{Deserialize, Deserializer, Serialize};

pub use self::evidence::Evidence;
use crate::catalog::{CauseId, CheckId, Finding, Severity};

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
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
            Status::Error => "error",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckResult {
    pub id: CheckId,
    pub status: Status,
    pub summary: String,
    pub duration_ms: f64,
    /// The evidence: what was sent, what came back, timings; one type per check.
    pub details: Evidence,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
}

/// The evidence's shape depends on the check, so it is read once the id is known.
impl<'de> Deserialize<'de> for CheckResult {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Saved {
            id: CheckId,
            status: Status,
            summary: String,
            duration_ms: f64,
            #[serde(default)]
            details: serde_json::Value,
            #[serde(default)]
            findings: Vec<Finding>,
        }
        let saved = Saved::deserialize(deserializer)?;
        let details = Evidence::read(saved.id, saved.details).map_err(|e| {
            serde::de::Error::custom(format!("the {} evidence: {e}", saved.id.as_str()))
        })?;
        Ok(Self {
            id: saved.id,
            status: saved.status,
            summary: saved.summary,
            duration_ms: saved.duration_ms,
            details,
            findings: saved.findings,
        })
    }
}

impl CheckResult {
    /// A check that did not run because an earlier one failed or it does not apply.
    pub(crate) fn skipped(id: CheckId, reason: impl Into<String>) -> Self {
        Self {
            id,
            status: Status::Skip,
            summary: reason.into(),
            duration_ms: 0.0,
            details: Evidence::None,
            findings: Vec::new(),
        }
    }

    /// A check that found one cause and stopped there.
    pub(crate) fn found(
        id: CheckId,
        cause: CauseId,
        summary: String,
        duration_ms: f64,
        details: impl Into<Evidence>,
    ) -> Self {
        let finding = Finding {
            cause,
            summary: summary.clone(),
            severity: None,
        };
        Self::from_findings(id, summary, duration_ms, details, vec![finding])
    }

    /// Whether one of the findings is `cause`.
    pub(crate) fn has_cause(&self, cause: CauseId) -> bool {
        self.findings.iter().any(|f| f.cause == cause)
    }

    /// A probe that broke before it could judge anything: a defect of this tool.
    pub(crate) fn broken(id: CheckId, message: impl Into<String>, duration_ms: f64) -> Self {
        Self {
            id,
            status: Status::Error,
            summary: message.into(),
            duration_ms,
            details: Evidence::None,
            findings: Vec::new(),
        }
    }

    /// Status from the findings: the worst severity among them, else pass.
    pub(crate) fn from_findings(
        id: CheckId,
        summary: impl Into<String>,
        duration_ms: f64,
        details: impl Into<Evidence>,
        findings: Vec<Finding>,
    ) -> Self {
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
            details: details.into(),
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
    pub(crate) fn this() -> Self {
        Self {
            name: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}
