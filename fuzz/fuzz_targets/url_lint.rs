//! Any text as the stream URL a person types: the url check names it, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stream_doctor::net::target::{Target, template_leftovers};
use stream_doctor::records::address::ResolvePin;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (result, target) = stream_doctor::probe::url::check(text);
    let _ = result.summary;
    if let Some(target) = target {
        let _ = target.host_header();
        let _ = stream_doctor::compare::compare(
            &stream_doctor::session::Session::new(text),
            &stream_doctor::session::Session::new(target.url.as_str()),
        );
    }
    let _ = Target::parse(text);
    let _ = template_leftovers(text);
    let _ = text.parse::<ResolvePin>();
    let _ = stream_doctor::check::options::parse_header(text);
});
