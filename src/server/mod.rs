//! The server's side: the listener that stands in for the user's server (`admission`: who gets
//! in; `listener`: the sockets of the streams admitted; `receiver`: one stream's messages,
//! without a socket; `webhooks`: the provider's webhooks on the same port), its monitor and the
//! client that watches it from elsewhere (`monitor`, `watch`; the window follows and mirrors it
//! with `mirror`), a stream started through the
//! provider's API and confirmed at the listener (`confirm`), and the local ngrok agent's tunnel
//! (`ngrok`).

pub mod admission;
pub mod confirm;
pub mod listener;
#[cfg(feature = "gui")]
pub mod mirror;
pub mod monitor;
#[cfg(feature = "gui")]
pub mod ngrok;
pub mod receiver;
pub mod watch;
pub mod webhooks;
