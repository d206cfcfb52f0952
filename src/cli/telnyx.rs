//! `stream-doctor telnyx ...`: the provider's own record through its REST API, with the key
//! from `TELNYX_API_KEY` (never echoed), and a test stream started on a live call.

use std::time::Duration;

use anyhow::Context;
use clap::{Subcommand, ValueEnum};

use super::output::Output;
use super::{SummaryFormat, USAGE, parse};
use stream_doctor::catalog::Severity;
use stream_doctor::provider::api::{self, Api, ApiError, DeliveryFilter, EventsOf, StreamStart};
use stream_doctor::report::api as render;
use stream_doctor::secret::Secret;
use stream_doctor::server::confirm::{self, Arrival};
use stream_doctor::server::listener::{ListenOptions, Listener};
use stream_doctor::server::monitor::MonitorEvent;

#[derive(clap::Args)]
#[command(
    after_help = "The API key is read from TELNYX_API_KEY and kept in memory only.\n\nExamples:\n  stream-doctor telnyx deliveries --event streaming.failed --since 2026-11-25T00:00:00Z\n  stream-doctor telnyx events --call v3:abc…\n  stream-doctor telnyx stream-start v3:abc… --url wss://PUBLIC-HOST/stream --listen 127.0.0.1:5001"
)]
pub struct TelnyxArgs {
    #[command(subcommand)]
    action: Action,
    /// The API's base URL (a local stand-in, for tests).
    #[arg(long, global = true, value_name = "URL", env = "TELNYX_API_BASE", default_value = api::DEFAULT_BASE)]
    api_base: String,
    /// Deadline of each request, in seconds (a timed-out request is not retried).
    #[arg(long, global = true, value_name = "SECS", default_value_t = api::DEFAULT_TIMEOUT.as_secs_f64(), value_parser = parse::seconds)]
    timeout: f64,
    #[arg(long, global = true, value_enum, default_value_t = SummaryFormat::Text)]
    format: SummaryFormat,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Bidirectional {
    Rtp,
    Mp3,
}

#[derive(Clone, Copy, ValueEnum)]
enum DeliveryStatus {
    Delivered,
    Failed,
}

#[derive(Clone, Copy, ValueEnum)]
#[allow(clippy::enum_variant_names)]
enum Track {
    #[value(name = "inbound_track")]
    InboundTrack,
    #[value(name = "outbound_track")]
    OutboundTrack,
    #[value(name = "both_tracks")]
    BothTracks,
}

impl Track {
    fn as_str(self) -> &'static str {
        match self {
            Track::InboundTrack => "inbound_track",
            Track::OutboundTrack => "outbound_track",
            Track::BothTracks => "both_tracks",
        }
    }
}

#[derive(Subcommand)]
enum Action {
    /// The webhook delivery log: did the provider's webhooks reach your server?
    Deliveries {
        /// Only this event type (streaming.failed, streaming.started, ...).
        #[arg(long, value_name = "TYPE")]
        event: Option<String>,
        #[arg(long, value_enum)]
        status: Option<DeliveryStatus>,
        /// Only deliveries started at or after this time (RFC 3339).
        #[arg(long, value_name = "RFC3339", value_parser = parse::rfc3339)]
        since: Option<String>,
        /// Only deliveries whose webhook mentions this call_control_id.
        #[arg(long, value_name = "CALL_CONTROL_ID")]
        call: Option<String>,
        /// At most N deliveries (pages are fetched until it is reached).
        #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        limit: u32,
    },
    /// A call's commands and webhooks in time order, streaming ones marked.
    #[command(group = clap::ArgGroup::new("of").required(true).args(["call", "leg", "session"]))]
    Events {
        #[arg(long, value_name = "CALL_CONTROL_ID")]
        call: Option<String>,
        #[arg(long, value_name = "CALL_LEG_ID")]
        leg: Option<String>,
        #[arg(long, value_name = "CALL_SESSION_ID")]
        session: Option<String>,
        #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        limit: u32,
    },
    /// Is the call alive? Its duration, start and end.
    Call {
        #[arg(value_name = "CALL_CONTROL_ID")]
        id: String,
    },
    /// The Call Control application: where its webhooks go, API version, timeout, active.
    App {
        #[arg(value_name = "APPLICATION_ID")]
        id: String,
    },
    /// Start a stream on a live call toward URL; with --listen, also wait for it to arrive.
    StreamStart {
        #[arg(value_name = "CALL_CONTROL_ID")]
        id: String,
        /// The stream URL the provider should connect to (wss://...).
        #[arg(long, value_name = "URL")]
        url: String,
        #[arg(long, value_enum, default_value_t = Track::InboundTrack)]
        track: Track,
        /// PCMU, PCMA, G722, OPUS, AMR-WB or L16 (the provider's default when absent).
        #[arg(long, value_name = "CODEC")]
        codec: Option<String>,
        /// How the server's replies are played: rtp (the call's codec, 20 ms to 30 s chunks) or
        /// mp3 (base64 MP3, at most one message a second). Without it Telnyx expects MP3.
        #[arg(long, value_enum, value_name = "MODE")]
        bidirectional: Option<Bidirectional>,
        /// With --bidirectional rtp: the codec of the replies (PCMU, PCMA, G722, OPUS, AMR-WB,
        /// L16; case-sensitive).
        #[arg(long, value_name = "CODEC", requires = "bidirectional")]
        bidirectional_codec: Option<String>,
        /// NAME=VALUE carried into the stream's `start` message (repeatable): tag the test
        /// stream so the listener can tell it from others.
        #[arg(long = "custom-parameter", value_name = "NAME=VALUE", value_parser = parse::name_value)]
        custom_parameters: Vec<(String, String)>,
        /// The stream_auth_token the stream carries (its header and `connected` message).
        /// streaming_start and dial take one; a stream started on answer cannot carry one.
        #[arg(
            long,
            value_name = "TOKEN",
            env = "STREAM_DOCTOR_AUTH_TOKEN",
            hide_env_values = true
        )]
        auth_token: Option<String>,
        /// Listen on ADDR (which URL reaches, e.g. through a tunnel) and report whether the
        /// stream arrived. Off loopback it needs --token.
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
        /// With --listen: the listener's token, as `listen --token`. It is also handed to the
        /// provider as the stream_auth_token, so the stream carries it and the listener admits it.
        #[arg(
            long,
            value_name = "TOKEN",
            env = "STREAM_DOCTOR_TOKEN",
            hide_env_values = true,
            requires = "listen",
            conflicts_with = "auth_token"
        )]
        token: Option<String>,
        /// With --listen: how long the stream may take to arrive, in seconds.
        #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = parse::seconds, requires = "listen")]
        wait: f64,
    },
    /// Stop a stream on a live call (all of them without --stream-id).
    StreamStop {
        #[arg(value_name = "CALL_CONTROL_ID")]
        id: String,
        #[arg(long, value_name = "ID")]
        stream_id: Option<String>,
    },
}

pub async fn run(args: TelnyxArgs, out: &Output) -> anyhow::Result<u8> {
    if let Action::StreamStart {
        listen: Some(bind),
        token,
        ..
    } = &args.action
    {
        let has_token = token.as_ref().is_some_and(|t| !t.is_empty());
        if let Err(why) = parse::gate(*bind, has_token, false) {
            out.error(why);
            return Ok(USAGE);
        }
    }
    let Some(key) = std::env::var("TELNYX_API_KEY")
        .ok()
        .filter(|k| !k.trim().is_empty())
    else {
        out.error(
            "no API key: set TELNYX_API_KEY (Mission Control Portal → Keys & Credentials → API Keys)",
        );
        return Ok(USAGE);
    };
    let api = Api::new(
        Secret::new(key),
        Some(&args.api_base),
        Duration::from_secs_f64(args.timeout),
    )?;
    let answer = match args.action {
        Action::Deliveries {
            event,
            status,
            since,
            call,
            limit,
        } => {
            let filter = DeliveryFilter {
                event,
                status: status.map(|s| match s {
                    DeliveryStatus::Delivered => "delivered".into(),
                    DeliveryStatus::Failed => "failed".into(),
                }),
                since,
                call,
                limit: limit as usize,
            };
            api.deliveries(&filter).await
        }
        Action::Events {
            call,
            leg,
            session,
            limit,
        } => {
            let of = call
                .map(EventsOf::Call)
                .or(leg.map(EventsOf::Leg))
                .or(session.map(EventsOf::Session));
            let Some(of) = of else {
                out.error("say whose events: --call, --leg or --session");
                return Ok(USAGE);
            };
            api.events(&of, limit as usize).await
        }
        Action::Call { id } => api.call_status(&id).await,
        Action::App { id } => api.app(&id).await,
        Action::StreamStart {
            id,
            url,
            track,
            codec,
            bidirectional,
            bidirectional_codec,
            custom_parameters,
            auth_token,
            listen,
            token,
            wait,
        } => {
            if bidirectional_codec.is_some() && bidirectional != Some(Bidirectional::Rtp) {
                out.error(
                    "--bidirectional-codec is the codec of rtp mode: add --bidirectional rtp",
                );
                return Ok(USAGE);
            }
            let token = token.filter(|t| !t.is_empty()).map(Secret::new);
            let start = StreamStart {
                url,
                track: track.as_str().into(),
                codec,
                auth_token: token.clone().or(auth_token.map(Secret::new)),
                bidirectional_mode: bidirectional.map(|mode| match mode {
                    Bidirectional::Rtp => "rtp".to_string(),
                    Bidirectional::Mp3 => "mp3".to_string(),
                }),
                bidirectional_codec,
                custom_parameters,
            };
            let listener = match listen {
                Some(bind) => {
                    let options = ListenOptions {
                        bind,
                        token,
                        redactor: out.redactor().clone(),
                        ..ListenOptions::default()
                    };
                    let notes = out.clone();
                    let notify = std::sync::Arc::new(move |event: &MonitorEvent| {
                        notes.note(&event.to_string())
                    });
                    let listener = Listener::start(options, notify)
                        .await
                        .with_context(|| format!("cannot listen on {bind}"))?;
                    Some(listener)
                }
                None => None,
            };
            let store = listener.as_ref().map(Listener::store);
            let within = Duration::from_secs_f64(wait);
            let watch = store.as_ref().map(|store| (store, within));
            let answer = confirm::start_and_confirm(&api, &id, &start, watch).await;
            if let (Some(mut listener), Ok((_, arrival))) = (listener, &answer) {
                if *arrival == Arrival::Arrived {
                    out.note(&format!(
                        "the stream for {id} arrived at {}",
                        listener.addr()
                    ));
                }
                listener.stop();
                listener.stopped().await;
            }
            answer.map(|(answer, _)| answer)
        }
        Action::StreamStop { id, stream_id } => api.stream_stop(&id, stream_id.as_deref()).await,
    };
    let answer = match answer {
        Ok(answer) => answer,
        Err(ApiError::Refused(said)) => {
            out.error(said);
            return Ok(1);
        }
        Err(e) => return Err(e.into()),
    };
    let text = match args.format {
        SummaryFormat::Json => render::json(&answer),
        SummaryFormat::Text => render::text(&answer),
    };
    out.write(None, &text)?;
    let failed = answer
        .findings
        .iter()
        .any(|f| f.severity() == Severity::Fail);
    Ok(u8::from(failed))
}
