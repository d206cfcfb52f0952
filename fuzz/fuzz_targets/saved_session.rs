//! Any text as a saved session (Open report…, `report`, `compare`): read or refused with a
//! message, and whatever reads renders in every format.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stream_doctor::report::{Format, render};
use stream_doctor::session::Session;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(session) = Session::read(text, "fuzz.json") {
        for format in [Format::Markdown, Format::Html, Format::Json] {
            let _ = render(&session, format, &Default::default());
        }
        let _ = stream_doctor::compare::compare(&session, &session);
    }
});
