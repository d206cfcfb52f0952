//! The records floor: what happened, as plain data that knows no sockets, no runtime and no
//! WebSocket library. The checks' evidence, the diagnosis, the session, the comparison and the
//! reports stand on these; the network and stream code above fills them in.

pub mod address;
pub mod call;
pub mod certificate;
pub mod close;
pub mod conversation;
pub mod event;
pub mod exchange;
pub mod live;
pub mod telnyx_api;
pub mod webhook;
