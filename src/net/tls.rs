//! TLS as both sides use it: one crypto provider (ring) for the whole crate, the client's view
//! of a certificate chain (a verifier that records what the server sent and judges it as the
//! provider would, or not at all), what one certificate says, and server configs from
//! certificates in memory or PEM files. The provider and the judge built from the public roots
//! are made once per process: every connection a check opens reuses them.

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};

#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: rustls::pki_types::pem::Error,
    },
    #[error("{0} holds no PEM certificate")]
    NoCertificate(String),
    #[error("the TLS configuration was refused: {0}")]
    Refused(#[from] rustls::Error),
}

/// The crypto provider every TLS config here uses (ring, chosen once for the whole crate).
pub fn crypto() -> Arc<rustls::crypto::CryptoProvider> {
    static PROVIDER: OnceLock<Arc<rustls::crypto::CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// Public roots (what a provider trusts) plus the extra ones given.
pub(crate) fn root_store(extra_roots: &[CertificateDer<'static>]) -> RootCertStore {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    roots.add_parsable_certificates(extra_roots.iter().cloned());
    roots
}

/// A client config offering ALPN `alpn` with the given verifier.
pub(crate) fn client_config(
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

/// A server config presenting `chain` with `key`, offering the ALPN protocols given.
pub(crate) fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    alpn: &[&[u8]],
) -> Result<Arc<ServerConfig>, rustls::Error> {
    let mut config = ServerConfig::builder_with_provider(crypto())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// Every certificate in a PEM file (`--ca-file`, `--tls-cert`).
pub fn load_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let shown = || path.display().to_string();
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|source| TlsConfigError::Read {
            path: shown(),
            source,
        })?
        .filter_map(Result::ok)
        .collect();
    if certs.is_empty() {
        return Err(TlsConfigError::NoCertificate(shown()));
    }
    Ok(certs)
}

/// A server config from a PEM chain and key, offering HTTP/1.1 (`listen --tls-cert`).
pub fn load_server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsConfigError> {
    let chain = load_certificates(cert)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|source| TlsConfigError::Read {
        path: key.display().to_string(),
        source,
    })?;
    Ok(server_config(chain, key, &[b"http/1.1"])?)
}

/// Records the chain the server sent, then judges it as the provider does (public roots plus
/// extra ones) or not at all, for checks that look past the certificate. Handshake signatures
/// are always checked.
#[derive(Debug)]
pub(crate) struct Verifier {
    judge: Option<Arc<WebPkiServerVerifier>>,
    chain: Mutex<Vec<CertificateDer<'static>>>,
}

/// The judge for `extra_roots`, built once: a process checks one target with one set of extra
/// roots, so the last one built is kept and reused while the set is the same.
fn judge(
    extra_roots: &[CertificateDer<'static>],
) -> Result<Arc<WebPkiServerVerifier>, rustls::Error> {
    type Judges = Mutex<Option<(Vec<CertificateDer<'static>>, Arc<WebPkiServerVerifier>)>>;
    static LAST: OnceLock<Judges> = OnceLock::new();
    let last = LAST.get_or_init(|| Mutex::new(None));
    if let Ok(kept) = last.lock()
        && let Some((roots, judge)) = kept.as_ref()
        && roots.as_slice() == extra_roots
    {
        return Ok(judge.clone());
    }
    let judge =
        WebPkiServerVerifier::builder_with_provider(Arc::new(root_store(extra_roots)), crypto())
            .build()
            .map_err(|e| rustls::Error::General(e.to_string()))?;
    if let Ok(mut kept) = last.lock() {
        *kept = Some((extra_roots.to_vec(), judge.clone()));
    }
    Ok(judge)
}

impl Verifier {
    /// As the provider judges: public roots, plus `extra_roots`.
    pub(crate) fn provider(
        extra_roots: &[CertificateDer<'static>],
    ) -> Result<Arc<Self>, rustls::Error> {
        let judge = judge(extra_roots)?;
        Ok(Arc::new(Self {
            judge: Some(judge),
            chain: Mutex::new(Vec::new()),
        }))
    }

    /// Accepts any certificate: routing checks must not stop at a certificate fault.
    pub(crate) fn anything() -> Arc<Self> {
        Arc::new(Self {
            judge: None,
            chain: Mutex::new(Vec::new()),
        })
    }

    /// The leaf and intermediates of the last handshake, as sent.
    pub(crate) fn chain(&self) -> Vec<CertificateDer<'static>> {
        self.chain.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

impl ServerCertVerifier for Verifier {
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
        match &self.judge {
            Some(judge) => {
                judge.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            None => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = crypto().signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, &algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = crypto().signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, &algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        crypto()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every connection of a run shares one judge; other extra roots get their own.
    #[test]
    fn the_judge_is_built_once_for_the_same_roots() {
        let first = judge(&[]).expect("judge");
        assert!(Arc::ptr_eq(&first, &judge(&[]).expect("judge")));
        let pki = crate::demo::certs::Pki::generate().expect("pki");
        let other = judge(&[pki.root_der()]).expect("judge");
        assert!(!Arc::ptr_eq(&first, &other));
        assert!(Arc::ptr_eq(&crypto(), &crypto()));
    }
}
