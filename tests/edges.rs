//! The hosting platform's edge, emulated on 127.0.0.1 from its documented shapes (status,
//! headers, body, certificate: docs/platforms.md), and certificates made the ways
//! people make them. Each names its cause, and `answered_by` names who answered.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use stream_doctor::catalog::{CauseId, CheckId};
use stream_doctor::check::Status;
use stream_doctor::check::evidence::{Retry, RetryReason};
use stream_doctor::demo::Behavior;
use stream_doctor::demo::certs::{Pki, Served};
use stream_doctor::diagnosis::CheckReport;
use stream_doctor::edge::AnswererKind;
use support::{HOST, PATH, Scenario, dump, first_failure, golden};

const RAILWAY_502: &str = "<!DOCTYPE html><html><head><title>Application failed to respond</title></head><body><h1>Application failed to respond</h1><p>This error appears to be caused by the application.</p></body></html>";
const RAILWAY_404: &str =
    r#"{"status":"error","code":404,"message":"Application not found","request_id":"Ab3x"}"#;

fn page(status: u16, reason: &str, headers: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status} {reason}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn railway(status: u16, reason: &str, body: &str) -> String {
    let headers =
        "Server: railway-edge\r\nX-Railway-Request-Id: Ab3x\r\nContent-Type: text/html\r\n";
    page(status, reason, headers, body)
}

/// Who answered the upgrade, as (kind, name).
fn upgrade_answer(report: &CheckReport) -> Option<(AnswererKind, String)> {
    let upgrade = report.check(CheckId::Upgrade)?.details.upgrade()?;
    let by = upgrade.answered_by.as_ref()?;
    Some((by.kind, by.name.clone()))
}

async fn expect(name: &str, scenario: &Scenario, cause: CauseId) -> CheckReport {
    let report = scenario.run().await;
    golden(name, &report, &scenario.options());
    assert_eq!(first_failure(&report), Some(cause), "{}", dump(&report));
    report
}

#[tokio::test]
async fn nothing_listening_behind_railways_edge() {
    let behavior = Behavior::Respond(railway(502, "Bad Gateway", RAILWAY_502));
    let scenario = Scenario::tls(behavior, Served::FullChain).await;
    let report = expect(
        "platform_app_not_listening",
        &scenario,
        CauseId::PlatformAppNotListening,
    )
    .await;
    assert_eq!(
        upgrade_answer(&report),
        Some((AnswererKind::Platform, "railway".into()))
    );
    let cause = &report.diagnosis.causes[0];
    assert!(
        cause.summary.contains("from Railway's edge"),
        "{}",
        cause.summary
    );
    assert!(cause.fix.contains("$PORT"), "{}", cause.fix);
    let upgrade = report
        .check(CheckId::Upgrade)
        .unwrap()
        .details
        .upgrade()
        .unwrap();
    let retry = upgrade.retry.as_ref().expect("a second attempt");
    assert_eq!(retry.why, RetryReason::ColdStart);
}

#[tokio::test]
async fn no_app_for_the_domain_stays_missing_after_a_retry() {
    let behavior = Behavior::Respond(railway(404, "Not Found", RAILWAY_404));
    let scenario = Scenario::tls(behavior, Served::FullChain).await;
    let report = expect(
        "platform_no_app_for_domain",
        &scenario,
        CauseId::PlatformNoAppForDomain,
    )
    .await;
    let summary = &report.diagnosis.causes[0].summary;
    assert!(summary.contains("not a sleeping service"), "{summary}");
}

/// A service that sleeps answers the first request with the edge's error and wakes for the
/// next: the check waits, tries once more, and says the provider's single try would fail.
#[tokio::test]
async fn a_sleeping_service_is_a_cold_start() {
    let behavior = Behavior::Sleeping {
        page: railway(502, "Bad Gateway", RAILWAY_502),
        wakes_at: Instant::now() + Duration::from_millis(400),
    };
    let scenario = Scenario::tls(behavior, Served::FullChain).await;
    let report = scenario.run().await;
    let causes: Vec<CauseId> = report.diagnosis.causes.iter().map(|c| c.id).collect();
    assert!(
        causes.contains(&CauseId::PlatformColdStart),
        "{}",
        dump(&report)
    );
    assert_eq!(
        report.check(CheckId::Upgrade).unwrap().status,
        Status::Warn,
        "it did upgrade, the second time"
    );
    assert_eq!(
        report.check(CheckId::Provider).unwrap().status,
        Status::Pass,
        "the later checks ran on the woken service"
    );
}

/// A service that takes seconds to wake, longer than one retry waits: the check asks again
/// with a growing pause until it wakes, and says after how long.
#[tokio::test]
async fn a_slow_waking_service_is_still_a_cold_start() {
    let behavior = Behavior::Sleeping {
        page: railway(404, "Not Found", RAILWAY_404),
        wakes_at: Instant::now() + Duration::from_secs(4),
    };
    let scenario = Scenario::tls(behavior, Served::FullChain).await;
    let report = scenario.run().await;
    let causes: Vec<CauseId> = report.diagnosis.causes.iter().map(|c| c.id).collect();
    assert!(
        causes.contains(&CauseId::PlatformColdStart),
        "{}",
        dump(&report)
    );
    assert!(
        report.diagnosis.reachable,
        "it woke: the provider's next try would reach it"
    );
    let upgrade = report.check(CheckId::Upgrade).unwrap();
    let evidence = upgrade.details.upgrade().unwrap();
    let attempts: Vec<&Retry> = evidence
        .retry
        .iter()
        .map(|r| &**r)
        .chain(&evidence.further)
        .collect();
    assert!(attempts.len() >= 3, "{}", dump(&report));
    assert!(attempts.iter().all(|r| r.why == RetryReason::ColdStart));
    let last = attempts.last().unwrap();
    assert!(last.exchange.upgraded());
    assert!(
        attempts[..attempts.len() - 1]
            .iter()
            .all(|r| r.exchange.status == Some(404))
    );
    assert!(last.after_ms >= 3000.0, "{}", last.after_ms);
    let summary = &upgrade.summary;
    assert!(
        summary.contains("attempt") && summary.contains("asleep"),
        "{summary}"
    );
}

#[tokio::test]
async fn a_bot_challenge_in_front_of_the_app() {
    let headers = "Server: cloudflare\r\nCF-Ray: 8a1b-AMS\r\ncf-mitigated: challenge\r\nContent-Type: text/html\r\n";
    let body = "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><div id=\"challenge-platform\"></div></body></html>";
    let behavior = Behavior::Respond(page(403, "Forbidden", headers, body));
    let scenario = Scenario::tls(behavior, Served::FullChain).await;
    let report = expect(
        "platform_waf_challenge",
        &scenario,
        CauseId::PlatformWafChallenge,
    )
    .await;
    assert_eq!(
        upgrade_answer(&report),
        Some((AnswererKind::Cdn, "cloudflare".into()))
    );
}

/// Cloudflare's 'Flexible' TLS in front of a platform that redirects HTTP to HTTPS: the
/// redirect points back at the very URL.
#[tokio::test]
async fn a_redirect_back_to_the_same_url_is_a_loop() {
    let scenario = Scenario::tls(Behavior::Healthy, Served::FullChain).await;
    let port = scenario.server.addr().port();
    let location = format!("Location: https://{HOST}:{port}{PATH}\r\n");
    scenario.server.set_behavior(Behavior::Respond(page(
        301,
        "Moved Permanently",
        &location,
        "",
    )));
    let report = expect("http_redirect_loop", &scenario, CauseId::HttpRedirectLoop).await;
    assert!(report.diagnosis.causes[0].fix.contains("Full (strict)"));
}

#[tokio::test]
async fn a_server_that_demands_an_origin() {
    let scenario = Scenario::tls(Behavior::RequireOrigin, Served::FullChain).await;
    let report = expect(
        "http_origin_required",
        &scenario,
        CauseId::HttpOriginRequired,
    )
    .await;
    let upgrade = report
        .check(CheckId::Upgrade)
        .unwrap()
        .details
        .upgrade()
        .unwrap();
    let retry = upgrade.retry.as_ref().expect("a second attempt");
    assert_eq!(retry.why, RetryReason::WithOrigin);
    assert!(retry.exchange.request.contains("Origin: https://"));
}

#[tokio::test]
async fn the_platforms_default_certificate_on_a_custom_domain() {
    let scenario = Scenario::tls(Behavior::Healthy, Served::PlatformDefault).await;
    let report = expect(
        "tls_platform_default_cert",
        &scenario,
        CauseId::TlsPlatformDefaultCert,
    )
    .await;
    let summary = &report.diagnosis.causes[0].summary;
    assert!(
        summary.contains("*.up.railway.app") && summary.contains("Railway"),
        "{summary}"
    );
    let tls = report.check(CheckId::Tls).unwrap().details.tls().unwrap();
    assert_eq!(
        tls.answered_by.as_ref().map(|b| b.name.as_str()),
        Some("railway")
    );
}

/// A platform with an idle limit, seen on the 101, and a server that never pings.
#[tokio::test]
async fn a_quiet_server_behind_fly_risks_its_idle_timeout() {
    let behind = "Fly-Request-Id: 01HX\r\nVia: 1.1 fly.io\r\n".to_string();
    let scenario = Scenario::tls(Behavior::Behind(behind), Served::FullChain).await;
    let report = scenario.run().await;
    assert!(report.diagnosis.reachable, "{}", dump(&report));
    let risk = report
        .diagnosis
        .causes
        .iter()
        .find(|c| c.id == CauseId::WsIdleTimeoutRisk)
        .unwrap_or_else(|| panic!("no idle risk: {}", dump(&report)));
    assert!(risk.summary.contains("Fly.io") && risk.summary.contains("60 s"));
    let upgrade = report
        .check(CheckId::Upgrade)
        .unwrap()
        .details
        .upgrade()
        .unwrap();
    let by = upgrade.answered_by.as_ref().unwrap();
    assert_eq!(
        (by.kind, by.via.as_deref()),
        (AnswererKind::App, Some("fly"))
    );
}

/// Each platform's own answer, served as documented: `answered_by` names it.
#[tokio::test]
async fn every_fingerprint_names_the_edge_that_answered() {
    let cases = [
        (
            page(
                503,
                "Service Unavailable",
                "Via: 1.1 vegur\r\n",
                "<iframe src=\"//www.herokucdn.com/error-pages/application-error.html\"></iframe>Application Error",
            ),
            AnswererKind::Platform,
            "heroku",
            CauseId::PlatformAppNotListening,
        ),
        (
            page(
                503,
                "Service Unavailable",
                "Fly-Request-Id: 01HX\r\n",
                "no known healthy instances found for route",
            ),
            AnswererKind::Platform,
            "fly",
            CauseId::PlatformAppNotListening,
        ),
        (
            page(
                404,
                "Not Found",
                "ngrok-error-code: ERR_NGROK_3200\r\n",
                "The endpoint abc.ngrok-free.app is offline. ERR_NGROK_3200",
            ),
            AnswererKind::Proxy,
            "ngrok",
            CauseId::PlatformNoAppForDomain,
        ),
        (
            page(
                502,
                "Bad Gateway",
                "Server: nginx/1.24.0\r\nContent-Type: text/html\r\n",
                "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx/1.24.0</center></body></html>",
            ),
            AnswererKind::Proxy,
            "nginx",
            CauseId::HttpServerError,
        ),
        (
            page(
                404,
                "Not Found",
                "rndr-id: 4a1b\r\nCF-Ray: 8a1b-AMS\r\nServer: uvicorn\r\n",
                "{\"detail\":\"Not Found\"}",
            ),
            AnswererKind::App,
            "uvicorn",
            CauseId::AppWebsocketSupportMissing,
        ),
    ];
    for (answer, kind, name, cause) in cases {
        let scenario = Scenario::tls(Behavior::Respond(answer), Served::FullChain).await;
        let mut options = scenario.options();
        options.timeout = Duration::from_millis(600);
        let report = scenario.run_with(options).await;
        assert_eq!(
            upgrade_answer(&report),
            Some((kind, name.to_string())),
            "{name}: {}",
            dump(&report)
        );
        let causes: Vec<CauseId> = report.diagnosis.causes.iter().map(|c| c.id).collect();
        assert!(causes.contains(&cause), "{name}: {causes:?}");
    }
}

/// A self-signed leaf is named so however it was made, in words, never a library's name.
#[tokio::test]
async fn self_signed_with_the_ca_flag_as_openssl_makes_it() {
    let scenario = Scenario::tls(Behavior::Healthy, Served::SelfSignedCa).await;
    let report = expect("tls_self_signed_ca", &scenario, CauseId::TlsSelfSigned).await;
    let summary = &report.diagnosis.causes[0].summary;
    assert!(summary.contains("certificate authority"), "{summary}");
}

fn openssl(dir: &std::path::Path, extra: &[&str]) -> (std::path::PathBuf, std::path::PathBuf) {
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let mut args = vec![
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj",
    ];
    let subject = format!("/CN={HOST}");
    args.push(&subject);
    args.extend([
        "-keyout",
        key.to_str().unwrap(),
        "-out",
        cert.to_str().unwrap(),
    ]);
    args.extend(extra);
    let status = Command::new("openssl")
        .args(&args)
        .output()
        .expect("openssl is missing: run scripts/setup-test (Debian package openssl)");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    (cert, key)
}

/// The exact commands people run: `openssl req -x509`, with and without a SAN and key usage.
#[tokio::test]
async fn self_signed_however_openssl_made_it() {
    let variants: [&[&str]; 3] = [
        &[],
        &["-addext", "subjectAltName=DNS:stream.test"],
        &[
            "-addext",
            "subjectAltName=DNS:stream.test",
            "-addext",
            "keyUsage=critical,digitalSignature,keyEncipherment",
            "-addext",
            "extendedKeyUsage=serverAuth",
        ],
    ];
    for extra in variants {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = openssl(dir.path(), extra);
        let config = stream_doctor::net::tls::load_server_config(&cert, &key).unwrap();
        let scenario =
            Scenario::with_config(Behavior::Healthy, Pki::generate().unwrap(), config).await;
        let report = scenario.run().await;
        assert_eq!(
            first_failure(&report),
            Some(CauseId::TlsSelfSigned),
            "{extra:?}: {}",
            dump(&report)
        );
        let tls = report.check(CheckId::Tls).unwrap();
        assert!(tls.summary.contains("is self-signed"), "{}", tls.summary);
    }
}

/// A head over 64 KiB that arrives in one piece is malformed too, not a passing upgrade.
#[tokio::test]
async fn a_huge_head_in_one_piece_is_malformed() {
    let scenario = Scenario::tls(Behavior::HugeHeadOnce, Served::FullChain).await;
    let report = expect("huge_head_once", &scenario, CauseId::HttpMalformedResponse).await;
    let summary = &report.diagnosis.causes[0].summary;
    assert!(summary.contains("KiB"), "{summary}");
}

/// The close frame as the server sent it: an invalid code and a reason that is not UTF-8 are
/// reported as such, not as the library's substitute (1002 'Protocol violation').
#[tokio::test]
async fn a_close_frame_is_reported_as_sent() {
    let cases: [(&[u8], &str); 3] = [
        (
            &[0x03, 0xe7, b'n', b'o'],
            "close code 999 'no' (invalid: code 999 is not one a peer may send)",
        ),
        (
            &[0x03, 0xf0, 0xff, 0xfe],
            "close code 1008 '\u{fffd}\u{fffd}' (invalid: the reason is not UTF-8)",
        ),
        (&[0x0f, 0xa0, b'b', b'y', b'e'], "close code 4000 'bye'"),
    ];
    for (payload, shown) in cases {
        let scenario =
            Scenario::tls(Behavior::CloseWith(payload.to_vec()), Served::FullChain).await;
        let report = scenario.run().await;
        let websocket = report.check(CheckId::Websocket).unwrap();
        assert!(
            websocket.summary.contains(shown),
            "{shown}: {}",
            websocket.summary
        );
        assert_eq!(
            first_failure(&report),
            Some(CauseId::WsClosedOnConnect),
            "{}",
            dump(&report)
        );
    }
}

/// The exact-match path route is found whatever the id looks like.
#[tokio::test]
async fn exact_match_routes_are_found_for_ids_of_every_shape() {
    let ids = [
        "v3:Wn3Ydj0XrLk8J9dK3a-Fq_dAZq0m2xN0X1BqUSsYJk4KNtTGQ6zZ8w",
        "CA0123456789abcdef0123456789abcdef",
        "MZ0123456789abcdef0123456789abcdef",
        "a1B2",
        "42",
        "32de0dea-53cb-4b21-89a4-9e1819c043bc",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    ];
    for id in ids {
        let scenario = Scenario::tls(
            Behavior::ExactPath("/api/calls/:id/audio".into()),
            Served::FullChain,
        )
        .await;
        let url = format!(
            "wss://{HOST}:{}/api/calls/{id}/audio",
            scenario.server.addr().port()
        );
        let report = support::run_url(&url, &scenario.options()).await;
        assert_eq!(
            first_failure(&report),
            Some(CauseId::WsPathMismatch),
            "{id}: {}",
            dump(&report)
        );
        let causes: Vec<CauseId> = report.diagnosis.causes.iter().map(|c| c.id).collect();
        assert!(
            !causes.contains(&CauseId::UrlTemplateUnexpanded),
            "{id} is an id, not a template leftover"
        );
    }
}

/// A custom domain that is a CNAME of a platform's host is named from DNS alone, even when
/// nothing answers at the address.
#[tokio::test]
async fn a_cname_chain_names_the_platform_even_when_nothing_answers() {
    use support::dns::{DnsServer, Entry};
    let dns = DnsServer::start(&[
        ("stream.custom.test", Entry::Alias("app-1.up.railway.app")),
        (
            "app-1.up.railway.app",
            Entry::Address("127.0.0.1".parse().unwrap()),
        ),
    ])
    .await;
    let scenario = Scenario::plain(Behavior::Healthy).await;
    let port = scenario.server.addr().port();
    let mut options = scenario.options();
    options.resolve.clear();
    options.dns_server = Some(dns.addr);
    let url = format!("ws://stream.custom.test:{port}{PATH}");
    let report = support::run_url(&url, &options).await;
    let dns_check = report.check(CheckId::Dns).unwrap();
    let evidence = match &dns_check.details {
        stream_doctor::check::Evidence::Dns(dns) => dns,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        evidence.cname_chain,
        ["stream.custom.test", "app-1.up.railway.app"]
    );
    assert_eq!(
        evidence.answered_by.as_ref().map(|b| b.name.as_str()),
        Some("railway")
    );
    assert!(
        dns_check
            .summary
            .contains("via app-1.up.railway.app (Railway's edge)"),
        "{}",
        dns_check.summary
    );
    assert_eq!(report.check(CheckId::Upgrade).unwrap().status, Status::Pass);

    // Nothing listens there: the name still says whose edge it is.
    drop(scenario);
    let refused = support::run_url(&url, &options).await;
    assert_eq!(
        first_failure(&refused),
        Some(CauseId::TcpRefused),
        "{}",
        dump(&refused)
    );
    let dns_answer = refused
        .check(CheckId::Dns)
        .unwrap()
        .details
        .answered_by()
        .cloned();
    assert_eq!(dns_answer.map(|b| b.name), Some("railway".to_string()));

    let missing = support::run_url(&format!("ws://missing.custom.test:{port}/a"), &options).await;
    assert_eq!(
        first_failure(&missing),
        Some(CauseId::DnsNoRecords),
        "{}",
        dump(&missing)
    );
}
