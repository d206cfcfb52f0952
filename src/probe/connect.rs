//! Opening connections to the target for the checks after `tcp`: TCP under a deadline, then
//! TLS with the verifier a check asks for (the provider's view, or none when only routing is
//! under test). Each call builds its own TLS config so captured evidence never mixes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::url::Target;

/// A byte stream the checks speak HTTP and WebSocket over: TCP, or TLS over TCP.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}
pub type BoxedIo = Box<dyn Io>;

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("TCP connect to {addr} failed: {source}")]
    Tcp {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("TLS handshake failed: {0}")]
    Tls(std::io::Error),
    #[error("'{0}' is not a name TLS can be used with")]
    ServerName(String),
}

/// How the TLS layer, if any, judges the server's certificate.
#[derive(Clone, Copy, Debug)]
pub enum Verify<'a> {
    /// As the provider does: public roots, plus `--ca-file` roots.
    Provider(&'a [CertificateDer<'static>]),
    /// Not at all: for checks that look at routing, so a certificate fault does not hide it.
    Nothing,
}

/// The crypto provider every TLS config here uses (ring, chosen once for the whole crate).
pub fn crypto() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Public roots (what a provider trusts) plus the extra ones given.
pub fn root_store(extra_roots: &[CertificateDer<'static>]) -> RootCertStore {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    roots.add_parsable_certificates(extra_roots.iter().cloned());
    roots
}

/// A client config offering ALPN `alpn` with the given verifier.
pub fn client_config(
    verifier: Arc<dyn ServerCertVerifier>,
    alpn: &[&[u8]],
) -> Result<ClientConfig, rustls::Error> {
    let mut config = ClientConfig::builder_with_provider(crypto())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

pub fn provider_verifier(
    extra_roots: &[CertificateDer<'static>],
) -> Result<Arc<dyn ServerCertVerifier>, rustls::Error> {
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(root_store(extra_roots)),
        crypto(),
    )
    .build()
    .map_err(|e| rustls::Error::General(e.to_string()))?;
    Ok(verifier)
}

pub fn server_name(target: &Target) -> Result<ServerName<'static>, ConnectError> {
    ServerName::try_from(target.host.clone())
        .map_err(|_| ConnectError::ServerName(target.host.clone()))
}

/// A fresh connection to `addr`, with TLS when the target is `wss`, all within `timeout`.
pub async fn open(
    addr: SocketAddr,
    target: &Target,
    verify: Verify<'_>,
    timeout: Duration,
) -> Result<BoxedIo, ConnectError> {
    let attempt = async {
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|source| ConnectError::Tcp { addr, source })?;
        let _ = tcp.set_nodelay(true);
        if !target.secure {
            return Ok(Box::new(tcp) as BoxedIo);
        }
        let verifier: Arc<dyn ServerCertVerifier> = match verify {
            Verify::Provider(extra) => {
                provider_verifier(extra).map_err(|e| ConnectError::Tls(std::io::Error::other(e)))?
            }
            Verify::Nothing => Arc::new(AcceptAnything),
        };
        let config = client_config(verifier, &[b"http/1.1"])
            .map_err(|e| ConnectError::Tls(std::io::Error::other(e)))?;
        let tls = TlsConnector::from(Arc::new(config))
            .connect(server_name(target)?, tcp)
            .await
            .map_err(ConnectError::Tls)?;
        Ok(Box::new(tls) as BoxedIo)
    };
    tokio::time::timeout(timeout, attempt)
        .await
        .map_err(|_| ConnectError::Timeout(timeout))?
}

/// Accepts any certificate while still checking handshake signatures.
#[derive(Debug)]
pub struct AcceptAnything;

impl ServerCertVerifier for AcceptAnything {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &crypto().signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &crypto().signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        crypto()
            .signature_verification_algorithms
            .supported_schemes()
    }
}
