//! Stream Doctor's core: the checks that find out why a telephony provider does not connect to
//! a WebSocket media-stream server, the diagnosis that names the cause, and the pieces the
//! window and the headless commands share. Nothing here knows about a user interface.

pub mod audio;
pub mod check;
pub mod demo;
pub mod diagnosis;
pub mod probe;
pub mod report;
pub mod secret;
