//! The local ngrok agent's API (`http://127.0.0.1:4040/api/tunnels`): where a tunnel runs,
//! its public `https://` URL becomes the `wss://` URL to give the provider.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Where the agent listens unless its config says otherwise.
pub(crate) const AGENT_API: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 4040);
const LIMIT_BYTES: usize = 256 * 1024;

#[derive(Debug, Deserialize)]
struct Tunnels {
    #[serde(default)]
    tunnels: Vec<Tunnel>,
}

#[derive(Debug, Deserialize)]
struct Tunnel {
    public_url: String,
    #[serde(default)]
    proto: String,
    #[serde(default)]
    config: Option<TunnelConfig>,
}

#[derive(Debug, Deserialize)]
struct TunnelConfig {
    #[serde(default)]
    addr: String,
}

/// Why no tunnel was found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TunnelError {
    #[error("no ngrok agent at {api}: {why}")]
    NoAgent { api: SocketAddr, why: String },
    #[error("no answer from the ngrok agent at {api} within {timeout:?}")]
    Silent { api: SocketAddr, timeout: Duration },
    #[error("the ngrok agent's answer is not {expected}: {why}")]
    Unreadable { expected: &'static str, why: String },
    #[error("the ngrok agent runs no https tunnel")]
    NoHttpsTunnel,
}

/// The `wss://` URL of the agent's https tunnel to `local_port` (or its first https tunnel).
pub(crate) async fn public_url(
    api: SocketAddr,
    local_port: u16,
    timeout: Duration,
) -> Result<String, TunnelError> {
    let body = tokio::time::timeout(timeout, get_tunnels(api))
        .await
        .map_err(|_| TunnelError::Silent { api, timeout })??;
    let tunnels: Tunnels = serde_json::from_slice(&body).map_err(|e| TunnelError::Unreadable {
        expected: "its tunnel list",
        why: e.to_string(),
    })?;
    let https: Vec<&Tunnel> = tunnels
        .tunnels
        .iter()
        .filter(|t| t.proto == "https" || t.public_url.starts_with("https://"))
        .collect();
    let port_suffix = format!(":{local_port}");
    let tunnel = https
        .iter()
        .find(|t| {
            t.config
                .as_ref()
                .is_some_and(|c| c.addr.ends_with(&port_suffix))
        })
        .or_else(|| https.first())
        .ok_or(TunnelError::NoHttpsTunnel)?;
    Ok(tunnel.public_url.replacen("https://", "wss://", 1))
}

async fn get_tunnels(api: SocketAddr) -> Result<Vec<u8>, TunnelError> {
    let lost = |e: std::io::Error| TunnelError::NoAgent {
        api,
        why: e.to_string(),
    };
    let mut stream = tokio::net::TcpStream::connect(api).await.map_err(lost)?;
    let request = format!(
        "GET /api/tunnels HTTP/1.1\r\nHost: {api}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.map_err(lost)?;
    let mut raw = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.map_err(lost)?;
        if n == 0 || raw.len() > LIMIT_BYTES {
            break;
        }
        raw.extend_from_slice(&chunk[..n]);
    }
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let used = match response.parse(&raw) {
        Ok(httparse::Status::Complete(used)) => used,
        _ => {
            return Err(TunnelError::Unreadable {
                expected: "HTTP",
                why: "no complete response head".into(),
            });
        }
    };
    if response.code != Some(200) {
        return Err(TunnelError::Unreadable {
            expected: "a tunnel list",
            why: format!("it answered {}", response.code.unwrap_or_default()),
        });
    }
    Ok(raw[used..].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake agent on loopback answering with the documented shape (two tunnels, v2 style).
    #[tokio::test]
    async fn the_https_tunnel_to_our_port_becomes_wss() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let api = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            if let Ok((mut socket, _)) = listener.accept().await {
                let mut request = [0u8; 1024];
                let _ = socket.read(&mut request).await;
                let body = r#"{"tunnels":[
                    {"name":"command_line (http)","uri":"/api/tunnels/command_line%20(http)","public_url":"http://b42658ec.ngrok.io","proto":"http","config":{"addr":"http://localhost:5001","inspect":true}},
                    {"name":"other","public_url":"https://other.ngrok.io","proto":"https","config":{"addr":"http://localhost:8080"}},
                    {"name":"command_line","uri":"/api/tunnels/command_line","public_url":"https://b42658ec.ngrok.io","proto":"https","config":{"addr":"http://localhost:5001","inspect":true},"metrics":{}}
                ],"uri":"/api/tunnels"}"#;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        let url = public_url(api, 5001, Duration::from_secs(2)).await;
        assert_eq!(url.as_deref(), Ok("wss://b42658ec.ngrok.io"));
    }

    #[tokio::test]
    async fn no_agent_is_a_clear_message() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let api = listener.local_addr().expect("addr");
        drop(listener);
        let error = public_url(api, 5001, Duration::from_secs(2))
            .await
            .expect_err("no agent");
        assert!(matches!(error, TunnelError::NoAgent { .. }), "{error:?}");
        assert!(
            error.to_string().starts_with("no ngrok agent at"),
            "{error}"
        );
    }
}
