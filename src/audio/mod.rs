//! Audio: the codecs providers stream in (one file per codec) and test signals.

pub mod g711;

/// `count` samples of a sine at `freq_hz`, `amplitude` of full scale, sampled at `rate_hz`.
pub fn tone(freq_hz: f64, amplitude: f64, rate_hz: u32, count: usize) -> Vec<i16> {
    (0..count)
        .map(|n| {
            let phase = 2.0 * std::f64::consts::PI * freq_hz * n as f64 / f64::from(rate_hz);
            (phase.sin() * amplitude * 32767.0).round() as i16
        })
        .collect()
}
