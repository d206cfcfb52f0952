//! The GitHub Action as GitHub runs it. `action.yml` must parse as YAML, use only the inputs it
//! declares, and name a Dockerfile GitHub will build (a name ending in `Dockerfile`, no `USER`:
//! actions run as root). The container itself cannot run here (no container runtime may start
//! one), so its entry is run the way the runner starts it: the image's `ENTRYPOINT` with the
//! `args` and `env` of `action.yml` (inputs substituted, `INPUT_*` set), the `GITHUB_*` files
//! set, the workspace as the working directory. The `report-path` it outputs must then open
//! from the workspace, where the job's later steps start.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use stream_doctor::server::listener::{ListenOptions, Listener};
use yaml_rust2::{Yaml, YamlLoader};

const AUTH_TOKEN: &str = "SECRET-action-auth-31d7";
const HEADER_VALUE: &str = "SECRET-action-header-8e02";

fn repository(file: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap()
}

fn action() -> Yaml {
    let text = repository("action.yml");
    let mut docs = YamlLoader::load_from_str(&text).expect("action.yml is valid YAML");
    assert_eq!(docs.len(), 1);
    docs.remove(0)
}

/// Every `${{ inputs.NAME }}` in `text`.
fn inputs_used(text: &str) -> Vec<String> {
    let mut used = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("${{") {
        let end = rest[at..].find("}}").map_or(rest.len(), |e| at + e);
        let expression = rest[at + 3..end].trim();
        if let Some(name) = expression.strip_prefix("inputs.") {
            used.push(name.to_string());
        }
        rest = &rest[end..];
    }
    used
}

/// `${{ inputs.NAME }}` replaced as the runner does, from `given` or the input's default.
fn substitute(value: &str, inputs: &BTreeMap<String, String>) -> String {
    let mut out = value.to_string();
    for (name, given) in inputs {
        out = out.replace(&format!("${{{{ inputs.{name} }}}}"), given);
    }
    out
}

#[test]
fn action_yml_parses_declares_what_it_uses_and_builds_a_root_dockerfile() {
    let action = action();
    let declared: Vec<String> = action["inputs"]
        .as_hash()
        .expect("inputs")
        .keys()
        .filter_map(|k| k.as_str().map(str::to_string))
        .collect();
    let used = inputs_used(&repository("action.yml"));
    assert!(used.len() >= 5, "{used:?}");
    for name in &used {
        assert!(
            declared.contains(name),
            "inputs.{name} is used, not declared"
        );
    }
    for name in ["reachable", "verdict", "report-path"] {
        assert!(
            !action["outputs"][name]["description"].is_badvalue(),
            "{name}"
        );
    }
    assert_eq!(action["runs"]["using"].as_str(), Some("docker"));
    let image = action["runs"]["image"].as_str().unwrap();
    assert!(
        image.ends_with("Dockerfile"),
        "GitHub builds `image` only when it ends in Dockerfile: {image}"
    );
    let dockerfile = repository(image);
    let instructions: Vec<&str> = dockerfile
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert!(
        !instructions.iter().any(|l| l.starts_with("USER")),
        "GitHub runs actions as root and asks for no USER"
    );
    assert!(
        !instructions
            .iter()
            .any(|l| l.starts_with("ARG") || l.contains(" AS runtime")),
        "the runner passes no build arguments and no target"
    );
    assert!(instructions.contains(&r#"ENTRYPOINT ["stream-doctor"]"#));
    assert!(
        repository("Dockerfile").contains("USER 1001"),
        "the deployed listener keeps its unprivileged user"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_entry_runs_as_github_runs_it_and_its_report_path_opens() {
    let listener = Listener::start(
        ListenOptions {
            bind: "127.0.0.1:0".parse().unwrap(),
            ..ListenOptions::default()
        },
        Arc::new(|_| {}),
    )
    .await
    .unwrap();
    let url = format!(
        "ws://127.0.0.1:{}/api/calls/1/audio",
        listener.addr().port()
    );

    let action = action();
    let mut inputs = BTreeMap::new();
    for (name, spec) in action["inputs"].as_hash().unwrap() {
        let name = name.as_str().unwrap().to_string();
        let default = match &spec["default"] {
            Yaml::String(s) => s.clone(),
            Yaml::Integer(i) => i.to_string(),
            _ => String::new(),
        };
        inputs.insert(name, default);
    }
    inputs.insert("url".into(), url.clone());
    inputs.insert("auth-token".into(), AUTH_TOKEN.into());
    inputs.insert("headers".into(), format!("X-Api-Key: {HEADER_VALUE}"));
    inputs.insert("timeout".into(), "5".into());

    let workspace = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let summary = files.path().join("step_summary");
    let outputs = files.path().join("output");
    let mut entry = Command::new(env!("CARGO_BIN_EXE_stream-doctor"));
    for arg in action["runs"]["args"].as_vec().unwrap() {
        let arg = match arg {
            Yaml::String(s) => s.clone(),
            Yaml::Integer(i) => i.to_string(),
            other => panic!("an arg that is not a string: {other:?}"),
        };
        entry.arg(substitute(&arg, &inputs));
    }
    entry.env_clear();
    for (name, value) in action["runs"]["env"].as_hash().unwrap() {
        entry.env(
            name.as_str().unwrap(),
            substitute(value.as_str().unwrap(), &inputs),
        );
    }
    for (name, value) in &inputs {
        entry.env(
            format!("INPUT_{}", name.to_uppercase().replace(' ', "_")),
            value,
        );
    }
    entry
        .env("GITHUB_ACTIONS", "true")
        .env("CI", "true")
        .env("HOME", "/github/home")
        .env("GITHUB_WORKSPACE", workspace.path())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs)
        .current_dir(workspace.path());
    let out = tokio::task::spawn_blocking(move || entry.output().unwrap())
        .await
        .unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{printed}");

    let outputs = std::fs::read_to_string(&outputs).unwrap();
    let output = |key: &str| {
        outputs
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key} in {outputs}"))
            .to_string()
    };
    assert_eq!(output("reachable"), "true");
    assert_eq!(output("verdict"), "url.insecure_scheme");
    let report_path = output("report-path");
    assert!(
        Path::new(&report_path).is_relative(),
        "the container and later steps see the workspace at different paths: {report_path}"
    );
    // A later step starts in the workspace, at the runner's own path for it.
    let report = std::fs::read_to_string(workspace.path().join(&report_path)).unwrap();
    let session: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(session["target"], url.as_str());
    assert_eq!(session["vantage"]["label"], "github-actions");
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(summary.starts_with("## Stream Doctor: "), "{summary}");
    for (what, text) in [
        ("output", printed.as_str()),
        ("outputs", outputs.as_str()),
        ("report", report.as_str()),
        ("summary", summary.as_str()),
    ] {
        for secret in [AUTH_TOKEN, HEADER_VALUE] {
            assert!(!text.contains(secret), "the {what} shows {secret}");
        }
    }
}
