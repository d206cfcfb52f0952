//! Stream Doctor's core: the checks that find out why a telephony provider does not connect to
//! a WebSocket media-stream server, the diagnosis that names the cause, and the pieces the
//! window and the headless commands share. Only `ui` knows egui; it and its worker, `engine`, build
//! only with the `gui` feature.
//! The floors, from the ground up, and where new things go: docs/architecture.md.
//! Nothing here prints: output leaves through its caller's masked writers (the binary's
//! `Output`, the monitor's socket), so printing directly is an error.
#![deny(clippy::print_stdout, clippy::print_stderr)]
// Only the library's real API is `pub`; the rest is `pub(crate)`, so the compiler reports dead
// code. Some of it serves only the window: built without it, that part is expected to go unused.
#![cfg_attr(not(feature = "gui"), allow(dead_code))]

pub mod audio;
pub mod catalog;
pub mod check;
pub mod checklist;
pub mod clock;
pub mod compare;
pub mod converse;
pub mod demo;
pub mod diagnosis;
pub mod edge;
#[cfg(feature = "gui")]
pub mod engine;
pub mod explain;
pub mod net;
pub mod probe;
pub mod provider;
pub mod records;
pub mod report;
pub mod secret;
pub mod server;
pub mod session;
pub mod stream;
#[cfg(feature = "gui")]
pub mod ui;
pub mod vantage;
