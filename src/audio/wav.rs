//! WAV files: reading a clip to replay (any 16-bit PCM WAV, mixed to mono and resampled to the
//! codec's rate) and recording one file per stream and track.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum WavError {
    #[error("{path} is not a WAV file this tool reads: {source}")]
    Read { path: String, source: hound::Error },
    #[error("{path} holds {bits}-bit {format:?} audio; use 16-bit PCM (sox IN -b 16 OUT.wav)")]
    Format {
        path: String,
        bits: u16,
        format: hound::SampleFormat,
    },
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: hound::Error },
}

/// Mono samples at `rate_hz`.
#[derive(Clone, Debug, PartialEq)]
pub struct Clip {
    pub rate_hz: u32,
    pub samples: Vec<i16>,
}

impl Clip {
    /// The same audio at another rate (linear interpolation: enough for levels and a demo).
    pub(crate) fn resampled(&self, rate_hz: u32) -> Clip {
        if rate_hz == self.rate_hz || self.samples.is_empty() {
            return Clip {
                rate_hz,
                samples: self.samples.clone(),
            };
        }
        let ratio = f64::from(self.rate_hz) / f64::from(rate_hz);
        let count = (self.samples.len() as f64 / ratio).floor() as usize;
        let last = self.samples.len() - 1;
        let samples = (0..count)
            .map(|i| {
                let position = i as f64 * ratio;
                let index = (position.floor() as usize).min(last);
                let next = (index + 1).min(last);
                let fraction = position - index as f64;
                let value = f64::from(self.samples[index]) * (1.0 - fraction)
                    + f64::from(self.samples[next]) * fraction;
                value.round() as i16
            })
            .collect();
        Clip { rate_hz, samples }
    }
}

/// Reads 16-bit PCM from a WAV file or its bytes, mixing channels to mono.
pub fn read_clip(bytes: &[u8], shown_as: &str) -> Result<Clip, WavError> {
    let reader =
        hound::WavReader::new(std::io::Cursor::new(bytes)).map_err(|source| WavError::Read {
            path: shown_as.to_string(),
            source,
        })?;
    let spec = reader.spec();
    if spec.bits_per_sample != 16 || spec.sample_format != hound::SampleFormat::Int {
        return Err(WavError::Format {
            path: shown_as.to_string(),
            bits: spec.bits_per_sample,
            format: spec.sample_format,
        });
    }
    let channels = usize::from(spec.channels.max(1));
    let all: Vec<i16> = reader
        .into_samples::<i16>()
        .collect::<Result<_, _>>()
        .map_err(|source| WavError::Read {
            path: shown_as.to_string(),
            source,
        })?;
    let samples = all
        .chunks(channels)
        .map(|frame| (frame.iter().map(|s| i32::from(*s)).sum::<i32>() / frame.len() as i32) as i16)
        .collect();
    Ok(Clip {
        rate_hz: spec.sample_rate,
        samples,
    })
}

pub fn read_file(path: &Path) -> Result<Clip, WavError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| WavError::Read {
        path: shown.clone(),
        source: hound::Error::IoError(e),
    })?;
    read_clip(&bytes, &shown)
}

/// A WAV file being recorded, one per stream and track.
pub(crate) struct Recorder {
    path: PathBuf,
    writer: hound::WavWriter<std::io::BufWriter<std::fs::File>>,
}

impl Recorder {
    pub(crate) fn create(path: PathBuf, rate_hz: u32) -> Result<Self, WavError> {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: rate_hz,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let writer = hound::WavWriter::create(&path, spec).map_err(|source| WavError::Write {
            path: path.display().to_string(),
            source,
        })?;
        Ok(Self { path, writer })
    }

    pub(crate) fn write(&mut self, samples: &[i16]) -> Result<(), WavError> {
        for &s in samples {
            self.writer
                .write_sample(s)
                .map_err(|source| WavError::Write {
                    path: self.path.display().to_string(),
                    source,
                })?;
        }
        Ok(())
    }

    pub(crate) fn finish(self) -> Result<PathBuf, WavError> {
        let path = self.path;
        self.writer.finalize().map_err(|source| WavError::Write {
            path: path.display().to_string(),
            source,
        })?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::tone;

    #[test]
    fn record_then_read_gives_the_same_samples() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("track.wav");
        let samples = tone(440.0, 0.5, 8000, 800);
        let mut recorder = Recorder::create(path.clone(), 8000).expect("create");
        recorder.write(&samples).expect("write");
        let written = recorder.finish().expect("finish");
        let clip = read_file(&written).expect("read");
        assert_eq!(
            clip,
            Clip {
                rate_hz: 8000,
                samples
            }
        );
    }

    #[test]
    fn a_file_that_is_not_a_wav_gets_a_clear_message() {
        let error = read_clip(b"this is not RIFF data at all", "notes.txt").expect_err("not a wav");
        let message = error.to_string();
        assert!(
            message.starts_with("notes.txt is not a WAV file"),
            "{message}"
        );
    }

    #[test]
    fn resampling_keeps_duration() {
        let clip = Clip {
            rate_hz: 16_000,
            samples: tone(440.0, 0.5, 16_000, 16_000),
        };
        let down = clip.resampled(8000);
        assert_eq!(down.samples.len(), 8000);
        assert_eq!(down.rate_hz, 8000);
    }
}
