//! Watching a listener that runs elsewhere: the client of its `/monitor` (the token as a
//! Bearer token, never in the URL). Its events go through the same reducer as a local
//! listener's (`LiveStreams::apply`), so remote streams read exactly like local ones.

use std::time::Duration;

use futures_util::StreamExt;
use rustls_pki_types::CertificateDer;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::monitor::MonitorEvent;
use crate::net::connect::{self, Verify};
use crate::net::target::Target;
use crate::net::upgrade::client_request;
use crate::records::address::ResolvePin;
use crate::secret::Secret;

#[derive(Clone, Debug)]
pub struct WatchOptions {
    /// The listener's base URL (`wss://host`, `ws://host:port`); `/monitor` is appended.
    pub url: String,
    pub token: Option<Secret>,
    /// Deadline of the connection and the handshake.
    pub timeout: Duration,
    pub extra_roots: Vec<CertificateDer<'static>>,
    pub resolve: Vec<ResolvePin>,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum WatchError {
    #[error("'{0}' is not a listener's address (wss://host or ws://host:port)")]
    BadUrl(String),
    #[error("{0}")]
    Lookup(String),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("the listener refused the monitor (HTTP {0}): {1}")]
    Refused(u16, &'static str),
    #[error("the monitor's handshake failed: {0}")]
    Handshake(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

/// How a watch ended once connected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WatchEnd {
    /// The listener closed the monitor (it is stopping), with its reason.
    Closed(String),
    /// The link broke without a close.
    Lost(String),
}

/// The monitor's URL for a listener's base URL; `http(s)` is taken for `ws(s)`.
pub(crate) fn monitor_url(base: &str) -> Result<String, WatchError> {
    let trimmed = base.trim();
    let url = if let Some(rest) = trimmed.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = trimmed.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        trimmed.to_string()
    };
    let url = url.trim_end_matches('/');
    let url = if url.ends_with("/monitor") {
        url.to_string()
    } else {
        format!("{url}/monitor")
    };
    Target::parse(&url).map_err(|_| WatchError::BadUrl(base.to_string()))?;
    Ok(url)
}

fn refusal(status: u16) -> &'static str {
    match status {
        401 => "the token is missing or wrong",
        404 => "no monitor at this address (is it a Stream Doctor listener?)",
        _ => "not a monitor",
    }
}

/// An open monitor link.
pub struct Monitor {
    ws: tokio_tungstenite::WebSocketStream<connect::BoxedIo>,
}

/// Opens the monitor of the listener at `options.url`.
pub async fn connect(options: &WatchOptions) -> Result<Monitor, WatchError> {
    let url = monitor_url(&options.url)?;
    let target = Target::parse(&url).map_err(|_| WatchError::BadUrl(options.url.clone()))?;
    let addr = target
        .address(&options.resolve, options.timeout)
        .await
        .map_err(|e| WatchError::Lookup(e.to_string()))?;
    let headers: Vec<(String, String)> = options
        .token
        .iter()
        .map(|t| {
            (
                "Authorization".to_string(),
                format!("Bearer {}", t.expose()),
            )
        })
        .collect();
    let request =
        client_request(&target, &headers).map_err(|e| WatchError::BadUrl(e.to_string()))?;
    let verify = Verify::Provider(&options.extra_roots);
    let io = connect::open(addr, &target, verify, options.timeout)
        .await
        .map_err(|e| WatchError::Connect(e.to_string()))?;
    let handshake = tokio_tungstenite::client_async(request, io);
    match tokio::time::timeout(options.timeout, handshake).await {
        Ok(Ok((ws, _))) => Ok(Monitor { ws }),
        Ok(Err(WsError::Http(response))) => {
            let status = response.status().as_u16();
            Err(WatchError::Refused(status, refusal(status)))
        }
        Ok(Err(e)) => Err(WatchError::Handshake(e.to_string())),
        Err(_) => Err(WatchError::Timeout(options.timeout)),
    }
}

impl Monitor {
    /// Hands each event to `on_event` until the link ends. `unreadable` counts messages that
    /// were not monitor events (skipped, never fatal).
    pub async fn run(
        mut self,
        on_event: &mut (dyn FnMut(MonitorEvent) + Send),
        unreadable: &mut u64,
    ) -> WatchEnd {
        while let Some(message) = self.ws.next().await {
            match message {
                Ok(Message::Text(text)) => {
                    match serde_json::from_str::<MonitorEvent>(text.as_str()) {
                        Ok(event) => on_event(event),
                        Err(_) => *unreadable += 1,
                    }
                }
                Ok(Message::Close(frame)) => {
                    let reason = frame
                        .map(|f| f.reason.to_string())
                        .filter(|r| !r.is_empty())
                        .unwrap_or_else(|| "closed".into());
                    return WatchEnd::Closed(reason);
                }
                Ok(Message::Binary(_)) => *unreadable += 1,
                Ok(_) => {}
                Err(e) => return WatchEnd::Lost(e.to_string()),
            }
        }
        WatchEnd::Lost("the connection ended without a close".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monitor_urls_are_built_from_a_base() {
        assert_eq!(
            monitor_url("wss://l.example.com").ok().as_deref(),
            Some("wss://l.example.com/monitor")
        );
        assert_eq!(
            monitor_url("https://l.example.com/").ok().as_deref(),
            Some("wss://l.example.com/monitor")
        );
        assert_eq!(
            monitor_url("ws://127.0.0.1:5001/monitor").ok().as_deref(),
            Some("ws://127.0.0.1:5001/monitor")
        );
        assert!(matches!(
            monitor_url("not a url"),
            Err(WatchError::BadUrl(_))
        ));
    }
}
