//! The `tls` check: a handshake as the provider makes it (public roots, ALPN `http/1.1`), over
//! the connection the `tcp` check opened. It captures the chain the server actually sent, even
//! when verification rejects it, and names what is wrong: expiry, host name, self-signed,
//! private root, incomplete chain, HTTP/2-only ALPN, plain HTTP on the port, or no handshake.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::{AlertDescription, CertificateError};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::catalog::{CauseId, CheckId, Finding};
use crate::check::CheckResult;
use crate::check::evidence::{TlsEvidence, TlsSession};
use crate::clock::{self, millis};
use crate::edge;
use crate::net::connect::{BoxedIo, server_name};
use crate::net::tap::{Ear, Tapped};
use crate::net::target::Target;
use crate::net::tls::{Verifier, client_config};
use crate::records::certificate::{CertInfo, ChainEntry};

/// Keeps the first bytes the server sends, to recognise a plain HTTP answer to a ClientHello.
#[derive(Default)]
struct FirstBytes(Vec<u8>);

const RECORDED_BYTES: usize = 256;

impl Ear for FirstBytes {
    fn hear(&mut self, bytes: &[u8]) {
        let room = RECORDED_BYTES.saturating_sub(self.0.len());
        self.0.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }
}

struct Attempt {
    outcome: Result<tokio_rustls::client::TlsStream<Tapped<TcpStream, FirstBytes>>, HandshakeError>,
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
    let verifier = Verifier::provider(extra_roots).map_err(|e| e.to_string())?;
    let config = client_config(verifier.clone(), alpn).map_err(|e| e.to_string())?;
    let name = server_name(target).map_err(|e| e.to_string())?;
    let first_bytes = Arc::new(Mutex::new(FirstBytes::default()));
    let recording = Tapped::new(tcp, first_bytes.clone());
    let started = Instant::now();
    let connecting = TlsConnector::from(Arc::new(config)).connect(name, recording);
    let outcome = match tokio::time::timeout(timeout, connecting).await {
        Err(_) => Err(HandshakeError::Timeout),
        Ok(Err(e)) => Err(HandshakeError::Failed(e)),
        Ok(Ok(stream)) => Ok(stream),
    };
    let took = started.elapsed();
    let chain = verifier.chain();
    let first_bytes = first_bytes.lock().map(|b| b.0.clone()).unwrap_or_default();
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

pub(crate) async fn check(
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
    let mut evidence = TlsEvidence {
        server_name: target.host.clone(),
        alpn_offered: vec!["http/1.1".into()],
        handshake_ms: millis(attempt.took),
        chain: attempt.chain.iter().map(|c| CertInfo::parse(c)).collect(),
        extra_roots: extra_roots.len(),
        session: None,
        error: None,
        plain_http_answer: None,
        alpn_server: None,
        answered_by: None,
    };
    evidence.answered_by = evidence
        .chain
        .first()
        .and_then(ChainEntry::cert)
        .and_then(|leaf| edge::from_certificate(&leaf.names));
    let mut findings = Vec::new();
    let (summary, stream) = match attempt.outcome {
        Ok(stream) => {
            let (_, conn) = stream.get_ref();
            let session = TlsSession {
                version: conn
                    .protocol_version()
                    .map(|v| format!("{v:?}"))
                    .unwrap_or_default(),
                cipher: conn
                    .negotiated_cipher_suite()
                    .map(|c| format!("{:?}", c.suite()))
                    .unwrap_or_default(),
                alpn: conn
                    .alpn_protocol()
                    .map(|p| String::from_utf8_lossy(p).into_owned()),
                trusted_only_via_ca_file: !extra_roots.is_empty()
                    && !publicly_trusted(&attempt.chain, target),
            };
            let leaf_until = evidence
                .chain
                .first()
                .and_then(ChainEntry::cert)
                .map(|c| clock::minutes::text(c.not_after))
                .unwrap_or_default();
            let mut summary = format!(
                "{}, {}, ALPN {}, {} certificate(s), leaf valid until {leaf_until}",
                session.version,
                session.cipher,
                session.alpn.as_deref().unwrap_or("none"),
                attempt.chain.len()
            );
            if session.trusted_only_via_ca_file {
                summary.push_str("; trusted only through an extra root (--ca-file, or the demo's own), not a public one");
            }
            evidence.session = Some(session);
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
                severity: None,
            });
            (summary, None)
        }
        Err(HandshakeError::Failed(e)) => {
            evidence.error = Some(e.to_string());
            let failure = Failure {
                error: &e,
                first_bytes: &attempt.first_bytes,
                addr,
                target,
                extra_roots,
                timeout,
            };
            let (cause, summary) = failure.classify(&mut evidence).await;
            findings.push(Finding {
                cause,
                summary: summary.clone(),
                severity: None,
            });
            (summary, None)
        }
    };
    let result = CheckResult::from_findings(
        CheckId::Tls,
        summary,
        millis(started.elapsed()),
        evidence,
        findings,
    );
    (result, stream)
}

/// Whether the chain verifies against the public roots alone (what the provider trusts).
fn publicly_trusted(chain: &[CertificateDer<'static>], target: &Target) -> bool {
    let (Some(leaf), Ok(verifier), Ok(name)) =
        (chain.first(), Verifier::provider(&[]), server_name(target))
    else {
        return false;
    };
    verifier
        .verify_server_cert(leaf, &chain[1..], &name, &[], UnixTime::now())
        .is_ok()
}

/// A failed handshake and what is needed to name its cause.
struct Failure<'a> {
    error: &'a io::Error,
    first_bytes: &'a [u8],
    addr: SocketAddr,
    target: &'a Target,
    extra_roots: &'a [CertificateDer<'static>],
    timeout: Duration,
}

impl Failure<'_> {
    async fn classify(&self, evidence: &mut TlsEvidence) -> (CauseId, String) {
        let first_bytes = self.first_bytes;
        if first_bytes.starts_with(b"HTTP/") {
            let line = String::from_utf8_lossy(first_bytes);
            let line = line.lines().next().unwrap_or_default().to_string();
            evidence.plain_http_answer = Some(line.clone());
            return (
                CauseId::TlsHandshakeFailed,
                format!("the port answers in plain HTTP, not TLS: '{line}'"),
            );
        }
        let e = self.error;
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
        match tls_error {
            rustls::Error::InvalidCertificate(cert_error) => {
                self.certificate(cert_error, &evidence.chain)
            }
            rustls::Error::AlertReceived(AlertDescription::NoApplicationProtocol) => {
                if offers_only_h2(self.addr, self.target, self.extra_roots, self.timeout).await {
                    evidence.alpn_server = Some(vec!["h2".into()]);
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
            other => (CauseId::TlsHandshakeFailed, handshake_sentence(other)),
        }
    }
}

impl Failure<'_> {
    /// Names what is wrong with a certificate the provider would refuse. A self-signed leaf is
    /// named so however it was made (`openssl req -x509` marks it as a CA, and the library then
    /// reports a CA used as an end entity, or an unknown issuer, or a name it lacks).
    fn certificate(&self, error: &CertificateError, chain: &[ChainEntry]) -> (CauseId, String) {
        let leaf = chain.first().and_then(ChainEntry::cert);
        let host = &self.target.host;
        if let Some(leaf) = leaf.filter(|l| l.self_signed) {
            let made = if leaf.is_ca {
                " (and marked as a certificate authority, as `openssl req -x509` makes it)"
            } else {
                ""
            };
            let summary = format!("leaf '{}' is self-signed{made}", leaf.subject);
            return (CauseId::TlsSelfSigned, summary);
        }
        match error {
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => {
                (CauseId::TlsExpired, expiry_summary(chain))
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                let names = leaf.map(|l| l.names.clone()).unwrap_or_default();
                if let Some(platform) = edge::default_certificate(&names, host) {
                    let summary = format!(
                        "the certificate covers only [{}], {}'s own names, not '{host}': the custom domain's certificate is not issued or attached yet",
                        names.join(", "),
                        platform.title()
                    );
                    return (CauseId::TlsPlatformDefaultCert, summary);
                }
                let summary = format!("certificate covers [{}], not '{host}'", names.join(", "));
                (CauseId::TlsHostnameMismatch, summary)
            }
            CertificateError::UnknownIssuer => unknown_issuer(chain, self.extra_roots),
            CertificateError::BadEncoding => {
                let summary = if chain.iter().any(|c| c.cert().is_none()) {
                    "the server's certificate does not parse: it is not an X.509 certificate a TLS client can read"
                } else {
                    "the server's certificate is encoded in a way TLS clients reject"
                };
                (CauseId::TlsHandshakeFailed, summary.into())
            }
            other => (
                CauseId::TlsHandshakeFailed,
                certificate_sentence(other, leaf),
            ),
        }
    }
}

/// A certificate refusal in words a teammate understands; the library's own text stays in the
/// evidence for the engineer.
fn certificate_sentence(error: &CertificateError, leaf: Option<&CertInfo>) -> String {
    match error {
        CertificateError::Revoked => "the certificate has been revoked by its issuer".into(),
        CertificateError::BadSignature => {
            "a certificate's signature does not verify: the chain mixes certificates that do not belong together".into()
        }
        CertificateError::UnhandledCriticalExtension => {
            "the certificate carries a critical extension TLS clients do not understand".into()
        }
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            "the certificate is not meant for a TLS server (its extended key usage lacks server authentication)".into()
        }
        CertificateError::UnknownRevocationStatus
        | CertificateError::ExpiredRevocationList
        | CertificateError::ExpiredRevocationListContext { .. } => {
            "the certificate's revocation status cannot be established".into()
        }
        _ if leaf.is_some_and(|l| l.is_ca) => {
            "the server presents a certificate authority's certificate as its own: a server needs a leaf certificate issued for its name".into()
        }
        _ => "a standard TLS client refuses the certificate (the exact reason is in the evidence)"
            .into(),
    }
}

/// A handshake failure that is not about the certificate, in words.
fn handshake_sentence(error: &rustls::Error) -> String {
    match error {
        rustls::Error::AlertReceived(alert) => match alert {
            AlertDescription::HandshakeFailure | AlertDescription::InsufficientSecurity => {
                "the server accepts none of the TLS versions and ciphers a standard client offers".into()
            }
            AlertDescription::ProtocolVersion => {
                "the server speaks only TLS versions the provider does not (TLS 1.2 or 1.3 are needed)".into()
            }
            AlertDescription::UnrecognisedName => {
                "the server does not know this host name (it has no certificate for it)".into()
            }
            AlertDescription::InternalError => "the server failed inside its TLS handshake".into(),
            _ => "the server ended the handshake with a TLS alert".into(),
        },
        rustls::Error::PeerIncompatible(_) => {
            "the server's TLS settings are incompatible with a standard client (TLS 1.2 or 1.3 with modern ciphers are needed)".into()
        }
        rustls::Error::PeerMisbehaved(_) => {
            "the server broke the TLS protocol during the handshake".into()
        }
        _ => "the TLS handshake failed (the exact reason is in the evidence)".into(),
    }
}

fn expiry_summary(chain: &[ChainEntry]) -> String {
    let now = time::OffsetDateTime::now_utc();
    for (position, info) in chain
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.cert().map(|c| (i, c)))
    {
        let role = if position == 0 {
            "leaf"
        } else {
            "chain certificate"
        };
        if info.not_after < now {
            return format!(
                "{role} '{}' expired on {}",
                info.subject,
                clock::minutes::text(info.not_after)
            );
        }
        if info.not_before > now {
            return format!(
                "{role} '{}' is not valid before {}",
                info.subject,
                clock::minutes::text(info.not_before)
            );
        }
    }
    "a certificate is outside its validity window".into()
}

fn unknown_issuer(
    chain: &[ChainEntry],
    extra_roots: &[CertificateDer<'static>],
) -> (CauseId, String) {
    let sent: Vec<&CertInfo> = chain.iter().filter_map(ChainEntry::cert).collect();
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
