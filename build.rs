//! Names the git commit the binary was built from, for `--version`; a build outside a git
//! checkout (a crate unpacked by `cargo install`) says it has none.

use std::path::Path;
use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|text| text.trim().to_string())
        .filter(|text| !text.is_empty())
        .unwrap_or_else(|| "no git commit".to_string());
    println!("cargo:rustc-env=STREAM_DOCTOR_COMMIT={commit}");
    // A new commit moves HEAD's branch, not HEAD itself: watch both.
    println!("cargo:rerun-if-changed=.git/HEAD");
    if let Ok(head) = std::fs::read_to_string(".git/HEAD")
        && let Some(branch) = head.trim().strip_prefix("ref: ")
        && Path::new(".git").join(branch).exists()
    {
        println!("cargo:rerun-if-changed=.git/{branch}");
    }
}
