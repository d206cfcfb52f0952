//! `stream-doctor watch URL`: a deployed listener's events at the desk, one line each (or one
//! JSON object per line), until Ctrl-C or until the listener closes the monitor.

use std::time::Duration;

use super::output::Output;
use super::{CaFile, SummaryFormat, parse};
use stream_doctor::records::address::ResolvePin;
use stream_doctor::secret::Secret;
use stream_doctor::server::monitor::MonitorEvent;
use stream_doctor::server::watch::{self, WatchEnd, WatchOptions};

#[derive(clap::Args)]
#[command(
    after_help = "Exit status: 0 when the listener closes the monitor (or on Ctrl-C), 1 when it cannot be reached or the link drops.\n\nExamples:\n  stream-doctor watch wss://listener.up.railway.app --token \"$STREAM_DOCTOR_TOKEN\"\n  stream-doctor watch ws://127.0.0.1:5001 --format json"
)]
pub struct WatchArgs {
    /// The listener's base URL (wss://host or ws://host:port); /monitor is appended.
    url: String,
    /// The listener's token, sent as a Bearer token (never in the URL).
    #[arg(long, env = "STREAM_DOCTOR_TOKEN", hide_env_values = true)]
    token: Option<String>,
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    format: SummaryFormat,
    /// Deadline of the connection and the handshake, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = parse::seconds)]
    timeout: f64,
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    resolve: Vec<ResolvePin>,
    #[arg(long, value_name = "PEM", value_parser = parse::ca_file)]
    ca_file: Option<CaFile>,
}

pub async fn run(args: WatchArgs, out: &Output) -> anyhow::Result<u8> {
    let options = WatchOptions {
        url: args.url.clone(),
        token: args.token.filter(|t| !t.is_empty()).map(Secret::new),
        timeout: Duration::from_secs_f64(args.timeout),
        extra_roots: args.ca_file.map(|f| f.roots).unwrap_or_default(),
        resolve: args.resolve,
    };
    let json = matches!(args.format, SummaryFormat::Json);
    let mut print = move |event: MonitorEvent| {
        let line = if json {
            serde_json::to_string(&event).unwrap_or_default()
        } else {
            event.to_string()
        };
        out.line(&line);
    };
    let monitor = match watch::connect(&options).await {
        Ok(monitor) => monitor,
        Err(e) => {
            out.error(format!("cannot watch {}: {e}", args.url));
            return Ok(1);
        }
    };
    out.note(&format!("watching {} (Ctrl-C to stop)", args.url));
    let mut unreadable = 0;
    let ended = tokio::select! {
        ended = monitor.run(&mut print, &mut unreadable) => ended,
        _ = tokio::signal::ctrl_c() => return Ok(0),
    };
    if unreadable > 0 {
        out.note(&format!(
            "{unreadable} message(s) were not monitor events and were skipped"
        ));
    }
    match ended {
        WatchEnd::Closed(reason) => {
            out.note(&format!("the listener closed the monitor: {reason}"));
            Ok(0)
        }
        WatchEnd::Lost(why) => {
            out.error(format!("the link to the listener dropped: {why}"));
            Ok(1)
        }
    }
}
