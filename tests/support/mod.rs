//! Shared pieces of the integration tests: real targets on 127.0.0.1 with certificates made
//! at test time, and a way to run every check against them.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

#[cfg(feature = "gui")]
pub mod app;

use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use stream_doctor::check::CheckReport;
use stream_doctor::demo::certs::{self, Pki, Served};
use stream_doctor::demo::{Behavior, DemoServer};
use stream_doctor::diagnosis::CauseId;
use stream_doctor::probe::{self, CheckOptions, ResolvePin};

/// The name tests connect to; always pinned to 127.0.0.1, never looked up.
pub const HOST: &str = "stream.test";
pub const PATH: &str = "/api/calls/123/audio";

pub struct Scenario {
    pub server: DemoServer,
    pub pki: Pki,
    pub secure: bool,
}

impl Scenario {
    pub async fn plain(behavior: Behavior) -> Self {
        let pki = Pki::generate().unwrap();
        let server = DemoServer::start(behavior, None).await.unwrap();
        Self {
            server,
            pki,
            secure: false,
        }
    }

    pub async fn tls(behavior: Behavior, served: Served) -> Self {
        Self::tls_alpn(behavior, served, &[b"http/1.1"]).await
    }

    pub async fn tls_alpn(behavior: Behavior, served: Served, alpn: &[&[u8]]) -> Self {
        let pki = Pki::generate().unwrap();
        let config = certs::server_config(pki.serve(HOST, served).unwrap(), alpn).unwrap();
        Self::with_config(behavior, pki, config).await
    }

    pub async fn with_config(behavior: Behavior, pki: Pki, config: Arc<ServerConfig>) -> Self {
        let server = DemoServer::start(behavior, Some(config)).await.unwrap();
        Self {
            server,
            pki,
            secure: true,
        }
    }

    /// A plain listener probed with `wss://`: plain HTTP on the TLS port.
    pub async fn plain_probed_as_tls(behavior: Behavior) -> Self {
        let mut scenario = Self::plain(behavior).await;
        scenario.secure = true;
        scenario
    }

    pub fn url(&self) -> String {
        let scheme = if self.secure { "wss" } else { "ws" };
        format!("{scheme}://{HOST}:{}{PATH}", self.server.addr().port())
    }

    /// Options that pin the name to the server and trust the test root, quick to time out.
    pub fn options(&self) -> CheckOptions {
        CheckOptions {
            timeout: Duration::from_secs(2),
            observe: Duration::from_millis(300),
            resolve: vec![ResolvePin {
                host: HOST.into(),
                port: self.server.addr().port(),
                addr: self.server.addr().ip(),
            }],
            extra_roots: vec![self.pki.root_der()],
            ..CheckOptions::default()
        }
    }

    pub async fn run(&self) -> CheckReport {
        self.run_with(self.options()).await
    }

    pub async fn run_with(&self, options: CheckOptions) -> CheckReport {
        run_url(&self.url(), &options).await
    }
}

pub async fn run_url(url: &str, options: &CheckOptions) -> CheckReport {
    probe::run(url, options, &|_| {}).await
}

/// The verdict's cause id.
pub fn first_cause(report: &CheckReport) -> Option<CauseId> {
    report.diagnosis.verdict().map(|c| c.id)
}

/// The first cause of severity `fail`, skipping the loopback warning every local run has.
pub fn first_failure(report: &CheckReport) -> Option<CauseId> {
    report
        .diagnosis
        .causes
        .iter()
        .find(|c| c.severity == stream_doctor::diagnosis::Severity::Fail)
        .map(|c| c.id)
}

/// A readable dump for assertion messages.
pub fn dump(report: &CheckReport) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default()
}
