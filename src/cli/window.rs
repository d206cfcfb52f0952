//! Opening the window from the command line (or saying why it cannot open).

use std::process::ExitCode;

use super::output::Output;

#[cfg(not(feature = "gui"))]
use super::USAGE;

#[cfg(feature = "gui")]
pub fn window(
    out: &Output,
    launched: std::time::Instant,
    measure_secs: Option<f64>,
    run_all: bool,
    demo_stream: bool,
    streams: usize,
) -> ExitCode {
    use stream_doctor::ui::{AppOptions, measure::Measure};
    let options = AppOptions {
        launched,
        measure: measure_secs.map(|seconds| Measure {
            seconds,
            run_all,
            demo_stream,
            streams,
        }),
        api_key: std::env::var("TELNYX_API_KEY").ok(),
        api_base: std::env::var("TELNYX_API_BASE").ok(),
        webhook_public_key: std::env::var("TELNYX_PUBLIC_KEY").ok(),
        ..AppOptions::default()
    };
    match stream_doctor::ui::run(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            out.error(format!(
                "the window could not open: {e}\n(headless? `stream-doctor check --help` works without one)"
            ));
            ExitCode::FAILURE
        }
    }
}

#[cfg(not(feature = "gui"))]
pub fn window(
    out: &Output,
    _: std::time::Instant,
    _: Option<f64>,
    _: bool,
    _: bool,
    _: usize,
) -> ExitCode {
    out.error(
        "this build has no window (built without the `gui` feature); try `stream-doctor check --help`",
    );
    ExitCode::from(USAGE)
}
