//! Opening connections to a target: TCP under a deadline, then TLS with the verifier the
//! caller asks for (the provider's view, or none when only routing is under test). Each call
//! builds its own TLS config so captured evidence never mixes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::target::Target;
use super::tls::{Verifier, client_config};

/// A byte stream HTTP and WebSocket are spoken over: TCP, or TLS over TCP.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}
pub(crate) type BoxedIo = Box<dyn Io>;

#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectError {
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
pub(crate) enum Verify<'a> {
    /// As the provider does: public roots, plus `--ca-file` roots.
    Provider(&'a [CertificateDer<'static>]),
    /// Not at all: for checks that look at routing, so a certificate fault does not hide it.
    Nothing,
}

pub(crate) fn server_name(target: &Target) -> Result<ServerName<'static>, ConnectError> {
    ServerName::try_from(target.host.clone())
        .map_err(|_| ConnectError::ServerName(target.host.clone()))
}

/// A fresh connection to `addr`, with TLS when the target is `wss`, all within `timeout`.
pub(crate) async fn open(
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
        let tls_error = |e: rustls::Error| ConnectError::Tls(std::io::Error::other(e));
        let verifier: Arc<dyn ServerCertVerifier> = match verify {
            Verify::Provider(extra) => Verifier::provider(extra).map_err(tls_error)?,
            Verify::Nothing => Verifier::anything(),
        };
        let config = client_config(verifier, &[b"http/1.1"]).map_err(tls_error)?;
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
