//! How long `check` takes against a healthy local target with no observation window: the
//! figure the "well under a second" target is judged by. Prints min / median / max over runs.
//! Run with `cargo bench --bench check`.

use std::time::{Duration, Instant};

use stream_doctor::check::options::CheckOptions;
use stream_doctor::demo::{DemoMode, DemoTarget};
use stream_doctor::probe;

const RUNS: usize = 30;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        for mode in [DemoMode::Healthy, DemoMode::PathMismatch] {
            let demo = DemoTarget::start(mode.behavior()).await?;
            let options = CheckOptions {
                observe: Duration::ZERO,
                resolve: vec![demo.pin.clone()],
                extra_roots: vec![demo.root.clone()],
                ..CheckOptions::default()
            };
            let mut times = Vec::with_capacity(RUNS);
            for _ in 0..RUNS {
                let started = Instant::now();
                let report = probe::run(&demo.url, &options, &|_| {}).await;
                times.push(started.elapsed());
                if report.exit_code() != i32::from(mode != DemoMode::Healthy) {
                    return Err(format!("unexpected verdict for {}", mode.name()).into());
                }
            }
            times.sort();
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            println!(
                "check --demo {:<14} --observe 0: min {:7.1} ms  median {:7.1} ms  max {:7.1} ms  ({RUNS} runs)",
                mode.name(),
                ms(times[0]),
                ms(times[RUNS / 2]),
                ms(times[RUNS - 1])
            );
        }
        Ok(())
    })
}
