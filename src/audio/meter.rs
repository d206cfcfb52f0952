//! Levels, as docs/streams.md defines them everywhere: per 20 ms frame and per track,
//! `rms_dbfs = 20·log10(rms/32768)` and `peak_dbfs = 20·log10(max|x|/32768)`; silence is `None`
//! (shown as the floor, written as `null`). A stream's summary is over all its samples.

use serde::{Deserialize, Serialize};

/// Where silence is drawn.
pub(crate) const FLOOR_DBFS: f64 = -96.0;

fn dbfs(value: f64) -> Option<f64> {
    (value > 0.0).then(|| 20.0 * (value / 32768.0).log10())
}

/// The level of one frame.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LevelPoint {
    /// Milliseconds since the stream's first media frame.
    pub at_ms: f64,
    pub rms_dbfs: Option<f64>,
    pub peak_dbfs: Option<f64>,
}

impl LevelPoint {
    /// The point of a frame already summarised (the frame's own `Summary`).
    pub fn measured(at_ms: f64, frame: &Summary) -> Self {
        Self {
            at_ms,
            rms_dbfs: frame.rms_dbfs(),
            peak_dbfs: frame.peak_dbfs(),
        }
    }

    /// This point and a later one as one: at this one's time, the louder of each level, so a
    /// short burst never disappears when a history is zoomed out.
    pub(crate) fn louder(self, later: LevelPoint) -> LevelPoint {
        let max = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(x), Some(y)) => Some(x.max(y)),
            (x, None) => x,
            (None, y) => y,
        };
        LevelPoint {
            at_ms: self.at_ms,
            rms_dbfs: max(self.rms_dbfs, later.rms_dbfs),
            peak_dbfs: max(self.peak_dbfs, later.peak_dbfs),
        }
    }
}

/// At most `max` points, each the loudest of the span it replaces: the one decimator of level
/// histories (the live view's and the reports').
pub(crate) fn decimate(points: &[LevelPoint], max: usize) -> Vec<LevelPoint> {
    if points.len() <= max || max == 0 {
        return points.to_vec();
    }
    points
        .chunks(points.len().div_ceil(max))
        .filter_map(|span| span.iter().copied().reduce(LevelPoint::louder))
        .collect()
}

/// Accumulates every sample of a track.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Summary {
    sum_squares: f64,
    samples: u64,
    peak: u16,
}

impl Summary {
    /// One frame's summary. The squares add up exactly in integers (a 20 ms frame's sum stays
    /// far below 2^53), in a loop the compiler vectorises: metering is the listener's main
    /// cost per frame.
    pub fn of(samples: &[i16]) -> Summary {
        // Eight lanes of 32-bit squares (each below 2^31) widened into 64-bit sums: the shape
        // that becomes SIMD.
        let mut lanes = [0i64; 8];
        let mut chunks = samples.chunks_exact(8);
        for chunk in &mut chunks {
            for (lane, &s) in lanes.iter_mut().zip(chunk) {
                let v = i32::from(s);
                *lane += i64::from(v * v);
            }
        }
        let rest: i64 = chunks
            .remainder()
            .iter()
            .map(|&s| i64::from(i32::from(s) * i32::from(s)))
            .sum();
        let sum_squares = lanes.iter().sum::<i64>() + rest;
        let peak = samples.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
        Summary {
            sum_squares: sum_squares as f64,
            samples: samples.len() as u64,
            peak,
        }
    }

    /// Adds another span's summary (a frame's, into its track's).
    pub fn merge(&mut self, other: &Summary) {
        self.sum_squares += other.sum_squares;
        self.samples += other.samples;
        self.peak = self.peak.max(other.peak);
    }

    pub(crate) fn samples(&self) -> u64 {
        self.samples
    }

    pub fn rms_dbfs(&self) -> Option<f64> {
        if self.samples == 0 {
            return None;
        }
        dbfs((self.sum_squares / self.samples as f64).sqrt())
    }

    pub fn peak_dbfs(&self) -> Option<f64> {
        dbfs(f64::from(self.peak))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::tone;

    #[test]
    fn decimation_keeps_the_loudest_and_the_bound() {
        let points: Vec<LevelPoint> = (0..1000)
            .map(|i| LevelPoint {
                at_ms: f64::from(i) * 20.0,
                rms_dbfs: Some(if i == 777 { -2.0 } else { -50.0 }),
                peak_dbfs: None,
            })
            .collect();
        let kept = decimate(&points, 400);
        assert!(kept.len() <= 400);
        assert!(kept.iter().any(|p| p.rms_dbfs == Some(-2.0)));
        assert!(kept.iter().all(|p| p.peak_dbfs.is_none()));
        assert_eq!(decimate(&points[..10], 400).len(), 10);
    }

    #[test]
    fn full_scale_sine_reads_minus_3_01() {
        let mut summary = Summary::default();
        summary.merge(&Summary::of(&tone(1000.0, 1.0, 8000, 8000)));
        let rms = summary.rms_dbfs().expect("not silent");
        assert!((rms + 3.01).abs() < 0.01, "{rms}");
        let peak = summary.peak_dbfs().expect("not silent");
        assert!(peak.abs() < 0.01, "{peak}");
    }

    #[test]
    fn silence_has_no_level() {
        let point = LevelPoint::measured(0.0, &Summary::of(&[0; 160]));
        assert_eq!((point.rms_dbfs, point.peak_dbfs), (None, None));
        assert_eq!(Summary::default().rms_dbfs(), None);
        let json = serde_json::to_string(&point).unwrap_or_default();
        assert!(json.contains("\"rms_dbfs\":null"), "{json}");
    }

    #[test]
    fn the_summary_is_over_samples_not_an_average_of_frames() {
        let loud = tone(440.0, 1.0, 8000, 160);
        let mut summary = Summary::default();
        summary.merge(&Summary::of(&loud));
        summary.merge(&Summary::of(&[0; 160]));
        // Half the samples silent: 3.01 dB below the loud frame, not the mean of -3 and -inf.
        let rms = summary.rms_dbfs().expect("not silent");
        assert!((rms + 6.02).abs() < 0.05, "{rms}");
    }
}
