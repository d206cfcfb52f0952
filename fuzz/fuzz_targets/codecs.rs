//! Any bytes as a payload of every codec, and any samples encoded and decoded again: no panic,
//! and a decode never yields more samples than the payload can hold.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stream_doctor::audio::meter::{LevelPoint, Summary};
use stream_doctor::audio::{Codec, Decoder, Encoder};

fuzz_target!(|data: &[u8]| {
    for codec in [Codec::Pcmu, Codec::Pcma, Codec::L16, Codec::G722] {
        let mut decoder = Decoder::new(codec);
        let samples = decoder.decode(data);
        assert!(samples.len() <= data.len() * 2, "{codec:?}");
        let _ = LevelPoint::measured(0.0, &Summary::of(&samples));
        let _ = Summary::of(&samples).rms_dbfs();
        let pcm: Vec<i16> = data
            .chunks_exact(2)
            .map(|p| i16::from_le_bytes([p[0], p[1]]))
            .collect();
        let mut encoder = Encoder::new(codec);
        let encoded = encoder.encode(&pcm);
        let _ = Decoder::new(codec).decode(&encoded);
    }
    let _ = stream_doctor::audio::wav::read_clip(data, "fuzz");
});
