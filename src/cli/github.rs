//! `check` under GitHub Actions: when the runner sets `GITHUB_STEP_SUMMARY` and `GITHUB_OUTPUT`,
//! the Markdown report goes to the job's summary (under 1 MiB once masked) and `reachable`,
//! `verdict` and `report-path` to the step's outputs. The JSON report is written into
//! `GITHUB_WORKSPACE` and `report-path` names it relative to the workspace: a Docker action sees
//! the workspace at `/github/workspace`, the job's later steps at the runner's own path, and
//! only a relative path opens in both (both start in the workspace). Doing it here, not in the
//! action's shell, lets it be tested anywhere by setting the variables.

use std::path::PathBuf;

use super::output::Output;
use stream_doctor::report::{self, markdown};
use stream_doctor::session::Session;

/// GitHub refuses a job summary over 1 MiB.
pub const SUMMARY_LIMIT: usize = 1024 * 1024;
const REPORT_NAME: &str = "stream-doctor-report.json";

/// The files a CI runner asks for, from its environment.
pub struct Runner {
    pub summary: Option<PathBuf>,
    pub outputs: Option<PathBuf>,
    pub workspace: Option<PathBuf>,
}

impl Runner {
    pub fn from_env() -> Self {
        Self {
            summary: std::env::var_os("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            outputs: std::env::var_os("GITHUB_OUTPUT").map(PathBuf::from),
            workspace: std::env::var_os("GITHUB_WORKSPACE").map(PathBuf::from),
        }
    }
}

/// Writes the summary, the outputs and the JSON report when the runner asks for them.
pub fn report(session: &Session, runner: &Runner, out: &Output) -> anyhow::Result<()> {
    if let Some(path) = &runner.summary {
        // One byte short of the limit: the newline that ends the step's part of the summary.
        let text = markdown::render_within(session, SUMMARY_LIMIT - 1, out.redactor());
        out.append(path, &format!("{text}\n"))?;
    }
    if let Some(path) = &runner.outputs {
        let folder = runner
            .workspace
            .clone()
            .unwrap_or_else(|| PathBuf::from("."));
        let json = report::render(session, report::Format::Json, out.redactor());
        out.write(Some(&folder.join(REPORT_NAME)), &json)?;
        let diagnosis = session.diagnosis.as_ref();
        let verdict = diagnosis
            .and_then(|d| d.verdict())
            .map(|c| c.id.as_str())
            .unwrap_or_default();
        let reachable = diagnosis.is_some_and(|d| d.reachable);
        out.append(
            path,
            &format!("reachable={reachable}\nverdict={verdict}\nreport-path={REPORT_NAME}\n"),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use stream_doctor::catalog::{CauseId, CheckId, FoundBy, Severity};
    use stream_doctor::diagnosis::{Cause, Diagnosis};
    use stream_doctor::secret::Redactor;

    use super::*;

    #[test]
    fn a_summary_that_must_be_cut_stays_under_the_limit_once_masked() {
        // Over 2 MiB of evidence, a short secret repeated all through it: each three-byte
        // value grows into a ten-byte mask, so a cut measured before masking would overflow.
        let cause = Cause {
            id: CauseId::TcpRefused,
            check: FoundBy::Check(CheckId::Tcp),
            severity: Severity::Fail,
            title: "refused".into(),
            summary: "x k3y ".repeat(400_000),
            fix: "start it".into(),
        };
        let session = Session {
            target: "wss://h.example/k3y".into(),
            diagnosis: Some(Diagnosis {
                reachable: false,
                causes: vec![cause],
            }),
            ..Session::default()
        };
        let dir = tempfile::tempdir().expect("a temporary folder");
        let runner = Runner {
            summary: Some(dir.path().join("summary.md")),
            outputs: Some(dir.path().join("outputs.txt")),
            workspace: Some(dir.path().to_path_buf()),
        };
        let out = Output::new(Redactor::of(["k3y"]));
        report(&session, &runner, &out).expect("the files are written");
        let summary = std::fs::read_to_string(dir.path().join("summary.md")).expect("summary");
        assert!(summary.len() <= SUMMARY_LIMIT, "{} bytes", summary.len());
        assert!(summary.len() > SUMMARY_LIMIT / 2, "cut far too short");
        assert!(summary.contains("Cut to fit") && !summary.contains("k3y"));
        let outputs = std::fs::read_to_string(dir.path().join("outputs.txt")).expect("outputs");
        assert!(
            outputs.contains(&format!("report-path={REPORT_NAME}\n")),
            "{outputs}"
        );
        let json = std::fs::read_to_string(dir.path().join(REPORT_NAME)).expect("the report");
        assert!(json.len() > SUMMARY_LIMIT && !json.contains("k3y"));
    }
}
