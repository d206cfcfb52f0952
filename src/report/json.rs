//! The whole session as JSON for scripts: `check`'s fields (`checks`, `diagnosis`) as they
//! are, extended, with a `schema_version` and the one-line `verdict`. `stream-doctor report`
//! reads it back (the verdict is derived, so it is written, never read).

use super::verdict_line;
use crate::session::Session;

pub(crate) fn render(session: &Session) -> String {
    let mut value = match serde_json::to_value(session) {
        Ok(value) => value,
        Err(e) => return format!("{{\"error\": \"{e}\"}}\n"),
    };
    if let Some(object) = value.as_object_mut() {
        let verdict = verdict_line(&session.checks, session.diagnosis.as_ref());
        object.insert("verdict".into(), serde_json::Value::String(verdict));
    }
    serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
}
