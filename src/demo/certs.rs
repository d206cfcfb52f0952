//! Certificates made at run time for the demo target and the tests: a private root, an
//! intermediate, and leaves served in every shape the `tls` check must tell apart.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("generating a certificate failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("the TLS server config was refused: {0}")]
    Config(#[from] rustls::Error),
}

/// How the server presents its certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Served {
    /// Leaf and intermediate, as a correct server sends them.
    FullChain,
    /// The leaf alone: the intermediate is missing.
    LeafOnly,
    /// A leaf that signs itself.
    SelfSigned,
    /// A leaf whose validity ended in 2021, with its intermediate.
    Expired,
    /// A leaf for another host name, with its intermediate.
    WrongName,
    /// A leaf for a hosting platform's own wildcard (`*.up.railway.app`), with its
    /// intermediate: what a platform serves before a custom domain's certificate exists.
    PlatformDefault,
    /// A self-signed leaf that also says it is a CA, as `openssl req -x509` makes one.
    SelfSignedCa,
}

/// A private root and an intermediate under it.
pub struct Pki {
    root: CertifiedIssuer<'static, KeyPair>,
    intermediate: CertifiedIssuer<'static, KeyPair>,
}

/// A chain and its key, ready for a server.
pub struct ServedCert {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

fn ca_params(common_name: &str) -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    validity_around_now(&mut params, 3650);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(params)
}

/// Valid from yesterday for `days`, as a real issuer would date it.
fn validity_around_now(params: &mut CertificateParams, days: i64) {
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(days);
}

impl Pki {
    pub fn generate() -> Result<Self, CertError> {
        let root = CertifiedIssuer::self_signed(
            ca_params("Stream Doctor Demo Root")?,
            KeyPair::generate()?,
        )?;
        let intermediate = CertifiedIssuer::signed_by(
            ca_params("Stream Doctor Demo Intermediate")?,
            KeyPair::generate()?,
            &root,
        )?;
        Ok(Self { root, intermediate })
    }

    /// The root as PEM, for `--ca-file`.
    pub fn root_pem(&self) -> String {
        self.root.pem()
    }

    pub fn root_der(&self) -> CertificateDer<'static> {
        self.root.der().clone()
    }

    /// A leaf for `host` (or for another name with `WrongName`) presented as `served`.
    pub fn serve(&self, host: &str, served: Served) -> Result<ServedCert, CertError> {
        let name = match served {
            Served::WrongName => "wrong-name.example",
            Served::PlatformDefault => "*.up.railway.app",
            _ => host,
        };
        let mut params = CertificateParams::new(vec![name.to_string()])?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        if served == Served::Expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        } else {
            validity_around_now(&mut params, 90);
        }
        let key = KeyPair::generate()?;
        if served == Served::SelfSignedCa {
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        }
        let leaf = if matches!(served, Served::SelfSigned | Served::SelfSignedCa) {
            params.self_signed(&key)?
        } else {
            params.signed_by(&key, &self.intermediate)?
        };
        let mut chain = vec![leaf.der().clone()];
        if matches!(
            served,
            Served::FullChain | Served::Expired | Served::WrongName | Served::PlatformDefault
        ) {
            chain.push(self.intermediate.der().clone());
        }
        Ok(ServedCert {
            chain,
            key: PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
        })
    }
}

/// A server config presenting `cert`, offering the ALPN protocols given (none: no ALPN).
pub fn server_config(cert: ServedCert, alpn: &[&[u8]]) -> Result<Arc<ServerConfig>, CertError> {
    Ok(crate::net::tls::server_config(cert.chain, cert.key, alpn)?)
}
