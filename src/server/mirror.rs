//! A watched listener in the window: the loop that follows it, reconnecting (`follow`), and
//! the `Mirror` that rebuilds its streams in a local store from its events, so remote streams
//! are shown exactly like local ones. The client itself is `watch`'s.

use std::time::Duration;

use super::monitor::MonitorEvent;
use super::watch::{WatchEnd, WatchError, WatchOptions, connect};
use crate::records::event::Fresh;
use crate::records::live::LiveStore;

/// How following a listener goes, for whoever shows it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Following {
    Connected,
    /// The link dropped or could not be made; another try comes after `after`.
    Reconnecting {
        why: Interrupted,
        after: Duration,
    },
    /// Trying again would not help (a refusal, a bad URL), or the person stopped it.
    Stopped {
        why: Halt,
    },
}

/// Why a link is being tried again.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub(crate) enum Interrupted {
    #[error("the listener closed the monitor: {0}")]
    Closed(String),
    #[error("the link dropped: {0}")]
    Dropped(String),
    #[error(transparent)]
    Failed(WatchError),
}

/// Why following stopped.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub(crate) enum Halt {
    #[error(transparent)]
    Refused(WatchError),
    #[error("stopped")]
    ByHand,
}

/// The longest pause between two tries.
pub(crate) const FOLLOW_BACKOFF_MAX: Duration = Duration::from_secs(15);

/// Follows a listener into `mirror` until it refuses (or the future is dropped), reconnecting
/// with a pause that doubles up to `FOLLOW_BACKOFF_MAX`; every event the mirror did not have
/// (a webhook, a finding) goes to `news`, every change of the link to `state`.
pub(crate) async fn follow(
    options: &WatchOptions,
    mirror: &mut Mirror,
    state: &(dyn Fn(Following) + Send + Sync),
    news: &mut (dyn FnMut(MonitorEvent) + Send),
) {
    let mut pause = Duration::from_secs(1);
    loop {
        let why = match connect(options).await {
            Ok(monitor) => {
                state(Following::Connected);
                pause = Duration::from_secs(1);
                let mut unreadable = 0;
                let mut on_event = |event: MonitorEvent| {
                    if mirror.apply(&event) != Fresh::Nothing {
                        news(event);
                    }
                };
                match monitor.run(&mut on_event, &mut unreadable).await {
                    WatchEnd::Closed(reason) => Interrupted::Closed(reason),
                    WatchEnd::Lost(why) => Interrupted::Dropped(why),
                }
            }
            Err(e @ (WatchError::Refused(..) | WatchError::BadUrl(_))) => {
                state(Following::Stopped {
                    why: Halt::Refused(e),
                });
                return;
            }
            Err(e) => Interrupted::Failed(e),
        };
        state(Following::Reconnecting { why, after: pause });
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(FOLLOW_BACKOFF_MAX);
    }
}

/// A local copy of a remote listener's streams, built from its events. Events replayed after
/// a reconnect are recognised: a stream is added once, a level point once.
#[derive(Default)]
pub(crate) struct Mirror {
    pub store: LiveStore,
}

impl Mirror {
    /// Applies `event` to the mirror's store (the reducer every store uses); what it added.
    pub(crate) fn apply(&mut self, event: &MonitorEvent) -> Fresh {
        match self.store.lock() {
            Ok(mut live) => live.apply(event),
            Err(_) => Fresh::Nothing,
        }
    }
}
