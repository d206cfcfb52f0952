//! G.711, the codecs telephony providers stream by default: µ-law (PCMU) and A-law (PCMA),
//! 8 kHz, one byte a sample. Both follow the ITU-T G.711 reference (µ-law: bias 0x84, clip at
//! 32635; A-law: even bits inverted with 0x55).

const BIAS: i32 = 0x84;
const CLIP: i32 = 32635;

/// One linear 16-bit sample to µ-law.
pub fn ulaw_encode(sample: i16) -> u8 {
    let mut value = i32::from(sample);
    let sign = if value < 0 {
        value = -value;
        0x80
    } else {
        0
    };
    value = value.min(CLIP) + BIAS;
    let exponent = (7 - (value.leading_zeros() as i32 - 17)).clamp(0, 7);
    let mantissa = (value >> (exponent + 3)) & 0x0f;
    !(sign | (exponent << 4) as u8 | mantissa as u8)
}

/// One µ-law byte to linear 16-bit.
pub fn ulaw_decode(byte: u8) -> i16 {
    let byte = !byte;
    let sign = byte & 0x80;
    let exponent = i32::from((byte >> 4) & 0x07);
    let mantissa = i32::from(byte & 0x0f);
    let magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
    if sign != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

/// One linear 16-bit sample to A-law.
pub fn alaw_encode(sample: i16) -> u8 {
    let (mask, magnitude) = if sample >= 0 {
        (0xd5u8, i32::from(sample))
    } else {
        (0x55u8, -i32::from(sample) - 1)
    };
    let magnitude = magnitude.min(0x7fff);
    let code = if magnitude < 256 {
        (magnitude >> 4) as u8
    } else {
        let segment = (31 - magnitude.leading_zeros() as i32 - 7).clamp(1, 7);
        ((segment << 4) | ((magnitude >> (segment + 3)) & 0x0f)) as u8
    };
    code ^ mask
}

/// One A-law byte to linear 16-bit.
pub fn alaw_decode(byte: u8) -> i16 {
    let byte = byte ^ 0x55;
    let segment = i32::from((byte >> 4) & 0x07);
    let mantissa = i32::from(byte & 0x0f);
    let magnitude = if segment == 0 {
        (mantissa << 4) + 8
    } else {
        ((mantissa << 4) + 0x108) << (segment - 1)
    };
    if byte & 0x80 != 0 {
        magnitude as i16
    } else {
        -magnitude as i16
    }
}

/// Appends the samples of a µ-law payload to `samples`.
pub(crate) fn decode_ulaw_into(payload: &[u8], samples: &mut Vec<i16>) {
    samples.extend(payload.iter().map(|b| ulaw_decode(*b)));
}

/// Appends the samples of an A-law payload to `samples`.
pub(crate) fn decode_alaw_into(payload: &[u8], samples: &mut Vec<i16>) {
    samples.extend(payload.iter().map(|b| alaw_decode(*b)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alaw_known_values() {
        // ITU-T G.711 table: the smallest positive and negative codes, and full scale.
        assert_eq!(alaw_encode(0), 0xd5);
        assert_eq!(alaw_encode(-1), 0x55);
        assert_eq!(alaw_decode(0xd5), 8);
        assert_eq!(alaw_decode(0x55), -8);
        assert_eq!(alaw_decode(0xaa), 32256);
        assert_eq!(alaw_decode(0x2a), -32256);
        assert_eq!(alaw_encode(i16::MAX), 0xaa);
        assert_eq!(alaw_encode(i16::MIN), 0x2a);
    }

    #[test]
    fn alaw_codes_round_trip_and_stay_close() {
        for byte in 0..=255u8 {
            assert_eq!(alaw_encode(alaw_decode(byte)), byte, "code {byte:#04x}");
        }
        for sample in (-32768i32..32768).step_by(97) {
            let sample = sample as i16;
            let back = i32::from(alaw_decode(alaw_encode(sample)));
            let error = (back - i32::from(sample)).abs();
            // A-law's step is at most 1/32 of the magnitude (and 16 near zero).
            assert!(
                error <= (i32::from(sample).abs() / 32).max(16) + 1,
                "{sample} -> {back}"
            );
        }
    }

    #[test]
    fn known_values() {
        assert_eq!(ulaw_encode(0), 0xff);
        assert_eq!(ulaw_encode(-1), 0x7f);
        assert_eq!(ulaw_encode(i16::MAX), 0x80);
        assert_eq!(ulaw_encode(i16::MIN), 0x00);
        assert_eq!(ulaw_decode(0xff), 0);
        assert_eq!(ulaw_decode(0x80), 32124);
        assert_eq!(ulaw_decode(0x00), -32124);
    }

    #[test]
    fn every_code_round_trips() {
        for byte in 0..=255u8 {
            let decoded = ulaw_decode(byte);
            let again = ulaw_encode(decoded);
            // 0x7f and 0xff both decode to zero.
            assert_eq!(ulaw_decode(again), decoded, "code {byte:#04x}");
        }
    }
}
