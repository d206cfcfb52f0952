//! A stream started on a live call through the provider's API, then confirmed at this
//! listener or reported missing: the seed's symptom (the API accepts, no WebSocket arrives),
//! reproduced on demand.

use std::time::Duration;

use super::listener::wait_for_call;
use crate::catalog::{CauseId, Finding};
use crate::clock;
use crate::provider::api::{Api, ApiError, StreamStart};
use crate::records::live::LiveStore;
use crate::records::telnyx_api::Answer;

/// Whether the stream arrived, when a listener was watching for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    Arrived,
    Missing,
    NotWatched,
}

/// Asks the API to start the stream; with `watch` (the listener the URL reaches, and how long
/// to wait), waits for it there. A stream that never arrives becomes a
/// `provider.started_not_connected` finding on the answer.
pub async fn start_and_confirm(
    api: &Api,
    call: &str,
    start: &StreamStart,
    watch: Option<(&LiveStore, Duration)>,
) -> Result<(Answer, Arrival), ApiError> {
    let asked_at = clock::now();
    let mut answer = api.stream_start(call, start).await?;
    let Some((store, within)) = watch else {
        return Ok((answer, Arrival::NotWatched));
    };
    if wait_for_call(store, call, within).await {
        return Ok((answer, Arrival::Arrived));
    }
    answer.findings.push(Finding {
        cause: CauseId::ProviderStartedNotConnected,
        summary: format!(
            "the API accepted streaming_start toward {} at {} (call {call}), and nothing arrived at the listener in {} s",
            start.url,
            clock::rfc3339(asked_at),
            within.as_secs_f64()
        ),
        severity: None,
    });
    Ok((answer, Arrival::Missing))
}
