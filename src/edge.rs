//! Who answered: the hosting platform's edge, a CDN, a proxy or tunnel, or the user's own app,
//! told from what came back (response headers, the edge's own error pages), from the names a
//! certificate covers, and from the host names a DNS name leads to. The fingerprints are the
//! documented ones (docs/platforms.md); each verdict says what it rests on.

use serde::{Deserialize, Serialize};

/// What kind of party produced an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnswererKind {
    Platform,
    Cdn,
    Proxy,
    App,
    Unknown,
}

/// `answered_by` in the evidence: who, and the signal it was told from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnsweredBy {
    pub kind: AnswererKind,
    pub name: String,
    pub because: String,
    /// The platform an app's answer came through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

impl AnsweredBy {
    pub(crate) fn new(kind: AnswererKind, name: &str, because: impl Into<String>) -> Self {
        Self {
            kind,
            name: name.to_string(),
            because: because.into(),
            via: None,
        }
    }

    /// The party in words: "Railway's edge", "Cloudflare", "nginx", "your app (uvicorn)".
    pub(crate) fn describe(&self) -> String {
        let shown = match Platform::named(&self.name) {
            Some(platform) => platform.title(),
            None => self.name.as_str(),
        };
        match self.kind {
            AnswererKind::Platform => format!("{shown}'s edge"),
            AnswererKind::Cdn | AnswererKind::Proxy => shown.to_string(),
            AnswererKind::App if self.name == "app" => "your app".to_string(),
            AnswererKind::App => format!("your app ({shown})"),
            AnswererKind::Unknown => "an unidentified server".to_string(),
        }
    }

    /// The platform this answer came from or through, when it is one the tool knows.
    pub(crate) fn platform(&self) -> Option<Platform> {
        Platform::named(&self.name).or_else(|| self.via.as_deref().and_then(Platform::named))
    }
}

/// The hosting platforms, CDNs and tunnels the tool recognises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Platform {
    Railway,
    Render,
    Fly,
    Heroku,
    Cloudflare,
    Ngrok,
}

impl Platform {
    pub(crate) const ALL: [Platform; 6] = [
        Platform::Railway,
        Platform::Render,
        Platform::Fly,
        Platform::Heroku,
        Platform::Cloudflare,
        Platform::Ngrok,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Platform::Railway => "railway",
            Platform::Render => "render",
            Platform::Fly => "fly",
            Platform::Heroku => "heroku",
            Platform::Cloudflare => "cloudflare",
            Platform::Ngrok => "ngrok",
        }
    }

    pub(crate) fn title(self) -> &'static str {
        match self {
            Platform::Railway => "Railway",
            Platform::Render => "Render",
            Platform::Fly => "Fly.io",
            Platform::Heroku => "Heroku",
            Platform::Cloudflare => "Cloudflare",
            Platform::Ngrok => "ngrok",
        }
    }

    fn named(name: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.name() == name)
    }

    fn kind(self) -> AnswererKind {
        match self {
            Platform::Cloudflare => AnswererKind::Cdn,
            Platform::Ngrok => AnswererKind::Proxy,
            _ => AnswererKind::Platform,
        }
    }

    /// The platform's own host names, which its default certificate covers.
    pub(crate) fn host_suffixes(self) -> &'static [&'static str] {
        match self {
            Platform::Railway => &["up.railway.app", "railway.app"],
            Platform::Render => &["onrender.com"],
            Platform::Fly => &["fly.dev"],
            Platform::Heroku => &["herokuapp.com", "herokudns.com"],
            Platform::Cloudflare => &["cdn.cloudflare.net", "cloudflare.net", "workers.dev"],
            Platform::Ngrok => &[
                "ngrok-free.app",
                "ngrok.app",
                "ngrok.io",
                "ngrok-free.dev",
                "ngrok.dev",
            ],
        }
    }

    /// How long the edge keeps a connection that carries nothing, where the platform
    /// documents it (docs/platforms.md).
    pub(crate) fn idle_limit_secs(self) -> Option<u64> {
        match self {
            Platform::Fly => Some(60),
            Platform::Heroku => Some(55),
            Platform::Railway => Some(60),
            _ => None,
        }
    }

    fn answered(self, because: impl Into<String>) -> AnsweredBy {
        AnsweredBy::new(self.kind(), self.name(), because)
    }
}

/// The platform whose own domain `host` is under.
pub(crate) fn platform_of_host(host: &str) -> Option<Platform> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    Platform::ALL.into_iter().find(|p| {
        p.host_suffixes()
            .iter()
            .any(|suffix| host == *suffix || host.ends_with(&format!(".{suffix}")))
    })
}

/// Who a chain of DNS names leads to: the first one under a platform's domain.
pub(crate) fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<AnsweredBy> {
    names.into_iter().find_map(|name| {
        platform_of_host(name).map(|p| p.answered(format!("the name leads to {name}")))
    })
}

/// The platform a certificate belongs to, from the names it covers.
pub(crate) fn from_certificate(names: &[String]) -> Option<AnsweredBy> {
    names.iter().find_map(|name| {
        platform_of_host(name.trim_start_matches("*."))
            .map(|p| p.answered(format!("its certificate is for {name}")))
    })
}

/// The platform whose wildcard alone a certificate covers (`*.up.railway.app`), when `host`
/// is not one of its names: the platform's default certificate on a custom domain.
pub(crate) fn default_certificate(names: &[String], host: &str) -> Option<Platform> {
    if names.is_empty() || platform_of_host(host).is_some() {
        return None;
    }
    let platforms: Vec<Option<Platform>> = names
        .iter()
        .map(|n| platform_of_host(n.trim_start_matches("*.")))
        .collect();
    let first = platforms.first().copied().flatten()?;
    platforms.iter().all(|p| *p == Some(first)).then_some(first)
}

/// What an edge's own error page says about the app behind it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EdgeSignal {
    /// The edge reached no process on the port it forwards to.
    AppNotListening,
    /// The edge knows no app for this host (or it sleeps: the same page).
    NoAppForDomain,
    /// A bot check or block page instead of the app.
    Challenge,
    /// A tunnel whose agent is gone.
    TunnelOffline,
}

/// A response, as the fingerprints need it.
pub(crate) struct Response<'a> {
    pub status: u16,
    pub headers: &'a [(String, String)],
    pub body: &'a str,
}

impl Response<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn has(&self, name: &str) -> bool {
        self.header(name).is_some()
    }

    fn body_has(&self, text: &str) -> bool {
        self.body.contains(text)
    }
}

/// An edge's own answer: which edge, and what it says. None when the answer came from further
/// in (or cannot be told).
pub(crate) fn edge_answer(r: &Response<'_>) -> Option<(EdgeSignal, AnsweredBy)> {
    let challenge = r
        .header("cf-mitigated")
        .is_some_and(|v| v.eq_ignore_ascii_case("challenge"))
        || [
            "challenge-platform",
            "Just a moment...",
            "Attention Required!",
            "cf-chl-",
        ]
        .iter()
        .any(|marker| r.body_has(marker))
        || (r.body_has("Checking your browser") || r.body_has("Under Attack"));
    if challenge && matches!(r.status, 403 | 429 | 503) {
        let by = platform_headers(r)
            .unwrap_or_else(|| Platform::Cloudflare.answered("a browser challenge page"));
        return Some((EdgeSignal::Challenge, by));
    }
    if r.body_has("Application failed to respond") {
        let because = "the page \"Application failed to respond\"";
        return Some((
            EdgeSignal::AppNotListening,
            Platform::Railway.answered(because),
        ));
    }
    if r.status == 404 && r.body_has("Application not found") {
        let because = "the page \"Application not found\"";
        return Some((
            EdgeSignal::NoAppForDomain,
            Platform::Railway.answered(because),
        ));
    }
    let heroku_page = r.body_has("herokucdn.com/error-pages") || r.body_has("Heroku | ");
    if (heroku_page && r.body_has("no-such-app")) || r.body_has("There's nothing here, yet") {
        let because = "Heroku's \"There's nothing here\" page";
        return Some((
            EdgeSignal::NoAppForDomain,
            Platform::Heroku.answered(because),
        ));
    }
    if heroku_page && (r.body_has("Application Error") || r.status == 503) {
        let because = "Heroku's \"Application Error\" page (H10/H13 in the router log)";
        return Some((
            EdgeSignal::AppNotListening,
            Platform::Heroku.answered(because),
        ));
    }
    if r.body_has("no known healthy") || r.body_has("no healthy machines") {
        let because = "Fly.io's \"no healthy machines\" answer";
        return Some((EdgeSignal::AppNotListening, Platform::Fly.answered(because)));
    }
    let ngrok_code = r
        .header("ngrok-error-code")
        .map(str::to_string)
        .or_else(|| {
            ["ERR_NGROK_3200", "ERR_NGROK_8012"]
                .into_iter()
                .find(|code| r.body_has(code))
                .map(str::to_string)
        });
    if let Some(code) = ngrok_code {
        let signal = if code == "ERR_NGROK_8012" {
            EdgeSignal::AppNotListening
        } else {
            EdgeSignal::TunnelOffline
        };
        return Some((
            signal,
            Platform::Ngrok.answered(format!("ngrok error {code}")),
        ));
    }
    None
}

/// The platform a response passed through, told from the headers its edge adds.
fn platform_headers(r: &Response<'_>) -> Option<AnsweredBy> {
    let header_is = |name: &str, p: Platform| r.has(name).then(|| (p, format!("header {name}")));
    let value_has = |name: &str, text: &str, p: Platform| {
        r.header(name)
            .filter(|v| v.to_ascii_lowercase().contains(text))
            .map(|v| (p, format!("{name}: {v}")))
    };
    let (platform, because) = header_is("x-railway-edge", Platform::Railway)
        .or_else(|| header_is("x-railway-request-id", Platform::Railway))
        .or_else(|| value_has("server", "railway", Platform::Railway))
        .or_else(|| header_is("rndr-id", Platform::Render))
        .or_else(|| header_is("x-render-origin-server", Platform::Render))
        .or_else(|| header_is("fly-request-id", Platform::Fly))
        .or_else(|| value_has("via", "fly.io", Platform::Fly))
        .or_else(|| value_has("server", "fly/", Platform::Fly))
        .or_else(|| value_has("via", "vegur", Platform::Heroku))
        .or_else(|| value_has("via", "heroku", Platform::Heroku))
        .or_else(|| header_is("ngrok-trace-id", Platform::Ngrok))
        .or_else(|| header_is("cf-ray", Platform::Cloudflare))
        .or_else(|| value_has("server", "cloudflare", Platform::Cloudflare))?;
    Some(platform.answered(because))
}

/// The server software an answer names, when it is an app server (not a proxy).
fn app_software(r: &Response<'_>) -> Option<AnsweredBy> {
    const APP_SERVERS: [&str; 10] = [
        "uvicorn",
        "hypercorn",
        "gunicorn",
        "daphne",
        "werkzeug",
        "kestrel",
        "jetty",
        "tornado",
        "websockets",
        "aiohttp",
    ];
    if let Some(server) = r.header("server") {
        let lower = server.to_ascii_lowercase();
        if let Some(name) = APP_SERVERS.iter().find(|s| lower.contains(*s)) {
            let because = format!("server: {server}");
            return Some(AnsweredBy::new(AnswererKind::App, name, because));
        }
    }
    if let Some(powered) = r.header("x-powered-by") {
        let name = powered.to_ascii_lowercase();
        let because = format!("x-powered-by: {powered}");
        return Some(AnsweredBy::new(AnswererKind::App, &name, because));
    }
    None
}

/// The proxy software that wrote an answer itself (its own error page).
fn proxy_page(r: &Response<'_>) -> Option<AnsweredBy> {
    let server = r.header("server").unwrap_or_default().to_ascii_lowercase();
    for proxy in ["nginx", "openresty", "envoy", "traefik", "caddy", "apache"] {
        let page = r.body_has(&format!("<center>{proxy}")) || server.starts_with(proxy);
        if page && r.status != 101 {
            let because = if server.starts_with(proxy) {
                format!("server: {}", r.header("server").unwrap_or_default())
            } else {
                format!("{proxy}'s own error page")
            };
            return Some(AnsweredBy::new(AnswererKind::Proxy, proxy, because));
        }
    }
    None
}

/// Whether a server's first WebSocket message is an Engine.IO open packet (`0{"sid":…}`),
/// which only a Socket.IO server sends.
pub(crate) fn engine_io_open(text: &str) -> bool {
    text.strip_prefix('0')
        .and_then(|rest| serde_json::from_str::<serde_json::Value>(rest).ok())
        .is_some_and(|open| open.get("sid").is_some_and(serde_json::Value::is_string))
}

/// Who produced this response: an edge's own page, the app (through whatever edge), a proxy.
pub(crate) fn from_response(r: &Response<'_>) -> Option<AnsweredBy> {
    if let Some((_, by)) = edge_answer(r) {
        return Some(by);
    }
    let to_https = r
        .header("location")
        .is_some_and(|l| l.starts_with("https://"));
    if (300..400).contains(&r.status) && to_https {
        // Edges send plain HTTP (and ws://) to HTTPS themselves.
        if let Some(edge) = platform_headers(r) {
            let because = format!("its redirect to HTTPS ({})", edge.because);
            return Some(AnsweredBy { because, ..edge });
        }
    }
    if let Some(app) = app_software(r) {
        return Some(app);
    }
    if let Some(proxy) = proxy_page(r) {
        return Some(proxy);
    }
    let edge = platform_headers(r)?;
    // The edge forwarded it and did not write it: the app behind it answered.
    let because = format!("passed through {} ({})", edge.describe(), edge.because);
    Some(AnsweredBy {
        via: Some(edge.name),
        ..AnsweredBy::new(AnswererKind::App, "app", because)
    })
}

/// The edge a request crossed before it reached a listener, from the headers edges add.
pub(crate) fn from_request(headers: &[(String, String)]) -> Option<AnsweredBy> {
    let request = Response {
        status: 0,
        headers,
        body: "",
    };
    platform_headers(&request).or_else(|| {
        let header = |name: &str| request.header(name).map(str::to_string);
        header("fly-client-ip")
            .map(|_| Platform::Fly.answered("header fly-client-ip"))
            .or_else(|| {
                header("x-forwarded-for").map(|_| {
                    AnsweredBy::new(AnswererKind::Proxy, "proxy", "header x-forwarded-for")
                })
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    fn who(status: u16, pairs: &[(&str, &str)], body: &str) -> Option<(AnswererKind, String)> {
        let headers = headers(pairs);
        let response = Response {
            status,
            headers: &headers,
            body,
        };
        from_response(&response).map(|a| (a.kind, a.name))
    }

    /// One fingerprint a row, from docs/platforms.md.
    #[test]
    fn each_fingerprint_names_its_party() {
        use AnswererKind::*;
        let railway_404 =
            r#"{"status":"error","code":404,"message":"Application not found","request_id":"x"}"#;
        type Row<'a> = (u16, Vec<(&'a str, &'a str)>, &'a str, AnswererKind, &'a str);
        let table: Vec<Row> = vec![
            (
                502,
                vec![("server", "railway-edge")],
                "<h1>Application failed to respond</h1>",
                Platform,
                "railway",
            ),
            (404, vec![], railway_404, Platform, "railway"),
            (
                404,
                vec![("x-railway-edge", "railway/us-west2")],
                "{\"detail\":\"Not Found\"}",
                App,
                "app",
            ),
            (
                404,
                vec![
                    ("x-railway-edge", "railway/us-west2"),
                    ("server", "uvicorn"),
                ],
                "{}",
                App,
                "uvicorn",
            ),
            (
                301,
                vec![("rndr-id", "abc"), ("location", "https://x.onrender.com/a")],
                "",
                Platform,
                "render",
            ),
            (
                200,
                vec![("rndr-id", "abc"), ("cf-ray", "1-AMS")],
                "ok",
                App,
                "app",
            ),
            (
                503,
                vec![("via", "1.1 vegur")],
                "<iframe src=\"//www.herokucdn.com/error-pages/application-error.html\">Application Error",
                Platform,
                "heroku",
            ),
            (
                503,
                vec![("fly-request-id", "01H")],
                "no known healthy instances found",
                Platform,
                "fly",
            ),
            (
                403,
                vec![("server", "cloudflare"), ("cf-mitigated", "challenge")],
                "<title>Just a moment...</title>",
                Cdn,
                "cloudflare",
            ),
            (
                404,
                vec![("ngrok-error-code", "ERR_NGROK_3200")],
                "The endpoint is offline",
                Proxy,
                "ngrok",
            ),
            (
                502,
                vec![("server", "nginx/1.24.0")],
                "<center>nginx/1.24.0</center>",
                Proxy,
                "nginx",
            ),
            (
                200,
                vec![("x-powered-by", "Express")],
                "Cannot GET",
                App,
                "express",
            ),
        ];
        for (status, pairs, body, kind, name) in table {
            assert_eq!(
                who(status, &pairs, body),
                Some((kind, name.to_string())),
                "{status} {pairs:?} {body}"
            );
        }
        assert_eq!(who(400, &[], "Bad Request"), None, "nothing to tell by");
    }

    #[test]
    fn edge_pages_say_what_is_wrong() {
        let page = |status, body: &str| {
            edge_answer(&Response {
                status,
                headers: &[],
                body,
            })
            .map(|(signal, _)| signal)
        };
        assert_eq!(
            page(502, "Application failed to respond"),
            Some(EdgeSignal::AppNotListening)
        );
        assert_eq!(
            page(404, r#"{"message":"Application not found"}"#),
            Some(EdgeSignal::NoAppForDomain)
        );
        assert_eq!(
            page(403, "<div id=\"challenge-platform\">"),
            Some(EdgeSignal::Challenge)
        );
        assert_eq!(page(404, "Not Found"), None);
    }

    #[test]
    fn names_and_certificates_name_the_platform() {
        assert_eq!(
            platform_of_host("app-1.up.railway.app"),
            Some(Platform::Railway)
        );
        assert_eq!(platform_of_host("x.onrender.com."), Some(Platform::Render));
        assert_eq!(platform_of_host("api.example.com"), None);
        let chain = ["api.example.com", "app-1.up.railway.app"];
        let by = from_names(chain).expect("railway");
        assert_eq!(
            (by.kind, by.name.as_str()),
            (AnswererKind::Platform, "railway")
        );
        assert_eq!(by.describe(), "Railway's edge");
        let railway = vec!["*.up.railway.app".to_string()];
        assert_eq!(
            default_certificate(&railway, "api.example.com"),
            Some(Platform::Railway)
        );
        assert_eq!(default_certificate(&railway, "x.up.railway.app"), None);
        let own = vec!["api.example.com".to_string()];
        assert_eq!(default_certificate(&own, "other.example.com"), None);
    }

    #[test]
    fn a_request_tells_the_edge_it_crossed() {
        let railway = headers(&[
            ("X-Railway-Edge", "railway/europe-west4"),
            ("X-Real-IP", "1.2.3.4"),
        ]);
        assert_eq!(
            from_request(&railway).map(|a| a.name),
            Some("railway".to_string())
        );
        let fly = headers(&[("Fly-Client-IP", "1.2.3.4")]);
        assert_eq!(from_request(&fly).map(|a| a.name), Some("fly".to_string()));
        assert_eq!(from_request(&[]), None);
    }
}
