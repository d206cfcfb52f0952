//! `--measure-frames`: the window measuring itself. CPU time per frame (eframe's own figure),
//! idle and under load, the time from launch to the first frame, and the window's memory
//! over a long load; printed when the measurement ends, and the window then closes.

use std::time::Instant;

/// What a measurement runs and for how long.
pub struct Measure {
    pub seconds: f64,
    /// Start "Run all" once the demo target is up, to measure frames while checks run.
    pub run_all: bool,
    /// Play the demo stream in the live view, to measure frames while two tracks are plotted.
    pub demo_stream: bool,
    /// This many streams (two tracks each) for the whole measurement, instead.
    pub streams: usize,
}

/// What the window should do after a measured frame.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Due {
    pub run_all: bool,
    pub demo_stream: bool,
    /// Streams to play, and for how many seconds.
    pub load: Option<(usize, f64)>,
    /// The measurement is over and printed.
    pub close: bool,
}

/// One frame as the measurement sees it.
pub(crate) struct Frame {
    /// CPU seconds the frame took, when eframe tells.
    pub cpu: Option<f32>,
    /// Checks running or a stream playing.
    pub busy: bool,
    /// The demo target is up.
    pub demo_ready: bool,
}

#[derive(Default)]
pub(crate) struct FrameStats {
    first_frame_ms: Option<f64>,
    idle: Vec<f32>,
    busy: Vec<f32>,
    started: bool,
    reported: bool,
    /// The window's memory (VmRSS, KiB) every ten seconds, for a load that runs long.
    memory: Vec<(u64, u64)>,
}

impl FrameStats {
    /// Records one frame; says what to start (once) and when to close.
    pub(crate) fn frame(&mut self, measure: &Measure, launched: Instant, frame: Frame) -> Due {
        let elapsed = launched.elapsed();
        self.first_frame_ms
            .get_or_insert(elapsed.as_secs_f64() * 1000.0);
        if let Some(cpu) = frame.cpu {
            if frame.busy {
                self.busy.push(cpu)
            } else {
                self.idle.push(cpu)
            }
        }
        let seconds = elapsed.as_secs();
        if measure.streams > 0 && self.memory.last().is_none_or(|(at, _)| seconds >= at + 10) {
            self.memory.push((seconds, resident_kib()));
        }
        let mut due = Due::default();
        if !self.started {
            due.run_all = measure.run_all && frame.demo_ready;
            due.demo_stream = measure.demo_stream;
            let lead = idle_lead(measure.seconds);
            due.load = (measure.streams > 0 && elapsed.as_secs_f64() >= lead)
                .then_some((measure.streams, measure.seconds - lead));
            self.started = due.run_all || due.demo_stream || due.load.is_some();
        }
        if elapsed.as_secs_f64() >= measure.seconds && !self.reported {
            self.reported = true;
            self.print();
            due.close = true;
        }
        due
    }

    // The one print of the library: timings and memory only, nothing a person typed, for
    // `--measure-frames` run from a terminal. A closed pipe (`| head`) loses the figures, not
    // the window.
    fn print(&self) {
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), "{}", self.report());
    }

    /// The figures, a line each.
    fn report(&self) -> String {
        let describe = |name: &str, samples: &[f32]| {
            if samples.is_empty() {
                return format!("{name}: no frames");
            }
            let mut sorted = samples.to_vec();
            sorted.sort_by(f32::total_cmp);
            let mean = sorted.iter().sum::<f32>() / sorted.len() as f32;
            format!(
                "{name}: {} frames, CPU per frame mean {:.2} ms, median {:.2} ms, p95 {:.2} ms",
                sorted.len(),
                mean * 1000.0,
                median(samples).unwrap_or_default() * 1000.0,
                sorted[sorted.len() * 95 / 100] * 1000.0
            )
        };
        let mut lines = vec![
            format!(
                "launch to first frame: {:.0} ms",
                self.first_frame_ms.unwrap_or_default()
            ),
            describe("idle", &self.idle),
            describe("while checks run or a stream plays", &self.busy),
        ];
        if let (Some(idle), Some(busy)) = (median(&self.idle), median(&self.busy)) {
            lines.push(format!(
                "busy against idle, medians from this run: {:.2}x",
                busy / idle
            ));
        }
        if !self.memory.is_empty() {
            let series: Vec<String> = self
                .memory
                .iter()
                .map(|(at, kib)| format!("{at} s: {:.1} MB", *kib as f64 / 1024.0))
                .collect();
            lines.push(format!("memory (VmRSS): {}", series.join(", ")));
        }
        lines.join("\n")
    }
}

/// How long a streams measurement leaves the window idle before the streams start, so the
/// idle baseline comes from the same process and display as the load it is set beside.
fn idle_lead(seconds: f64) -> f64 {
    (seconds / 6.0).min(10.0)
}

fn median(samples: &[f32]) -> Option<f32> {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f32::total_cmp);
    sorted.get(sorted.len() / 2).copied()
}

/// This process's resident memory, KiB (0 where /proc cannot tell).
fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_measurement_starts_its_load_once_and_closes_when_its_time_is_up() {
        let measure = Measure {
            seconds: 3600.0,
            run_all: true,
            demo_stream: false,
            streams: 0,
        };
        let mut stats = FrameStats::default();
        let launched = Instant::now();
        let frame = |ready| Frame {
            cpu: Some(0.002),
            busy: false,
            demo_ready: ready,
        };
        assert_eq!(
            stats.frame(&measure, launched, frame(false)),
            Due::default()
        );
        let due = stats.frame(&measure, launched, frame(true));
        assert!(due.run_all && !due.close);
        assert_eq!(stats.frame(&measure, launched, frame(true)), Due::default());
        assert_eq!(stats.idle.len(), 3);
        let report = stats.report();
        assert!(
            report.contains("idle: 3 frames, CPU per frame mean 2.00 ms"),
            "{report}"
        );
        assert!(report.contains("while checks run or a stream plays: no frames"));
        let over = Measure {
            seconds: 0.0,
            ..measure
        };
        assert!(stats.frame(&over, launched, frame(true)).close);
        assert!(!stats.frame(&over, launched, frame(true)).close, "once");
    }

    #[test]
    fn streams_start_after_an_idle_lead_and_the_report_sets_them_beside_it() {
        let measure = Measure {
            seconds: 120.0,
            run_all: false,
            demo_stream: false,
            streams: 25,
        };
        let mut stats = FrameStats::default();
        let idle = |cpu| Frame {
            cpu: Some(cpu),
            busy: false,
            demo_ready: true,
        };
        let just_launched = Instant::now();
        for _ in 0..3 {
            assert_eq!(
                stats.frame(&measure, just_launched, idle(0.002)).load,
                None,
                "no streams while the idle baseline is measured"
            );
        }
        let lead_over = Instant::now()
            .checked_sub(std::time::Duration::from_secs(11))
            .expect("a clock 11 s past its start");
        let due = stats.frame(&measure, lead_over, idle(0.002));
        assert_eq!(due.load, Some((25, 110.0)));
        assert_eq!(
            stats.frame(&measure, lead_over, idle(0.002)).load,
            None,
            "once"
        );
        for _ in 0..3 {
            stats.frame(
                &measure,
                lead_over,
                Frame {
                    cpu: Some(0.0025),
                    busy: true,
                    demo_ready: true,
                },
            );
        }
        let report = stats.report();
        assert!(
            report.contains("busy against idle, medians from this run: 1.25x"),
            "{report}"
        );
    }
}
