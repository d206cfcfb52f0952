//! The window under egui_kittest: the real app, its engine and demo target, with file dialogs
//! that hand back fixed answers instead of opening.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui_kittest::{Harness, HarnessBuilder};
use stream_doctor::ui::{App, AppOptions, FilePicker};

/// A person's answers to the dialogs: `None` is a cancelled dialog.
#[derive(Default)]
pub struct Dialogs {
    pub save: Option<PathBuf>,
    pub open: Option<PathBuf>,
}

impl FilePicker for Dialogs {
    fn pick_pem(&mut self) -> Option<PathBuf> {
        None
    }

    fn save_as(&mut self, _: &str) -> Option<PathBuf> {
        self.save.clone()
    }

    fn pick_report(&mut self) -> Option<PathBuf> {
        self.open.clone()
    }
}

/// The app in a window of `width`×`height`, settings not remembered.
pub fn app(
    builder: HarnessBuilder<App>,
    width: f32,
    height: f32,
    dialogs: Dialogs,
) -> Harness<'static, App> {
    app_with(
        builder,
        width,
        height,
        AppOptions {
            picker: Box::new(dialogs),
            ..AppOptions::default()
        },
    )
}

/// The app with `options` (settings never remembered).
pub fn app_with(
    builder: HarnessBuilder<App>,
    width: f32,
    height: f32,
    options: AppOptions,
) -> Harness<'static, App> {
    builder
        .with_size(egui::vec2(width, height))
        .build_eframe(|cc| {
            let options = AppOptions {
                persist: false,
                ..options
            };
            App::new(cc, options).expect("app")
        })
}

/// Steps the app (and so its engine's events) until `done` holds, for at most 30 s.
pub fn step_until(
    harness: &mut Harness<'static, App>,
    what: &str,
    done: impl Fn(&Harness<'static, App>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done(harness) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.step();
}

/// Steps for `duration` of wall time, for a stream that plays in real time.
pub fn step_for(harness: &mut Harness<'static, App>, duration: Duration) {
    let until = Instant::now() + duration;
    while Instant::now() < until {
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Posts a Telnyx webhook to the listener at `listener` as the provider does (unsigned), with
/// `extra` payload fields (a leading comma and JSON members); the raw answer.
pub fn post_webhook(
    listener: std::net::SocketAddr,
    event: &str,
    call: &str,
    extra: &str,
) -> String {
    let body = format!(
        r#"{{"data":{{"record_type":"event","event_type":"{event}","id":"e-{event}","payload":{{"call_control_id":"{call}"{extra}}}}}}}"#
    );
    let request = format!(
        "POST /webhooks/telnyx HTTP/1.1\r\nHost: {listener}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut tcp = std::net::TcpStream::connect(listener).expect("connect to the listener");
    std::io::Write::write_all(&mut tcp, request.as_bytes()).expect("send the webhook");
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut tcp, &mut answer).expect("read the answer");
    answer
}
