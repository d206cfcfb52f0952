//! The `tls` check: a handshake as the provider makes it (public roots, ALPN `http/1.1`), over
//! the connection the `tcp` check opened. It captures the chain the server actually sent, even
//! when verification rejects it, and names what is wrong: expiry, host name, self-signed,
//! private root, incomplete chain, HTTP/2-only ALPN, plain HTTP on the port, or no handshake.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{AlertDescription, CertificateError, DigitallySignedStruct, SignatureScheme};
use serde::Serialize;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::connect::{self, BoxedIo};
use super::url::Target;
use crate::check::{CheckId, CheckResult, Finding, millis};
use crate::diagnosis::CauseId;

/// What one certificate of the served chain says, for the evidence table.
#[derive(Clone, Debug, Serialize)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub names: Vec<String>,
    pub not_before: String,
    pub not_after: String,
    /// Seconds since the Unix epoch, for checks on validity.
    #[serde(skip)]
    pub not_before_unix: i64,
    #[serde(skip)]
    pub not_after_unix: i64,
    pub is_ca: bool,
    pub self_signed: bool,
}

/// Parses a DER certificate; the error says why it is not one.
pub fn cert_info(der: &[u8]) -> Result<CertInfo, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| format!("certificate does not parse: {e}"))?;
    let names = match cert.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .filter_map(|name| match name {
                x509_parser::extensions::GeneralName::DNSName(d) => Some(d.to_string()),
                x509_parser::extensions::GeneralName::IPAddress(ip) => ip_text(ip),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let validity = cert.validity();
    let subject = cert.subject().to_string();
    let issuer = cert.issuer().to_string();
    Ok(CertInfo {
        self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
        subject,
        issuer,
        names,
        not_before: date_text(validity.not_before.timestamp()),
        not_after: date_text(validity.not_after.timestamp()),
        not_before_unix: validity.not_before.timestamp(),
        not_after_unix: validity.not_after.timestamp(),
        is_ca: cert.is_ca(),
    })
}

fn ip_text(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes)
            .ok()
            .map(|b| std::net::Ipv4Addr::from(b).to_string()),
        16 => <[u8; 16]>::try_from(bytes)
            .ok()
            .map(|b| std::net::Ipv6Addr::from(b).to_string()),
        _ => None,
    }
}

fn date_text(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]Z"
            ))
            .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

/// Delegates to the real verifier after keeping the chain the server sent.
#[derive(Debug)]
struct Capturing {
    inner: Arc<dyn ServerCertVerifier>,
    chain: Mutex<Vec<CertificateDer<'static>>>,
}

impl ServerCertVerifier for Capturing {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut chain) = self.chain.lock() {
            chain.clear();
            chain.push(end_entity.clone().into_owned());
            chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        }
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Keeps the first bytes the server sends, to recognise a plain HTTP answer to a ClientHello.
struct Recording<S> {
    inner: S,
    first_bytes: Arc<Mutex<Vec<u8>>>,
}

const RECORDED_BYTES: usize = 256;

impl<S: AsyncRead + Unpin> AsyncRead for Recording<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Ok(mut first) = self.first_bytes.lock() {
            let room = RECORDED_BYTES.saturating_sub(first.len());
            let new = &buf.filled()[before..];
            first.extend_from_slice(&new[..new.len().min(room)]);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Recording<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

struct Attempt {
    outcome: Result<tokio_rustls::client::TlsStream<Recording<TcpStream>>, HandshakeError>,
    chain: Vec<CertificateDer<'static>>,
    first_bytes: Vec<u8>,
    took: Duration,
}

enum HandshakeError {
    Timeout,
    Failed(io::Error),
}

async fn handshake(
    tcp: TcpStream,
    target: &Target,
    extra_roots: &[CertificateDer<'static>],
    alpn: &[&[u8]],
    timeout: Duration,
) -> Result<Attempt, String> {
    let inner = connect::provider_verifier(extra_roots).map_err(|e| e.to_string())?;
    let capture = Arc::new(Capturing {
        inner,
        chain: Mutex::new(Vec::new()),
    });
    let config = connect::client_config(capture.clone(), alpn).map_err(|e| e.to_string())?;
    let name = connect::server_name(target).map_err(|e| e.to_string())?;
    let first_bytes = Arc::new(Mutex::new(Vec::new()));
    let recording = Recording {
        inner: tcp,
        first_bytes: first_bytes.clone(),
    };
    let started = Instant::now();
    let connecting = TlsConnector::from(Arc::new(config)).connect(name, recording);
    let outcome = match tokio::time::timeout(timeout, connecting).await {
        Err(_) => Err(HandshakeError::Timeout),
        Ok(Err(e)) => Err(HandshakeError::Failed(e)),
        Ok(Ok(stream)) => Ok(stream),
    };
    let took = started.elapsed();
    let chain = capture.chain.lock().map(|c| c.clone()).unwrap_or_default();
    let first_bytes = first_bytes.lock().map(|b| b.clone()).unwrap_or_default();
    Ok(Attempt {
        outcome,
        chain,
        first_bytes,
        took,
    })
}

fn rustls_error(e: &io::Error) -> Option<&rustls::Error> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
}

pub async fn check(
    tcp: TcpStream,
    addr: SocketAddr,
    target: &Target,
    extra_roots: &[CertificateDer<'static>],
    timeout: Duration,
) -> (CheckResult, Option<BoxedIo>) {
    let started = Instant::now();
    let attempt = match handshake(tcp, target, extra_roots, &[b"http/1.1"], timeout).await {
        Ok(attempt) => attempt,
        Err(message) => {
            let message = format!("could not set up TLS: {message}");
            return (
                CheckResult::broken(CheckId::Tls, message, millis(started.elapsed())),
                None,
            );
        }
    };
    let chain: Vec<Result<CertInfo, String>> = attempt.chain.iter().map(|c| cert_info(c)).collect();
    let chain_json: Vec<serde_json::Value> = chain
        .iter()
        .map(|c| match c {
            Ok(info) => json!(info),
            Err(e) => json!({ "error": e }),
        })
        .collect();
    let mut details = json!({
        "server_name": target.host,
        "alpn_offered": ["http/1.1"],
        "handshake_ms": millis(attempt.took),
        "chain": chain_json,
        "extra_roots": extra_roots.len(),
    });
    let mut findings = Vec::new();
    let (summary, stream) = match attempt.outcome {
        Ok(stream) => {
            let (_, conn) = stream.get_ref();
            let version = conn
                .protocol_version()
                .map(|v| format!("{v:?}"))
                .unwrap_or_default();
            let cipher = conn
                .negotiated_cipher_suite()
                .map(|c| format!("{:?}", c.suite()))
                .unwrap_or_default();
            let alpn = conn
                .alpn_protocol()
                .map(|p| String::from_utf8_lossy(p).into_owned());
            let via_extra = !extra_roots.is_empty() && !publicly_trusted(&attempt.chain, target);
            details["version"] = json!(version);
            details["cipher"] = json!(cipher);
            details["alpn"] = json!(alpn);
            details["trusted_only_via_ca_file"] = json!(via_extra);
            let leaf_until = chain
                .first()
                .and_then(|c| c.as_ref().ok())
                .map(|c| c.not_after.clone())
                .unwrap_or_default();
            let mut summary = format!(
                "{version}, {cipher}, ALPN {}, {} certificate(s), leaf valid until {leaf_until}",
                alpn.as_deref().unwrap_or("none"),
                attempt.chain.len()
            );
            if via_extra {
                summary.push_str("; trusted only through an extra root (--ca-file, or the demo's own), not a public one");
            }
            (summary, Some(Box::new(stream) as BoxedIo))
        }
        Err(HandshakeError::Timeout) => {
            let summary = format!(
                "no TLS handshake within {timeout:?} after TCP connected ({} byte(s) received)",
                attempt.first_bytes.len()
            );
            findings.push(Finding {
                cause: CauseId::TlsHandshakeTimeout,
                summary: summary.clone(),
            });
            (summary, None)
        }
        Err(HandshakeError::Failed(e)) => {
            let (cause, summary) = classify_failure(
                &e,
                &chain,
                &attempt.first_bytes,
                addr,
                target,
                extra_roots,
                timeout,
                &mut details,
            )
            .await;
            findings.push(Finding {
                cause,
                summary: summary.clone(),
            });
            (summary, None)
        }
    };
    let result = CheckResult::from_findings(
        CheckId::Tls,
        summary,
        millis(started.elapsed()),
        details,
        findings,
    );
    (result, stream)
}

/// Whether the chain verifies against the public roots alone (what the provider trusts).
fn publicly_trusted(chain: &[CertificateDer<'static>], target: &Target) -> bool {
    let (Some(leaf), Ok(verifier), Ok(name)) = (
        chain.first(),
        connect::provider_verifier(&[]),
        connect::server_name(target),
    ) else {
        return false;
    };
    verifier
        .verify_server_cert(leaf, &chain[1..], &name, &[], UnixTime::now())
        .is_ok()
}

#[allow(clippy::too_many_arguments)]
async fn classify_failure(
    e: &io::Error,
    chain: &[Result<CertInfo, String>],
    first_bytes: &[u8],
    addr: SocketAddr,
    target: &Target,
    extra_roots: &[CertificateDer<'static>],
    timeout: Duration,
    details: &mut serde_json::Value,
) -> (CauseId, String) {
    details["error"] = json!(e.to_string());
    if first_bytes.starts_with(b"HTTP/") {
        let line = String::from_utf8_lossy(first_bytes);
        let line = line.lines().next().unwrap_or_default().to_string();
        details["plain_http_answer"] = json!(line);
        return (
            CauseId::TlsHandshakeFailed,
            format!("the port answers in plain HTTP, not TLS: '{line}'"),
        );
    }
    let Some(tls_error) = rustls_error(e) else {
        let summary = if e.kind() == io::ErrorKind::UnexpectedEof
            || e.kind() == io::ErrorKind::ConnectionReset
        {
            "the server closed the connection during the TLS handshake".to_string()
        } else {
            format!("TLS handshake failed: {e}")
        };
        return (CauseId::TlsHandshakeFailed, summary);
    };
    let leaf = chain.first().and_then(|c| c.as_ref().ok());
    match tls_error {
        rustls::Error::InvalidCertificate(cert_error) => match cert_error {
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => {
                (CauseId::TlsExpired, expiry_summary(chain))
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                let names = leaf.map(|l| l.names.join(", ")).unwrap_or_default();
                (
                    CauseId::TlsHostnameMismatch,
                    format!("certificate covers [{names}], not '{}'", target.host),
                )
            }
            CertificateError::UnknownIssuer => unknown_issuer(chain, extra_roots),
            CertificateError::BadEncoding => {
                let why = chain
                    .iter()
                    .find_map(|c| c.as_ref().err().cloned())
                    .unwrap_or_else(|| "a certificate does not parse".into());
                (CauseId::TlsHandshakeFailed, format!("the server's {why}"))
            }
            other => (
                CauseId::TlsHandshakeFailed,
                format!("certificate rejected: {other:?}"),
            ),
        },
        rustls::Error::AlertReceived(AlertDescription::NoApplicationProtocol) => {
            if offers_only_h2(addr, target, extra_roots, timeout).await {
                details["alpn_server"] = json!(["h2"]);
                (
                    CauseId::TlsNoHttp11,
                    "the server refuses ALPN http/1.1 and accepts only h2".into(),
                )
            } else {
                (
                    CauseId::TlsHandshakeFailed,
                    "the server accepts no ALPN protocol the provider offers".into(),
                )
            }
        }
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
            let excerpt =
                String::from_utf8_lossy(&first_bytes[..first_bytes.len().min(40)]).into_owned();
            (
                CauseId::TlsHandshakeFailed,
                format!("the server's answer is not TLS: {excerpt:?}"),
            )
        }
        other => (
            CauseId::TlsHandshakeFailed,
            format!("TLS handshake failed: {other}"),
        ),
    }
}

fn expiry_summary(chain: &[Result<CertInfo, String>]) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for (position, info) in chain
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.as_ref().ok().map(|c| (i, c)))
    {
        let role = if position == 0 {
            "leaf"
        } else {
            "chain certificate"
        };
        if info.not_after_unix < now {
            return format!("{role} '{}' expired on {}", info.subject, info.not_after);
        }
        if info.not_before_unix > now {
            return format!(
                "{role} '{}' is not valid before {}",
                info.subject, info.not_before
            );
        }
    }
    "a certificate is outside its validity window".into()
}

fn unknown_issuer(
    chain: &[Result<CertInfo, String>],
    extra_roots: &[CertificateDer<'static>],
) -> (CauseId, String) {
    let sent: Vec<&CertInfo> = chain.iter().filter_map(|c| c.as_ref().ok()).collect();
    let Some(leaf) = sent.first() else {
        return (
            CauseId::TlsHandshakeFailed,
            "the server sent no readable certificate".into(),
        );
    };
    if leaf.self_signed {
        return (
            CauseId::TlsSelfSigned,
            format!("leaf '{}' is self-signed", leaf.subject),
        );
    }
    if !sent[1..].iter().any(|c| c.subject == leaf.issuer) {
        return (
            CauseId::TlsIncompleteChain,
            format!(
                "server sent {} certificate(s); issuer '{}' missing",
                sent.len(),
                leaf.issuer
            ),
        );
    }
    let mut top = *leaf;
    while let Some(next) = sent
        .iter()
        .find(|c| c.subject == top.issuer && !c.self_signed && c.subject != top.subject)
    {
        top = next;
    }
    let hint = if extra_roots.is_empty() {
        ""
    } else {
        " (nor by --ca-file)"
    };
    (
        CauseId::TlsUntrustedRoot,
        format!(
            "chain ends at '{}', issued by '{}', which no public root trusts{hint}",
            top.subject, top.issuer
        ),
    )
}

async fn offers_only_h2(
    addr: SocketAddr,
    target: &Target,
    extra_roots: &[CertificateDer<'static>],
    timeout: Duration,
) -> bool {
    let Ok(Ok(tcp)) = tokio::time::timeout(timeout, TcpStream::connect(addr)).await else {
        return false;
    };
    match handshake(tcp, target, extra_roots, &[b"h2"], timeout).await {
        Ok(Attempt {
            outcome: Ok(stream),
            ..
        }) => stream.get_ref().1.alpn_protocol() == Some(b"h2"),
        _ => false,
    }
}
