//! L16: linear 16-bit samples, big-endian (network order) as providers send them.

/// Samples from a big-endian payload; an odd trailing byte is not a sample and is dropped.
pub fn decode(payload: &[u8]) -> Vec<i16> {
    let mut samples = Vec::with_capacity(payload.len() / 2);
    decode_into(payload, &mut samples);
    samples
}

/// Appends the samples of a payload to `samples`.
pub(crate) fn decode_into(payload: &[u8], samples: &mut Vec<i16>) {
    samples.extend(
        payload
            .chunks_exact(2)
            .map(|pair| i16::from_be_bytes([pair[0], pair[1]])),
    );
}

pub fn encode(samples: &[i16]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_be_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_endian_both_ways() {
        assert_eq!(decode(&[0x12, 0x34, 0xff, 0xfe, 0x01]), vec![0x1234, -2]);
        assert_eq!(encode(&[0x1234, -2]), vec![0x12, 0x34, 0xff, 0xfe]);
    }
}
