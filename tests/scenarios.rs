//! Every scenario of the diagnosis table against a real server on 127.0.0.1: the first cause
//! each one reports, and that hostile servers end within the deadline.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use stream_doctor::catalog::CauseId;
use stream_doctor::catalog::CheckId;
use stream_doctor::check::Status;
use stream_doctor::check::evidence::ProviderEvidence;
use stream_doctor::check::options::CheckOptions;
use stream_doctor::demo::Behavior;
use stream_doctor::demo::certs::{Pki, Served};
use stream_doctor::records::certificate::ChainEntry;
use stream_doctor::records::close::Close;
use support::{HOST, Scenario, dump, first_cause, first_failure, golden, run_url};

async fn expect_failure(
    name: &str,
    scenario: &Scenario,
    cause: CauseId,
) -> stream_doctor::diagnosis::CheckReport {
    let report = scenario.run().await;
    golden(name, &report, &scenario.options());
    assert_eq!(first_cause(&report), Some(cause), "{}", dump(&report));
    assert!(!report.diagnosis.reachable);
    assert_eq!(report.exit_code(), 1);
    report
}

/// The session continues on the upgrade's connection and the `paths` check reads the target's
/// row from the upgrade's answer: without the provider's stream a healthy target is asked over
/// one connection; the stream adds its own.
#[tokio::test]
async fn a_healthy_target_is_checked_over_one_connection_and_the_stream_over_another() {
    let scenario = Scenario::tls(Behavior::Healthy, Served::FullChain).await;
    let options = CheckOptions {
        provider: false,
        ..scenario.options()
    };
    let report = scenario.run_with(options).await;
    assert!(report.diagnosis.reachable, "{}", dump(&report));
    let websocket = report.check(CheckId::Websocket).unwrap();
    assert_eq!(websocket.status, Status::Pass, "{}", websocket.summary);
    assert_eq!(scenario.server.connections(), 1, "{}", dump(&report));

    let scenario = Scenario::tls(Behavior::Healthy, Served::FullChain).await;
    let report = scenario.run().await;
    let provider = report.check(CheckId::Provider).unwrap();
    assert_eq!(provider.status, Status::Pass, "{}", provider.summary);
    assert_eq!(scenario.server.connections(), 2, "{}", dump(&report));

    // A target that refuses: the variants are asked, the target not a second time.
    let scenario = Scenario::plain(Behavior::ExactPath("/elsewhere".into())).await;
    let options = CheckOptions {
        provider: false,
        ..scenario.options()
    };
    let report = scenario.run_with(options).await;
    let paths = report
        .check(CheckId::Paths)
        .unwrap()
        .details
        .paths()
        .unwrap();
    let upgrade = report
        .check(CheckId::Upgrade)
        .unwrap()
        .details
        .upgrade()
        .unwrap();
    assert_eq!(paths.variants[0].path, support::PATH);
    let target_row = match &paths.variants[0].reached {
        stream_doctor::check::evidence::Reached::Answered { status_line, .. } => {
            status_line.clone()
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(target_row, upgrade.exchange.status_line);
    let attempts = 1 + upgrade.retry.iter().count() + upgrade.further.len();
    // A 400 also gets one GET at Socket.IO's path, to tell a Socket.IO server.
    let socket_io_probe = 1;
    let variants = paths.variants.len() - 1;
    assert_eq!(
        scenario.server.connections() as usize,
        attempts + socket_io_probe + variants,
        "{attempts} upgrade attempts and {variants} variants"
    );
}

#[tokio::test]
async fn healthy_tls_server_passes_every_check() {
    let scenario = Scenario::tls(Behavior::Healthy, Served::FullChain).await;
    let report = scenario.run().await;
    golden(
        "healthy_tls_server_passes_every_check",
        &report,
        &scenario.options(),
    );
    assert!(report.diagnosis.reachable, "{}", dump(&report));
    assert_eq!(report.exit_code(), 0);
    for check in &report.checks {
        let expected = if check.id == CheckId::Dns {
            Status::Warn
        } else {
            Status::Pass
        };
        assert_eq!(
            check.status,
            expected,
            "{}: {}",
            check.id.as_str(),
            check.summary
        );
    }
    // The loopback warning comes first; the all-clear follows it.
    let ids: Vec<_> = report.diagnosis.causes.iter().map(|c| c.id).collect();
    assert_eq!(ids, [CauseId::DnsPrivateAddress, CauseId::OkReachable]);
    let tls = report.check(CheckId::Tls).unwrap().details.tls().unwrap();
    assert_eq!(tls.chain.len(), 2);
    let session = tls.session.as_ref().unwrap();
    assert!(session.trusted_only_via_ca_file);
    assert_eq!(session.alpn.as_deref(), Some("http/1.1"));
    let provider = report.check(CheckId::Provider).unwrap().details.provider();
    let Some(ProviderEvidence::Streamed(stream)) = provider else {
        panic!("no stream: {provider:?}");
    };
    assert_eq!(stream.sent.media, 50);
    assert_eq!(
        stream.close.close,
        Close::Frame {
            code: Some(1000),
            reason: String::new(),
            invalid: None
        }
    );
}

#[tokio::test]
async fn healthy_plain_server_passes_with_an_insecure_scheme_warning() {
    let scenario = Scenario::plain(Behavior::Healthy).await;
    let report = scenario.run().await;
    golden(
        "healthy_plain_server_passes_with_an_insecure_scheme_warning",
        &report,
        &scenario.options(),
    );
    assert!(report.diagnosis.reachable, "{}", dump(&report));
    assert_eq!(report.check(CheckId::Tls).unwrap().status, Status::Skip);
    assert_eq!(first_cause(&report), Some(CauseId::UrlInsecureScheme));
}

#[tokio::test]
async fn private_root_is_untrusted_without_the_ca_file() {
    let scenario = Scenario::tls(Behavior::Healthy, Served::FullChain).await;
    let mut options = scenario.options();
    options.extra_roots.clear();
    let report = scenario.run_with(options.clone()).await;
    golden(
        "private_root_is_untrusted_without_the_ca_file",
        &report,
        &options,
    );
    assert_eq!(
        first_cause(&report),
        Some(CauseId::TlsUntrustedRoot),
        "{}",
        dump(&report)
    );
    assert_eq!(report.check(CheckId::Upgrade).unwrap().status, Status::Skip);
}

#[tokio::test]
async fn leaf_without_intermediate_is_an_incomplete_chain() {
    let scenario = Scenario::tls(Behavior::Healthy, Served::LeafOnly).await;
    let report = expect_failure(
        "leaf_without_intermediate_is_an_incomplete_chain",
        &scenario,
        CauseId::TlsIncompleteChain,
    )
    .await;
    let cause = &report.diagnosis.causes[0];
    assert!(
        cause.summary.contains("Stream Doctor Demo Intermediate"),
        "{}",
        cause.summary
    );
    assert!(cause.fix.contains("fullchain.pem"));
}

#[tokio::test]
async fn self_signed_leaf() {
    let scenario = Scenario::tls(Behavior::Healthy, Served::SelfSigned).await;
    expect_failure("self_signed_leaf", &scenario, CauseId::TlsSelfSigned).await;
}

#[tokio::test]
async fn expired_leaf() {
    let scenario = Scenario::tls(Behavior::Healthy, Served::Expired).await;
    let report = expect_failure("expired_leaf", &scenario, CauseId::TlsExpired).await;
    assert!(
        report.diagnosis.causes[0].summary.contains("2021-01-01"),
        "{}",
        dump(&report)
    );
}

#[tokio::test]
async fn certificate_for_another_name() {
    let scenario = Scenario::tls(Behavior::Healthy, Served::WrongName).await;
    let report = expect_failure(
        "certificate_for_another_name",
        &scenario,
        CauseId::TlsHostnameMismatch,
    )
    .await;
    assert!(
        report.diagnosis.causes[0]
            .summary
            .contains("wrong-name.example")
    );
}

#[tokio::test]
async fn http2_only_alpn() {
    let scenario = Scenario::tls_alpn(Behavior::Healthy, Served::FullChain, &[b"h2"]).await;
    expect_failure("http2_only_alpn", &scenario, CauseId::TlsNoHttp11).await;
}

#[tokio::test]
async fn plain_http_on_the_tls_port() {
    let scenario = Scenario::plain_probed_as_tls(Behavior::status(400, "Bad Request", "")).await;
    let report = expect_failure(
        "plain_http_on_the_tls_port",
        &scenario,
        CauseId::TlsHandshakeFailed,
    )
    .await;
    let tls = report.check(CheckId::Tls).unwrap().details.tls().unwrap();
    assert_eq!(
        tls.plain_http_answer.as_deref(),
        Some("HTTP/1.1 400 Bad Request")
    );
    assert!(report.diagnosis.causes[0].fix.contains("plain HTTP"));
}

#[tokio::test]
async fn certificate_that_does_not_parse() {
    let pki = Pki::generate().unwrap();
    let config = garbage_certificate_config();
    let scenario = Scenario::with_config(Behavior::Healthy, pki, config).await;
    let report = expect_failure(
        "certificate_that_does_not_parse",
        &scenario,
        CauseId::TlsHandshakeFailed,
    )
    .await;
    let tls = report.check(CheckId::Tls).unwrap();
    assert!(tls.summary.contains("does not parse"), "{}", tls.summary);
    let chain = &tls.details.tls().unwrap().chain;
    assert!(matches!(chain[0], ChainEntry::Unreadable { .. }));
}

/// A server whose "certificate" is bytes that are not DER, with a real key behind it.
fn garbage_certificate_config() -> Arc<rustls::ServerConfig> {
    #[derive(Debug)]
    struct Garbage(Arc<rustls::sign::CertifiedKey>);
    impl rustls::server::ResolvesServerCert for Garbage {
        fn resolve(
            &self,
            _: rustls::server::ClientHello<'_>,
        ) -> Option<Arc<rustls::sign::CertifiedKey>> {
            Some(self.0.clone())
        }
    }
    let real = Pki::generate()
        .unwrap()
        .serve(HOST, Served::SelfSigned)
        .unwrap();
    let provider = stream_doctor::net::tls::crypto();
    let key = provider.key_provider.load_private_key(real.key).unwrap();
    let bogus = rustls::pki_types::CertificateDer::from(b"this is not a certificate".to_vec());
    let certified = rustls::sign::CertifiedKey::new(vec![bogus], key);
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(Garbage(Arc::new(certified))));
    Arc::new(config)
}

#[tokio::test]
async fn silence_after_tcp_accept_is_a_tls_handshake_timeout() {
    let scenario = Scenario::tls(Behavior::Silent, Served::FullChain).await;
    let mut options = scenario.options();
    options.timeout = Duration::from_millis(500);
    let started = Instant::now();
    let report = scenario.run_with(options.clone()).await;
    golden(
        "silence_after_tcp_accept_is_a_tls_handshake_timeout",
        &report,
        &options,
    );
    assert_eq!(
        first_cause(&report),
        Some(CauseId::TlsHandshakeTimeout),
        "{}",
        dump(&report)
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn silence_after_tcp_accept_on_plain_ws_is_a_handshake_timeout() {
    let scenario = Scenario::plain(Behavior::Silent).await;
    let mut options = scenario.options();
    options.timeout = Duration::from_millis(500);
    let report = scenario.run_with(options.clone()).await;
    golden(
        "silence_after_tcp_accept_on_plain_ws_is_a_handshake_timeout",
        &report,
        &options,
    );
    assert_eq!(
        first_failure(&report),
        Some(CauseId::WsHandshakeTimeout),
        "{}",
        dump(&report)
    );
}

#[tokio::test]
async fn redirect() {
    let answer = Behavior::status(
        301,
        "Moved Permanently",
        "Location: https://elsewhere.test/\r\n",
    );
    let scenario = Scenario::tls(answer, Served::FullChain).await;
    let report = expect_failure("redirect", &scenario, CauseId::HttpRedirect).await;
    assert!(
        report.diagnosis.causes[0]
            .summary
            .contains("elsewhere.test")
    );
}

#[tokio::test]
async fn unauthorized() {
    let answer = Behavior::status(401, "Unauthorized", "WWW-Authenticate: Bearer\r\n");
    let scenario = Scenario::tls(answer, Served::FullChain).await;
    let report = expect_failure("unauthorized", &scenario, CauseId::HttpAuthRequired).await;
    assert!(
        report.diagnosis.causes[0]
            .fix
            .contains("x-telnyx-streaming-auth-token")
    );
}

#[tokio::test]
async fn not_found() {
    let scenario = Scenario::tls(Behavior::status(404, "Not Found", ""), Served::FullChain).await;
    let report = expect_failure("not_found", &scenario, CauseId::HttpNotFound).await;
    let upgrade = report.check(CheckId::Upgrade).unwrap().details.upgrade();
    let upgrade = &upgrade.unwrap().exchange;
    assert_eq!(
        upgrade.status_line.as_deref(),
        Some("HTTP/1.1 404 Not Found")
    );
    assert_eq!(upgrade.body_excerpt, "404 Not Found");
}

#[tokio::test]
async fn bad_request_to_the_upgrade() {
    let scenario = Scenario::tls(Behavior::status(400, "Bad Request", ""), Served::FullChain).await;
    let report = expect_failure(
        "bad_request_to_the_upgrade",
        &scenario,
        CauseId::HttpUpgradeRejected,
    )
    .await;
    assert!(report.diagnosis.causes[0].fix.contains("noServer"));
}

#[tokio::test]
async fn upgrade_required_without_switching() {
    let scenario = Scenario::tls(
        Behavior::status(426, "Upgrade Required", ""),
        Served::FullChain,
    )
    .await;
    expect_failure(
        "upgrade_required_without_switching",
        &scenario,
        CauseId::HttpUpgradeIgnored,
    )
    .await;
}

#[tokio::test]
async fn proxy_answering_200() {
    let scenario = Scenario::plain(Behavior::status(200, "OK", "")).await;
    let report = scenario.run().await;
    golden("proxy_answering_200", &report, &scenario.options());
    assert_eq!(
        first_failure(&report),
        Some(CauseId::HttpUpgradeIgnored),
        "{}",
        dump(&report)
    );
}

#[tokio::test]
async fn server_error() {
    let scenario = Scenario::tls(Behavior::status(502, "Bad Gateway", ""), Served::FullChain).await;
    expect_failure("server_error", &scenario, CauseId::HttpServerError).await;
}

#[tokio::test]
async fn wrong_accept_key() {
    let scenario = Scenario::tls(Behavior::WrongAccept, Served::FullChain).await;
    let report = expect_failure("wrong_accept_key", &scenario, CauseId::WsBadAccept).await;
    assert_eq!(
        report.check(CheckId::Websocket).unwrap().status,
        Status::Skip
    );
}

#[tokio::test]
async fn close_on_connect() {
    let scenario = Scenario::tls(Behavior::CloseOnConnect, Served::FullChain).await;
    let report = expect_failure("close_on_connect", &scenario, CauseId::WsClosedOnConnect).await;
    assert!(
        report.diagnosis.causes[0].summary.contains("1008"),
        "{}",
        dump(&report)
    );
}

#[tokio::test]
async fn close_after_start() {
    let scenario = Scenario::tls(Behavior::CloseAfterStart, Served::FullChain).await;
    let report = expect_failure("close_after_start", &scenario, CauseId::StreamRejected).await;
    let summary = &report.diagnosis.causes[0].summary;
    assert!(
        summary.contains("`start`") && summary.contains("1003"),
        "{summary}"
    );
}

#[tokio::test]
async fn exact_match_path_route() {
    let scenario = Scenario::tls(
        Behavior::ExactPath("/api/calls/:id/audio".into()),
        Served::FullChain,
    )
    .await;
    let report = expect_failure("exact_match_path_route", &scenario, CauseId::WsPathMismatch).await;
    let cause = &report.diagnosis.causes[0];
    assert!(
        cause.summary.contains("/api/calls/:id/audio"),
        "{}",
        cause.summary
    );
    assert!(cause.fix.contains("exact match"), "{}", cause.fix);
    // The 400 is the symptom; the mismatch replaces it.
    assert!(
        !report
            .diagnosis
            .causes
            .iter()
            .any(|c| c.id == CauseId::HttpUpgradeRejected)
    );
}

#[tokio::test]
async fn refused_port() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let report = run_url(
        &format!("ws://127.0.0.1:{port}/audio"),
        &CheckOptions::default(),
    )
    .await;
    golden("refused_port", &report, &CheckOptions::default());
    assert_eq!(
        first_failure(&report),
        Some(CauseId::TcpRefused),
        "{}",
        dump(&report)
    );
    assert_eq!(report.check(CheckId::Upgrade).unwrap().status, Status::Skip);
}

#[tokio::test]
async fn template_left_in_the_url() {
    let scenario = Scenario::tls(Behavior::Healthy, Served::FullChain).await;
    let url = format!(
        "wss://{HOST}:{}/api/calls/{{callSessionId}}/audio",
        scenario.server.addr().port()
    );
    let report = run_url(&url, &scenario.options()).await;
    golden("template_left_in_the_url", &report, &scenario.options());
    assert_eq!(
        first_cause(&report),
        Some(CauseId::UrlTemplateUnexpanded),
        "{}",
        dump(&report)
    );
    // The other checks still ran: the server itself is fine.
    assert_eq!(report.check(CheckId::Upgrade).unwrap().status, Status::Pass);
}

#[tokio::test]
async fn unresolvable_name() {
    let report = run_url("wss://no-such-host.invalid/audio", &CheckOptions::default()).await;
    golden("unresolvable_name", &report, &CheckOptions::default());
    assert_eq!(
        first_cause(&report),
        Some(CauseId::DnsNoRecords),
        "{}",
        dump(&report)
    );
    assert_eq!(report.check(CheckId::Tcp).unwrap().status, Status::Skip);
}

#[tokio::test]
async fn not_a_url() {
    for (i, raw) in ["not a url", "https://example.com/audio", "wss://"]
        .into_iter()
        .enumerate()
    {
        let report = run_url(raw, &CheckOptions::default()).await;
        golden(&format!("not_a_url_{i}"), &report, &CheckOptions::default());
        assert_eq!(
            first_cause(&report),
            Some(CauseId::UrlInvalid),
            "{raw}: {}",
            dump(&report)
        );
        assert!(report.checks[1..].iter().all(|c| c.status == Status::Skip));
    }
}

#[tokio::test]
async fn auth_token_is_sent_as_telnyx_sends_it() {
    let scenario = Scenario::tls(
        Behavior::RequireToken("tok-123-secret".into()),
        Served::FullChain,
    )
    .await;
    let without = scenario.run().await;
    golden("auth_token_missing", &without, &scenario.options());
    assert_eq!(
        first_failure(&without),
        Some(CauseId::HttpAuthRequired),
        "{}",
        dump(&without)
    );
    let mut options = scenario.options();
    options.auth_token = Some(stream_doctor::secret::Secret::new("tok-123-secret"));
    let with = scenario.run_with(options.clone()).await;
    golden("auth_token_sent", &with, &options);
    assert!(with.diagnosis.reachable, "{}", dump(&with));
    assert!(
        !dump(&with).contains("tok-123-secret"),
        "the token leaked into the report"
    );
}

/// Hostile servers end in a named cause within the deadline, never a hang or a panic.
#[tokio::test]
async fn hostile_servers_end_in_a_named_cause() {
    let cases = [
        (Behavior::Garbage, CauseId::HttpMalformedResponse),
        (Behavior::HugeHeaders, CauseId::HttpMalformedResponse),
        (Behavior::Trickle, CauseId::WsHandshakeTimeout),
    ];
    for (i, (behavior, cause)) in cases.into_iter().enumerate() {
        let scenario = Scenario::tls(behavior.clone(), Served::FullChain).await;
        let mut options = scenario.options();
        options.timeout = Duration::from_secs(1);
        let started = Instant::now();
        let report = scenario.run_with(options.clone()).await;
        golden(&format!("hostile_server_{i}"), &report, &options);
        assert_eq!(
            first_cause(&report),
            Some(cause),
            "{behavior:?}: {}",
            dump(&report)
        );
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "{behavior:?} took {:?}",
            started.elapsed()
        );
    }
}

/// A listener whose accept queue is full drops new SYNs: the connect is never answered.
#[tokio::test]
async fn no_answer_to_connect_is_a_tcp_timeout() {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = socket.local_addr().unwrap();
    let _listener = socket.listen(1).unwrap();
    // Fill the accept queue; nobody ever accepts.
    let mut held = Vec::new();
    for _ in 0..4 {
        if let Ok(Ok(stream)) = tokio::time::timeout(
            Duration::from_millis(300),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            held.push(stream);
        }
    }
    let options = CheckOptions {
        timeout: Duration::from_millis(700),
        ..CheckOptions::default()
    };
    let started = Instant::now();
    let report = run_url(&format!("ws://{addr}/audio"), &options).await;
    golden("no_answer_to_connect_is_a_tcp_timeout", &report, &options);
    assert_eq!(
        first_failure(&report),
        Some(CauseId::TcpTimeout),
        "{}",
        dump(&report)
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// A machine without a route to IPv6 (a CI runner, say) tries only the IPv4 addresses and
/// says so, instead of failing the AAAA ones.
#[tokio::test]
async fn a_vantage_without_ipv6_leaves_aaaa_addresses_out_and_says_so() {
    let scenario = Scenario::plain(Behavior::Healthy).await;
    let mut options = scenario.options();
    // First, so Happy Eyeballs would try it first.
    options.resolve.insert(
        0,
        stream_doctor::records::address::ResolvePin {
            host: HOST.into(),
            port: scenario.server.addr().port(),
            addr: "2001:db8::1".parse().unwrap(),
        },
    );
    options.ipv6_route = Some(false);
    let report = scenario.run_with(options.clone()).await;
    let dns = report.check(CheckId::Dns).unwrap().details.dns().unwrap();
    assert_eq!(dns.addresses.len(), 2);
    let note = dns.aaaa_not_tried.clone().expect("the note");
    assert!(note.contains("1 AAAA address(es) were not tried"), "{note}");
    let tcp = report.check(CheckId::Tcp).unwrap();
    assert_eq!(tcp.status, Status::Pass, "{}", tcp.summary);
    let tried = |report: &stream_doctor::diagnosis::CheckReport| -> Vec<bool> {
        let tcp = report.check(CheckId::Tcp).unwrap().details.tcp().unwrap();
        tcp.attempts.iter().map(|a| a.address.is_ipv6()).collect()
    };
    assert_eq!(tried(&report), [false], "only IPv4 tried");

    options.ipv6_route = None;
    let report = scenario.run_with(options).await;
    let dns = report.check(CheckId::Dns).unwrap().details.dns().unwrap();
    assert_eq!(dns.aaaa_not_tried, None, "not asked: nothing said");
    assert_eq!(
        tried(&report).first(),
        Some(&true),
        "IPv6 tried first when not told otherwise"
    );
}
