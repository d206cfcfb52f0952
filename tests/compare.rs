//! `compare` on reports of real checks: two servers behind the same name with different
//! certificates (two edges), reports of different URLs, and files that are not reports.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;

use stream_doctor::catalog::CauseId;
use stream_doctor::compare::compare;
use stream_doctor::demo::Behavior;
use stream_doctor::demo::certs::Served;
use stream_doctor::session::{Session, SessionOptions};
use stream_doctor::vantage::Vantage;
use support::Scenario;

fn session(
    scenario: &Scenario,
    report: &stream_doctor::diagnosis::CheckReport,
    label: &str,
) -> Session {
    let mut session = Session::from_check(
        report,
        SessionOptions::from_check(&scenario.options(), None),
    );
    session.vantage = Some(Vantage {
        label: label.into(),
        hostname: label.into(),
        ipv6: false,
    });
    session
}

#[tokio::test]
async fn two_edges_with_different_certificates_are_named() {
    let one = Scenario::tls(Behavior::Healthy, Served::FullChain).await;
    let other = Scenario::tls(Behavior::Healthy, Served::FullChain).await;
    let here = session(&one, &one.run().await, "office");
    let mut there = session(&other, &other.run().await, "ci");
    // The same URL from both places (the servers' ports differ on one machine).
    there.target = here.target.clone();
    let comparison = compare(&here, &there).unwrap();
    let ids: Vec<CauseId> = comparison.diagnosis.causes.iter().map(|c| c.id).collect();
    assert_eq!(ids, [CauseId::TlsDifferentEdge]);
    let summary = &comparison.diagnosis.causes[0].summary;
    assert!(
        summary.starts_with("office was served ") && summary.contains("; ci was served "),
        "{summary}"
    );
    assert_eq!(comparison.exit_code(), 0, "a warning");
    assert!(
        comparison.differences.is_empty(),
        "every check passes in both places"
    );

    let same = compare(&here, &here).unwrap();
    assert!(same.diagnosis.causes.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn compare_refuses_reports_of_different_urls_and_files_that_are_not_reports() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, session: &Session| {
        let path = dir.path().join(name);
        let json = stream_doctor::report::render(
            session,
            stream_doctor::report::Format::Json,
            &Default::default(),
        );
        std::fs::write(&path, json).unwrap();
        path
    };
    let a = write("a.json", &Session::new("wss://a.example.com/s"));
    let b = write("b.json", &Session::new("wss://b.example.com/s"));
    let a_again = write("a2.json", &Session::new("WSS://A.example.com:443/s/"));
    let not_a_report = dir.path().join("x.json");
    std::fs::write(&not_a_report, "{\"hello\": 1}").unwrap();
    let run = |here: &std::path::Path, there: &std::path::Path, format: &str| {
        Command::new(env!("CARGO_BIN_EXE_stream-doctor"))
            .arg("compare")
            .args([here, there])
            .args(["--format", format])
            .output()
            .unwrap()
    };
    let different = run(&a, &b, "text");
    assert_eq!(different.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&different.stderr).contains("different URLs"));
    let broken = run(&a, &not_a_report, "text");
    assert_eq!(broken.status.code(), Some(2));
    for format in ["text", "json", "markdown", "html"] {
        let same = run(&a, &a_again, format);
        assert_eq!(same.status.code(), Some(0), "{format}");
        let out = String::from_utf8_lossy(&same.stdout);
        assert!(out.contains("wss://a.example.com/s"), "{format}: {out}");
        assert!(out.contains("unknown"), "reports without a vantage: {out}");
    }
}
