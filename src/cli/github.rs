//! `check` under GitHub Actions: when the runner sets `GITHUB_STEP_SUMMARY` and `GITHUB_OUTPUT`,
//! the Markdown report goes to the job's summary (under 1 MiB) and `reachable`, `verdict` and
//! `report-path` (a JSON report under `GITHUB_WORKSPACE`) to the step's outputs. Doing it here,
//! not in the action's shell, lets it be tested anywhere by setting the two variables.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use stream_doctor::report::{self, markdown};
use stream_doctor::secret;
use stream_doctor::session::Session;

/// GitHub refuses a job summary over 1 MiB.
const SUMMARY_LIMIT: usize = 1024 * 1024;
const REPORT_NAME: &str = "stream-doctor-report.json";

fn append(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

/// Writes the summary, the outputs and the JSON report when the runner asks for them.
pub fn report(session: &Session, secrets: &[&str]) -> anyhow::Result<()> {
    let summary = std::env::var_os("GITHUB_STEP_SUMMARY").map(PathBuf::from);
    let outputs = std::env::var_os("GITHUB_OUTPUT").map(PathBuf::from);
    if summary.is_none() && outputs.is_none() {
        return Ok(());
    }
    if let Some(path) = summary {
        let text = secret::scrub(&markdown::render_within(session, SUMMARY_LIMIT), secrets);
        append(&path, &format!("{text}\n"))?;
    }
    if let Some(path) = outputs {
        let folder = std::env::var_os("GITHUB_WORKSPACE")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        let report_path = folder.join(REPORT_NAME);
        let json = report::render(session, report::Format::Json, secrets);
        std::fs::write(&report_path, json)
            .with_context(|| format!("writing {}", report_path.display()))?;
        let diagnosis = session.diagnosis.as_ref();
        let verdict = diagnosis
            .and_then(|d| d.verdict())
            .map(|c| c.id.as_str())
            .unwrap_or_default();
        let reachable = diagnosis.is_some_and(|d| d.reachable);
        append(
            &path,
            &format!(
                "reachable={reachable}\nverdict={verdict}\nreport-path={}\n",
                report_path.display()
            ),
        )?;
    }
    Ok(())
}
