//! Stream Doctor's core: the checks that find out why a telephony provider does not connect to
//! a WebSocket media-stream server, the diagnosis that names the cause, and the pieces the
//! window and the headless commands share. Only `ui` (behind the `gui` feature) knows egui.

pub mod audio;
pub mod check;
pub mod checklist;
pub mod demo;
pub mod diagnosis;
pub mod engine;
pub mod http;
pub mod probe;
pub mod report;
pub mod secret;
pub mod session;
pub mod stream;
#[cfg(feature = "gui")]
pub mod ui;
