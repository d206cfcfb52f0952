//! Plain-words explanations of the jargon the window shows, for hover text.

/// The explanation of a term, when there is one.
pub(crate) fn explain(term: &str) -> Option<&'static str> {
    let text = match term {
        "TLS" => {
            "TLS is the encryption behind wss:// and https://. The server proves who it is with a certificate."
        }
        "certificate chain" => {
            "The server's certificate plus the 'intermediate' certificates that link it to an authority the provider trusts. A missing link makes the provider refuse the connection."
        }
        "ALPN" => {
            "During TLS the client offers the protocols it speaks (here 'http/1.1'); the server picks one. A WebSocket needs HTTP/1.1."
        }
        "upgrade" => {
            "A WebSocket starts as an ordinary HTTP request that asks the server to switch ('upgrade') to WebSocket. Yes is '101 Switching Protocols'."
        }
        "101" => {
            "'101 Switching Protocols' is the server saying yes to a WebSocket. Any other status means no."
        }
        "Sec-WebSocket-Accept" => {
            "A value the server computes from the client's random key to prove it understood the WebSocket request."
        }
        "DNS" => "DNS turns a host name such as api.example.com into an IP address.",
        "loopback" => {
            "127.0.0.1 / ::1: this machine itself. Nothing on the internet can connect to it."
        }
        "TCP" => "The plain network connection underneath everything else.",
        "ping" => {
            "A tiny WebSocket message the other side must answer (with a 'pong'); it shows the session is alive."
        }
        "close code" => {
            "A number the side that ends a WebSocket sends: 1000 is a normal end, 1008 a policy refusal, 1003 unsupported data, 1011 a server error."
        }
        "PCMU" => {
            "G.711 µ-law, the classic telephone audio codec: 8000 samples a second, one byte each."
        }
        _ => return None,
    };
    Some(text)
}

/// The terms worth explaining for each check, in the order they matter there.
pub(crate) fn terms_for(check: crate::catalog::CheckId) -> &'static [&'static str] {
    use crate::catalog::CheckId::*;
    match check {
        Url => &[],
        Dns => &["DNS", "loopback"],
        Tcp => &["TCP"],
        Tls => &["TLS", "certificate chain", "ALPN"],
        Upgrade => &["upgrade", "101", "Sec-WebSocket-Accept"],
        Websocket => &["ping", "close code"],
        Paths => &["upgrade"],
        Provider => &["PCMU", "close code"],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_term_is_explained() {
        for check in crate::catalog::CheckId::ALL {
            for term in terms_for(check) {
                assert!(explain(term).is_some(), "{term}");
            }
        }
    }
}
