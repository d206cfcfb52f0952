//! A certificate as evidence: what one certificate of a served chain says (names, dates, CA,
//! self-signed, fingerprint), read from its DER, or why it could not be read.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::clock;

/// What one certificate of a served chain says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    /// DNS names and IP addresses of the subject alternative name.
    pub names: Vec<String>,
    #[serde(with = "clock::minutes")]
    pub not_before: OffsetDateTime,
    #[serde(with = "clock::minutes")]
    pub not_after: OffsetDateTime,
    pub is_ca: bool,
    pub self_signed: bool,
    /// SHA-256 of the certificate's DER, hex: two reports name the same certificate by it.
    #[serde(default)]
    pub sha256: String,
}

/// A certificate as sent: what it says, or why it could not be read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ChainEntry {
    Cert(CertInfo),
    Unreadable { error: String },
}

/// What is shown for a certificate that could not be read; the parser's words stay in the
/// evidence.
pub(crate) const UNREADABLE: &str = "a certificate that does not parse as X.509";

impl ChainEntry {
    pub(crate) fn cert(&self) -> Option<&CertInfo> {
        match self {
            ChainEntry::Cert(info) => Some(info),
            ChainEntry::Unreadable { .. } => None,
        }
    }
}

impl CertInfo {
    /// Reads a DER certificate; the error says why it is not one.
    pub(crate) fn parse(der: &[u8]) -> ChainEntry {
        match Self::try_parse(der) {
            Ok(info) => ChainEntry::Cert(info),
            Err(error) => ChainEntry::Unreadable { error },
        }
    }

    fn try_parse(der: &[u8]) -> Result<CertInfo, String> {
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
        Ok(CertInfo {
            self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            names,
            not_before: validity.not_before.to_datetime(),
            not_after: validity.not_after.to_datetime(),
            is_ca: cert.is_ca(),
            sha256: fingerprint(der),
        })
    }
}

fn fingerprint(der: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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
