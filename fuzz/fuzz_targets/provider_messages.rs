//! Any text as a provider's message: the hand-written scanner agrees with serde's in-place
//! reading wherever it answers, the in-place and full readings agree on what a media frame
//! says, and the receiver takes it (and the frames after it) without panicking.
#![no_main]

use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use stream_doctor::records::live::StreamState;
use stream_doctor::server::receiver::{Receiver, ReceiverOptions};
use stream_doctor::stream::{Inbound, Read, parse, parse_reply, read, read_in_place};

const START: &str = r#"{"event":"start","sequence_number":"1","stream_id":"S","start":{"call_control_id":"v3:c","media_format":{"encoding":"PCMU","sample_rate":8000,"channels":1}}}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let (Some(scanned), serde) = read_in_place(text) {
        assert_eq!(
            Some(scanned),
            serde,
            "the scanner and serde read {text:?} differently"
        );
    }
    if let (Ok((_, Read::Media(fast))), Ok((_, Inbound::Media(full)))) =
        (read(text, None), parse(text, None))
    {
        assert_eq!(
            fast,
            full.as_ref(),
            "the in-place and full readings differ on {text:?}"
        );
    }
    let _ = parse_reply(text);
    let mut receiver = Receiver::new(1, ReceiverOptions::default());
    let mut state = StreamState::new(1, "/f".into(), "127.0.0.1:1".into());
    let now = Instant::now();
    receiver.text(text, now, &mut state);
    receiver.text(START, now, &mut state);
    receiver.text(text, now, &mut state);
    receiver.binary(text.len(), &mut state);
    let _ = state.summary();
});
