//! Values clap reads from the command line that need more than `FromStr`: bounded seconds,
//! name servers, keys, and files read while parsing (so a bad one is a usage error).

use std::path::PathBuf;

use stream_doctor::audio::wav::{self, Clip, WavError};
use stream_doctor::net::tls::{self, TlsConfigError};
use stream_doctor::session::{LoadError, Session};

use super::CaFile;

pub fn seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 3600.0 => Ok(v),
        _ => Err(format!(
            "'{s}' is not a number of seconds between 0 and 3600"
        )),
    }
}

pub fn seconds_or_zero(s: &str) -> Result<f64, String> {
    if s.trim() == "0" { Ok(0.0) } else { seconds(s) }
}

/// `NAME=VALUE`, the name not empty.
pub fn name_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("wants NAME=VALUE, got '{s}'")),
    }
}

pub fn public_key(s: &str) -> Result<ed25519_dalek::VerifyingKey, String> {
    stream_doctor::provider::signature::telnyx_key(s).map_err(|e| e.to_string())
}

pub fn ca_file(s: &str) -> Result<CaFile, TlsConfigError> {
    let path = PathBuf::from(s);
    let roots = tls::load_certificates(&path)?;
    Ok(CaFile { path, roots })
}

pub fn wav_clip(s: &str) -> Result<Clip, WavError> {
    wav::read_file(std::path::Path::new(s))
}

pub fn saved_session(s: &str) -> Result<Box<Session>, LoadError> {
    Session::load(std::path::Path::new(s)).map(Box::new)
}

pub fn rfc3339(s: &str) -> Result<String, String> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map(|_| s.to_string())
        .map_err(|_| format!("'{s}' is not an RFC 3339 time (e.g. 2026-11-25T14:00:00Z)"))
}

/// Where `listen` binds: `--bind`, else `0.0.0.0:$PORT` when the platform sets `PORT`, else
/// 127.0.0.1:5001.
/// Whether a listener may open on `bind`: off loopback only with a token, unless the person
/// accepted an open one (then with a warning to show). Every command that listens asks this
/// before it opens a port or calls anything.
pub fn gate(
    bind: std::net::SocketAddr,
    has_token: bool,
    public_without_token: bool,
) -> Result<Option<String>, String> {
    if bind.ip().is_loopback() || has_token {
        return Ok(None);
    }
    if public_without_token {
        return Ok(Some(format!(
            "warning: listening on {bind} without a token: anyone who finds it can use it"
        )));
    }
    Err(format!(
        "listening on {bind} (off loopback) needs a token: --token or STREAM_DOCTOR_TOKEN (without one, anyone who finds the address can send streams and read the monitor); --public-without-token accepts that"
    ))
}

pub fn listen_address(
    bind: Option<std::net::SocketAddr>,
    port: Option<&str>,
) -> Result<std::net::SocketAddr, String> {
    if let Some(bind) = bind {
        return Ok(bind);
    }
    match port.map(str::trim) {
        Some(port) => port
            .parse::<u16>()
            .map(|p| std::net::SocketAddr::from(([0, 0, 0, 0], p)))
            .map_err(|_| format!("PORT is '{port}', not a port number")),
        None => Ok(std::net::SocketAddr::from(([127, 0, 0, 1], 5001))),
    }
}
