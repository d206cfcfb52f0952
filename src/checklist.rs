//! The troubleshooting page as data: its possible causes and diagnostic steps as items a
//! person follows. Automatic items are the checks; manual items (platform logs, the provider's
//! portal and settings) say what to look for and what healthy and unhealthy look like.

use serde::{Deserialize, Serialize};

use crate::catalog::CheckId;
#[cfg(feature = "gui")]
use crate::catalog::{CauseId, Finding, Severity};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ItemKind {
    /// Run by Stream Doctor: the check of that id.
    Check(CheckId),
    /// Done by a person, who records a verdict and notes.
    Manual(ManualStep),
    /// A call placed as the provider, once the checks pass: the way back (`converse`).
    Conversation,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ManualStep {
    pub look_for: &'static [&'static str],
    pub healthy: &'static str,
    pub unhealthy: &'static str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Item {
    /// Stable id, used in saved sessions.
    pub id: &'static str,
    pub title: &'static str,
    /// The part of the troubleshooting page this item answers.
    pub answers: &'static str,
    /// What it means, for someone who does not know the protocols.
    pub explain: &'static str,
    pub kind: ItemKind,
}

/// A person's verdict on a manual item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Ok,
    Problem,
    Skipped,
}

impl Verdict {
    /// The choices the window offers (the headless build records verdicts from saved sessions).
    #[cfg(feature = "gui")]
    pub(crate) const ALL: [Verdict; 3] = [Verdict::Ok, Verdict::Problem, Verdict::Skipped];

    pub(crate) fn label(self) -> &'static str {
        match self {
            Verdict::Ok => "Looks fine",
            Verdict::Problem => "Found a problem",
            Verdict::Skipped => "Skipped",
        }
    }
}

pub(crate) const ITEMS: &[Item] = &[
    Item {
        id: "url",
        title: CheckId::Url.title(),
        answers: "3. WebSocket path/format issues; 5. stream_url format",
        explain: "Looks at the URL you give the provider: it must start with wss://, name a host, and hold real ids, not placeholders such as {callSessionId} that a template forgot to fill in.",
        kind: ItemKind::Check(CheckId::Url),
    },
    Item {
        id: "dns",
        title: CheckId::Dns.title(),
        answers: "4. Network/firewall issues",
        explain: "DNS turns the host name into an IP address. The provider connects from the internet, so the address must be public (not 127.0.0.1 or a 10.x / 192.168.x private one).",
        kind: ItemKind::Check(CheckId::Dns),
    },
    Item {
        id: "tcp",
        title: CheckId::Tcp.title(),
        answers: "4. Network/firewall issues",
        explain: "Opens a plain network (TCP) connection to the port. 'Refused' means nothing listens there; no answer usually means a firewall drops the traffic.",
        kind: ItemKind::Check(CheckId::Tcp),
    },
    Item {
        id: "tls",
        title: CheckId::Tls.title(),
        answers: "2. SSL/TLS certificate issues",
        explain: "TLS is the encryption behind wss://. The server shows a certificate chain (its own certificate plus the 'intermediate' ones linking it to a trusted authority). Providers reject expired, self-signed or incomplete chains even when a browser copes.",
        kind: ItemKind::Check(CheckId::Tls),
    },
    Item {
        id: "upgrade",
        title: CheckId::Upgrade.title(),
        answers: "1. Platform WebSocket support; Step 1: connect by hand",
        explain: "A WebSocket starts as an HTTP request asking to 'upgrade'. A server that supports it answers 101 Switching Protocols; anything else (404, 400, 200, a redirect) means the request never reached a WebSocket handler.",
        kind: ItemKind::Check(CheckId::Upgrade),
    },
    Item {
        id: "websocket",
        title: CheckId::Websocket.title(),
        answers: "Step 1: connect by hand (what wscat does)",
        explain: "Opens a real WebSocket session, sends a ping and waits for the pong, then watches whether the server hangs up on its own.",
        kind: ItemKind::Check(CheckId::Websocket),
    },
    Item {
        id: "paths",
        title: CheckId::Paths.title(),
        answers: "3. WebSocket path/format issues",
        explain: "Tries the same request at look-alike paths (another id, the literal ':id', a trailing slash, '/'). If one of those works while yours does not, the server's route is written for a different path.",
        kind: ItemKind::Check(CheckId::Paths),
    },
    Item {
        id: "provider",
        title: CheckId::Provider.title(),
        answers: "Step 3: the provider's WebSocket requirements",
        explain: "Behaves like Telnyx: sends 'connected', 'start' with the audio format, a second of audio, and 'stop', then sees whether the server keeps the stream.",
        kind: ItemKind::Check(CheckId::Provider),
    },
    Item {
        id: "converse",
        title: "The bot answers the caller",
        answers: "After the stream connects: the way back (the caller hears nothing, static, a stutter, a slow bot)",
        explain: "Places a short, real call as the provider: the caller speaks two sentences in real time and waits. Stream Doctor judges what comes back as the provider would play it: its format read from the bytes, its timing, its marks.",
        kind: ItemKind::Conversation,
    },
    Item {
        id: "platform_logs",
        title: "Read the hosting platform's logs",
        answers: "Step 2: check platform logs; 1. platform WebSocket support",
        explain: "Your hosting platform (Railway, Heroku, Fly, a load balancer, nginx) logs each request it routes. They show whether the provider's connection attempt reached you at all.",
        kind: ItemKind::Manual(ManualStep {
            look_for: &[
                "a GET to your stream path at the time of the call, with 'Upgrade: websocket'",
                "its status: 101 means upgraded; 4xx/5xx says why it was refused",
                "errors from your WebSocket handler right after such a request",
            ],
            healthy: "The provider's request appears with status 101 and your handler logs a new connection.",
            unhealthy: "No request at all at the time of the call (it never reached you: DNS, TLS or network), or the request appears with 400/404/426/502.",
        }),
    },
    Item {
        id: "provider_portal",
        title: "Check the provider's portal (call events)",
        answers: "Step 4: check the Telnyx dashboard",
        explain: "The provider records what it tried. In Telnyx Mission Control, the call's debugging view and the webhook log show the stream events for the call.",
        kind: ItemKind::Manual(ManualStep {
            look_for: &[
                "a streaming.failed event and its failure_reason",
                "the exact stream_url the call used",
                "whether the call was still up when streaming started",
            ],
            healthy: "streaming.started, no streaming.failed, and the stream_url is exactly the one you checked here.",
            unhealthy: "streaming.failed (for example failure_reason 'connection_failed'), or a stream_url that differs from the one you meant.",
        }),
    },
    Item {
        id: "provider_settings",
        title: "Check the provider's application settings",
        answers: "5. Telnyx configuration",
        explain: "Settings on the provider's side decide what it sends: the URL, which audio track, the codec, and an optional auth token that arrives as the 'x-telnyx-streaming-auth-token' header.",
        kind: ItemKind::Manual(ManualStep {
            look_for: &[
                "stream_url as sent in streaming_start (log it before the call)",
                "stream_auth_token, if your server checks a token",
                "stream_track and stream_codec against what your server expects",
            ],
            healthy: "The settings match what your server expects, and the same URL passes every check here.",
            unhealthy: "A different URL, a token your server does not accept, or a server that demands an Authorization header the provider never sends.",
        }),
    },
    Item {
        id: "tunnel",
        title: "Test locally through a tunnel",
        answers: "Step 5: test with ngrok",
        explain: "Run your server on your machine and expose it with a tunnel (ngrok http 5001); give the provider the tunnel's wss:// URL. If that works, the difference is in the hosting platform.",
        kind: ItemKind::Manual(ManualStep {
            look_for: &[
                "the tunnel's https URL turned into wss:// with your path",
                "a connection in your local server's log when the call starts",
            ],
            healthy: "The provider connects through the tunnel: the fault is in the platform (proxy, TLS, routing).",
            unhealthy: "It fails through the tunnel too: look at the server's own routing and the provider settings.",
        }),
    },
];

/// The provider's own record (its webhooks, its API) answers part of some manual steps: the
/// findings that bear on `item` (shown beside the step in the window).
#[cfg(feature = "gui")]
pub(crate) fn provider_evidence<'a>(item: &str, findings: &'a [Finding]) -> Vec<&'a Finding> {
    let causes: &[CauseId] = match item {
        "provider_portal" => &[
            CauseId::ProviderStreamFailed,
            CauseId::ProviderStartedNotConnected,
            CauseId::ProviderWebhooksNotDelivered,
        ],
        "provider_settings" => &[CauseId::ProviderUrlDiffers],
        _ => &[],
    };
    findings
        .iter()
        .filter(|f| causes.contains(&f.cause))
        .collect()
}

/// The verdict that evidence suggests (a person still decides): a problem when any of it is
/// more than information.
#[cfg(feature = "gui")]
pub(crate) fn suggested_verdict(evidence: &[&Finding]) -> Option<Verdict> {
    evidence
        .iter()
        .any(|f| f.severity() != Severity::Info)
        .then_some(Verdict::Problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_has_exactly_one_item_and_ids_are_unique() {
        for check in CheckId::ALL {
            let count = ITEMS
                .iter()
                .filter(|i| i.kind == ItemKind::Check(check))
                .count();
            assert_eq!(count, 1, "{}", check.as_str());
        }
        let mut ids: Vec<_> = ITEMS.iter().map(|i| i.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), ITEMS.len());
        assert!(ITEMS.iter().any(|i| matches!(i.kind, ItemKind::Manual(_))));
    }

    #[test]
    fn the_providers_record_suggests_verdicts_for_its_steps() {
        let found = |cause| Finding {
            cause,
            summary: String::new(),
            severity: None,
        };
        let findings = [
            found(CauseId::ProviderStreamFailed),
            found(CauseId::ProviderUrlDiffers),
            found(CauseId::DnsNoRecords),
        ];
        let portal = provider_evidence("provider_portal", &findings);
        assert_eq!(portal.len(), 1);
        assert_eq!(portal[0].cause, CauseId::ProviderStreamFailed);
        let settings = provider_evidence("provider_settings", &findings);
        assert_eq!(settings[0].cause, CauseId::ProviderUrlDiffers);
        assert_eq!(suggested_verdict(&settings), Some(Verdict::Problem));
        assert!(provider_evidence("platform_logs", &findings).is_empty());
        assert_eq!(suggested_verdict(&[]), None);
        for item in ["provider_portal", "provider_settings"] {
            assert!(ITEMS.iter().any(|i| i.id == item), "{item} is an item");
        }
    }
}
