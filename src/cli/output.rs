//! Everything the binary writes leaves through here: standard output and error, files (reports,
//! summaries, the GitHub Actions files), error and panic messages. Each write is masked by the
//! one `Redactor` built from the command line and the environment before any work starts, so
//! no renderer has to remember a secret, and a new one cannot forget. `print!`-style macros
//! are denied in the binary and the library (`clippy::print_stdout`, `clippy::print_stderr`)
//! so nothing goes around it.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use clap::ArgMatches;

use stream_doctor::check::options::parse_header;
use stream_doctor::secret::Redactor;

/// Where the extra request headers of `check` come from besides `-H`.
pub const HEADERS_ENV: &str = "STREAM_DOCTOR_HEADERS";

#[derive(Clone)]
pub struct Output {
    redactor: Arc<Redactor>,
}

impl Output {
    pub fn new(redactor: Redactor) -> Self {
        Self {
            redactor: Arc::new(redactor),
        }
    }

    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// One line of output. A reader that went away (`listen | head -1`) must not take a
    /// listener down with it, as `println!` would by panicking.
    pub fn line(&self, text: &str) {
        let mut out = anstream::stdout().lock();
        let _ = writeln!(out, "{}", self.redactor.mask(text));
        let _ = out.flush();
    }

    /// One line for the person at the terminal, beside the output (progress, notes, errors).
    pub fn note(&self, text: &str) {
        let mut err = anstream::stderr().lock();
        let _ = writeln!(err, "{}", self.redactor.mask(text));
        let _ = err.flush();
    }

    /// Standard error without a newline: a progress line redrawn in place.
    pub fn progress(&self, text: &str) {
        let mut err = anstream::stderr().lock();
        let _ = write!(err, "{}", self.redactor.mask(text));
        let _ = err.flush();
    }

    /// `error: …`, the way every failure ends up in front of a person.
    pub fn error(&self, message: impl std::fmt::Display) {
        self.note(&format!("error: {message}"));
    }

    /// A whole rendering, to FILE or to standard output when there is none.
    pub fn write(&self, path: Option<&Path>, text: &str) -> anyhow::Result<()> {
        let text = self.redactor.mask(text);
        match path {
            Some(path) => {
                std::fs::write(path, text).with_context(|| format!("writing {}", self.shown(path)))
            }
            None => anstream::stdout()
                .write_all(text.as_bytes())
                .context("writing the output"),
        }
    }

    /// Appends to FILE (the GitHub Actions summary and outputs are shared with other steps).
    pub fn append(&self, path: &Path, text: &str) -> anyhow::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening {}", self.shown(path)))?;
        file.write_all(self.redactor.mask(text).as_bytes())
            .with_context(|| format!("writing {}", self.shown(path)))
    }

    /// A path as messages show it.
    pub fn shown(&self, path: &Path) -> String {
        self.redactor.mask(&path.display().to_string())
    }

    /// A panic's message passes the same mask: it may quote a value being handled.
    pub fn mask_panics(&self) {
        let redactor = self.redactor.clone();
        std::panic::set_hook(Box::new(move |info| {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{}", redactor.mask(&info.to_string()));
        }));
    }
}

/// The redactor of one run: every credential the environment holds, the values of the
/// arguments that are secret, and any URL's password. An argument is secret when it hides its
/// environment value (`hide_env_values`, as every token and key flag does) or is a header
/// (`-H`: its value may be a credential, its name is evidence).
pub fn redactor(command: &clap::Command, matches: &ArgMatches) -> Redactor {
    let mut redactor = Redactor::new();
    redactor.add_env();
    if let Ok(lines) = std::env::var(HEADERS_ENV) {
        for line in lines.lines() {
            if let Ok((_, value)) = parse_header(line) {
                redactor.add(&value);
            }
        }
    }
    learn(&mut redactor, command, matches);
    redactor
}

fn learn(redactor: &mut Redactor, command: &clap::Command, matches: &ArgMatches) {
    for arg in command.get_arguments() {
        let id = arg.get_id().as_str();
        let Ok(Some(values)) = matches.try_get_raw(id) else {
            continue;
        };
        let header = arg.get_short() == Some('H');
        for value in values {
            let value = value.to_string_lossy();
            if header {
                if let Ok((_, value)) = parse_header(&value) {
                    redactor.add(&value);
                }
            } else if arg.is_hide_env_values_set() {
                redactor.add(&value);
            }
            redactor.add_url(&value);
        }
    }
    if let Some((name, sub_matches)) = matches.subcommand()
        && let Some(sub) = command.find_subcommand(name)
    {
        learn(redactor, sub, sub_matches);
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, FromArgMatches};

    use super::*;
    use crate::cli::Cli;

    fn learned(args: &[&str]) -> Redactor {
        let command = Cli::command();
        let matches = command
            .clone()
            .try_get_matches_from(args)
            .expect("a valid command line");
        assert!(Cli::from_arg_matches(&matches).is_ok());
        redactor(&command, &matches)
    }

    #[test]
    fn every_secret_argument_is_learned_and_nothing_else() {
        let r = learned(&[
            "stream-doctor",
            "check",
            "wss://bob:hunter-pass@h.example/s",
            "--auth-token",
            "tok-auth-1",
            "-H",
            "X-Api-Key: hdr-value-2",
            "--vantage",
            "office-desk",
        ]);
        for secret in ["tok-auth-1", "hdr-value-2", "hunter-pass"] {
            assert!(
                !r.is_clean(&format!("x {secret} y")),
                "{secret} not learned"
            );
        }
        assert!(r.is_clean("X-Api-Key office-desk wss://h.example/s"));
        let r = learned(&[
            "stream-doctor",
            "listen",
            "--token",
            "tok-listen-3",
            "--twilio-auth-token",
            "tok-twilio-4",
        ]);
        assert!(!r.is_clean("tok-listen-3") && !r.is_clean("tok-twilio-4"));
    }

    #[test]
    fn every_flag_that_reads_a_credential_from_the_environment_hides_it() {
        let mut unhidden = Vec::new();
        let mut stack = vec![Cli::command()];
        while let Some(command) = stack.pop() {
            for arg in command.get_arguments() {
                if let Some(env) = arg.get_env() {
                    let env = env.to_string_lossy();
                    let credential = stream_doctor::secret::SECRET_ENV.contains(&env.as_ref());
                    if credential != arg.is_hide_env_values_set() {
                        unhidden.push(format!("{} --{}", command.get_name(), arg.get_id()));
                    }
                }
            }
            stack.extend(command.get_subcommands().cloned());
        }
        assert!(unhidden.is_empty(), "{unhidden:?}");
    }
}
