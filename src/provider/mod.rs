//! The provider's own record: the webhooks it sends (each signature judged, each body read,
//! all correlated with the streams that did or did not arrive) and its REST API.

pub mod api;
pub mod correlate;
pub mod signature;
pub mod webhook;
