//! Shared pieces of the integration tests: real targets on 127.0.0.1 with certificates made
//! at test time, and a way to run every check against them.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

#[cfg(feature = "gui")]
pub mod app;
pub mod dns;
pub mod telnyx_api;

use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use stream_doctor::catalog::CauseId;
use stream_doctor::check::options::CheckOptions;
use stream_doctor::demo::certs::{self, Pki, Served};
use stream_doctor::demo::{Behavior, DemoServer};
use stream_doctor::diagnosis::CheckReport;
use stream_doctor::probe;
use stream_doctor::records::address::ResolvePin;

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

/// A port the OS picked and let go, for a process the test starts to bind.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// What `replay` sends as Telnyx would: a 440 Hz tone of `seconds` in PCMU on the inbound
/// track, one stream, a 5 s deadline, carrying `call_id` when given.
pub fn tone_replay(
    url: String,
    seconds: f64,
    pace: stream_doctor::stream::replay::Pace,
    call_id: Option<&str>,
) -> stream_doctor::stream::replay::ReplayOptions {
    use stream_doctor::stream::replay::{ReplayOptions, Source, Tracks};
    ReplayOptions {
        url,
        protocol: stream_doctor::catalog::Provider::Telnyx,
        codec: stream_doctor::audio::Codec::Pcmu,
        source: Source::Tone {
            freq_hz: 440.0,
            seconds,
        },
        tracks: Tracks::Inbound,
        pace,
        streams: 1,
        timeout: Duration::from_secs(5),
        resolve: Vec::new(),
        extra_roots: Vec::new(),
        auth_token: None,
        twilio_auth_token: None,
        call_id: call_id.map(str::to_string),
        custom_parameters: Default::default(),
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
        .find(|c| c.severity == stream_doctor::catalog::Severity::Fail)
        .map(|c| c.id)
}

/// A readable dump for assertion messages.
pub fn dump(report: &CheckReport) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default()
}

/// The session JSON `check --format json` prints for this run, compared with
/// `tests/golden/NAME.json` after normalising what changes from run to run (times, ports,
/// dates, WebSocket keys, byte counts of timed-out reads). `UPDATE_GOLDEN=1` rewrites the file.
/// The golden files pin the public JSON: a refactor of the evidence must keep them passing.
pub fn golden(name: &str, report: &CheckReport, options: &CheckOptions) {
    use stream_doctor::report::{Format, render, text};
    use stream_doctor::session::{Session, SessionOptions};
    let session = Session::from_check(report, SessionOptions::from_check(options, None));
    // What people read never holds a library's debug output.
    let renderings = [
        ("text", text::render(report)),
        (
            "markdown",
            render(&session, Format::Markdown, &Default::default()),
        ),
        ("html", render(&session, Format::Html, &Default::default())),
    ];
    for (format, shown) in renderings {
        for debug in ["Error(", "Other("] {
            assert!(
                !shown.contains(debug),
                "{name}: the {format} rendering shows '{debug}':\n{shown}"
            );
        }
    }
    golden_session(name, &session);
}

/// A whole session (streams, manual steps, timeline) against `tests/golden/NAME.json`, byte
/// for byte as the JSON renderer wrote it (key order and layout included), after `normalise`
/// has replaced the values that change from run to run.
pub fn golden_session(name: &str, session: &stream_doctor::session::Session) {
    use stream_doctor::report::{Format, render};
    let rendered = render(session, Format::Json, &Default::default());
    let _: serde_json::Value = serde_json::from_str(&rendered).expect("the session JSON parses");
    let got = normalise(&rendered);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.json"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    if got != want {
        let diff: Vec<String> = want
            .lines()
            .zip(got.lines())
            .enumerate()
            .filter(|(_, (w, g))| w != g)
            .take(12)
            .map(|(i, (w, g))| format!("line {}:\n  want {w}\n  got  {g}", i + 1))
            .collect();
        panic!(
            "{name}: the JSON differs from {} ({} vs {} lines)\n{}",
            path.display(),
            want.lines().count(),
            got.lines().count(),
            diff.join("\n")
        );
    }
}

/// The rendered JSON with only its volatile values replaced, in place, so everything else
/// (keys, their order, layout, every other value) is compared as written. Volatile are:
/// durations (`*_ms`), ports and the byte count of a timed-out read (the OS picks ports and
/// how much arrives before a deadline), run times (`started_at`, `ended_at`), certificate
/// dates and fingerprints (certificates are made at test time), random stream and call ids
/// and timeline times (`stream_id`, `call_control_id`, `at`), and inside strings the same
/// things as people read them (`normalise_text`).
fn normalise(json: &str) -> String {
    use std::sync::LazyLock;
    static KEYS: LazyLock<Vec<(regex::Regex, &str)>> = LazyLock::new(|| {
        [
            (r#""([a-z_]*_ms)": -?[0-9][0-9.eE+-]*"#, r#""$1": 0"#),
            (r#""(received_bytes|port)": [0-9]+"#, r#""$1": 0"#),
            (r#""(started_at|ended_at)": "[^"]*""#, r#""$1": "TIME""#),
            (r#""(not_before|not_after)": "[^"]*""#, r#""$1": "DATE""#),
            (r#""sha256": "[^"]*""#, r#""sha256": "FINGERPRINT""#),
            (
                r#""(stream_id|call_control_id|at)": "[^"]*""#,
                r#""$1": "ID""#,
            ),
        ]
        .into_iter()
        .map(|(pattern, with)| (regex::Regex::new(pattern).unwrap(), with))
        .collect()
    });
    let keyed = KEYS.iter().fold(json.to_string(), |text, (rule, with)| {
        rule.replace_all(&text, *with).into_owned()
    });
    normalise_text(&keyed)
}

fn normalise_text(text: &str) -> String {
    use std::sync::LazyLock;
    static RULES: LazyLock<Vec<(regex::Regex, &str)>> = LazyLock::new(|| {
        [
            (
                r"(127\.0\.0\.1|stream\.test|demo\.stream-doctor\.test):\d+",
                "$1:PORT",
            ),
            (r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?Z", "DATE"),
            (r"\d+(\.\d+)? ms\b", "N ms"),
            (r"\d+ byte\(s\)", "N byte(s)"),
            (r"time \d+ \(UNIX\)", "time N (UNIX)"),
            (r"\d+ seconds ago", "N seconds ago"),
            (r"[A-Za-z0-9+/]{22}==", "KEY"),
            (r"[A-Za-z0-9+/]{27}=", "ACCEPT"),
        ]
        .into_iter()
        .map(|(pattern, with)| (regex::Regex::new(pattern).unwrap(), with))
        .collect()
    });
    RULES.iter().fold(text.to_string(), |text, (rule, with)| {
        rule.replace_all(&text, *with).into_owned()
    })
}
