//! What each headless command does with its parsed arguments: run the core, pick a renderer
//! from `report`, write the result, and say which exit status it earned.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use super::{
    CheckArgs, CompareArgs, ExplainArgs, FailOn, Format, ListenArgs, ReplayArgs, ReportArgs,
    ReportFormat, SummaryFormat, USAGE, github, parse,
};
use stream_doctor::catalog::Severity;
use stream_doctor::demo::DemoTarget;
use stream_doctor::explain;
use stream_doctor::net::tls;
use stream_doctor::probe::{self, CheckOptions, Progress, parse_header};
use stream_doctor::report::{self, streams, verdict_line};
use stream_doctor::secret::{self, Secret};
use stream_doctor::session::{Session, SessionOptions};
use stream_doctor::stream::listener::{ListenOptions, Listener, Notice};
use stream_doctor::stream::replay::{self, ReplayOptions, Source};
use stream_doctor::stream::webhooks;
use stream_doctor::vantage::Vantage;

/// Writes `text` to FILE, or to standard output when there is none.
pub fn write_out(path: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match path {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
        }
        None => {
            let mut stdout = anstream::stdout();
            stdout
                .write_all(text.as_bytes())
                .context("writing the output")
        }
    }
}

/// One line of running commentary. A reader that went away (`listen | head -1`) must not
/// take the listener down with it, as `println!` would by panicking.
fn line_to(out: &mut impl Write, line: &str) {
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

pub async fn check(args: CheckArgs) -> anyhow::Result<u8> {
    let mut headers = args.headers;
    if let Ok(more) = std::env::var("STREAM_DOCTOR_HEADERS") {
        for line in more.lines().filter(|l| !l.trim().is_empty()) {
            match parse_header(line) {
                Ok(header) => headers.push(header),
                Err(e) => {
                    eprintln!("error: STREAM_DOCTOR_HEADERS: {e}");
                    return Ok(USAGE);
                }
            }
        }
    }
    let vantage = Vantage::here(args.vantage.as_deref());
    let mut options = CheckOptions {
        timeout: Duration::from_secs_f64(args.connect.timeout),
        observe: Duration::from_secs_f64(args.observe),
        extra_roots: args
            .connect
            .ca_file
            .as_ref()
            .map(|f| f.roots.clone())
            .unwrap_or_default(),
        resolve: args.connect.resolve.clone(),
        dns_server: args.dns_server,
        headers,
        auth_token: args.connect.auth_token.clone().map(Secret::new),
        provider: !args.no_provider,
        ipv6_route: Some(vantage.ipv6),
    };
    let demo = match args.demo {
        Some(mode) => Some(
            DemoTarget::start(mode.behavior())
                .await
                .context("starting the demo target")?,
        ),
        None => None,
    };
    let url = match (&demo, args.url) {
        (Some(demo), _) => {
            options.resolve.push(demo.pin.clone());
            options.extra_roots.push(demo.root.clone());
            demo.url.clone()
        }
        (None, Some(url)) => url,
        (None, None) => anyhow::bail!("give a stream URL or --demo"),
    };
    let show_progress = matches!(args.format, Format::Text) && std::io::stderr().is_terminal();
    let progress = move |event: Progress| {
        if show_progress && let Progress::Started(id) = event {
            eprint!("\r\x1b[2K  checking {}…", id.as_str());
        }
    };
    let outcome = probe::run(&url, &options, &progress).await;
    if show_progress {
        eprint!("\r\x1b[2K");
    }
    let secrets: Vec<String> = options
        .auth_token
        .iter()
        .map(|t| t.expose().to_string())
        .chain(options.headers.iter().map(|(_, v)| v.clone()))
        .collect();
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let session = || {
        let ca_file = args
            .connect
            .ca_file
            .as_ref()
            .map(|f| f.path.display().to_string());
        let mut session =
            Session::from_check(&outcome, SessionOptions::from_check(&options, ca_file));
        session.vantage = Some(vantage.clone());
        session
    };
    github::report(&session(), &secrets)?;
    let rendered = match args.format {
        Format::Text => secret::scrub(&report::text::render(&outcome), &secrets),
        Format::Json => report::render(&session(), report::Format::Json, &secrets),
        Format::Markdown => report::render(&session(), report::Format::Markdown, &secrets),
        Format::Html => report::render(&session(), report::Format::Html, &secrets),
    };
    match &args.out {
        Some(path) => {
            let plain = anstream::adapter::strip_str(&rendered).to_string();
            write_out(Some(path), &plain)?;
            eprintln!(
                "{}",
                verdict_line(&outcome.checks, Some(&outcome.diagnosis))
            );
        }
        None => write_out(None, &rendered)?,
    }
    let warned = args.fail_on == FailOn::Warn
        && outcome
            .diagnosis
            .causes
            .iter()
            .any(|c| c.severity == Severity::Warn);
    let code = u8::try_from(outcome.exit_code()).unwrap_or(1);
    Ok(if warned { code.max(1) } else { code })
}

pub async fn listen(args: ListenArgs) -> anyhow::Result<u8> {
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(tls::load_server_config(cert, key)?),
        _ => None,
    };
    if let Some(dir) = &args.record {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let token = args
        .token
        .or_else(|| std::env::var("STREAM_DOCTOR_LISTEN_TOKEN").ok())
        .filter(|t| !t.is_empty());
    let port = std::env::var("PORT").ok();
    let bind = match parse::listen_address(args.bind, port.as_deref()) {
        Ok(bind) => bind,
        Err(why) => {
            eprintln!("error: {why}");
            return Ok(USAGE);
        }
    };
    if !bind.ip().is_loopback() && token.is_none() {
        if !args.public_without_token {
            eprintln!(
                "error: listening on {bind} (off loopback) needs a token: --token or STREAM_DOCTOR_TOKEN (without one, anyone who finds the address can send streams and read the monitor); --public-without-token accepts that"
            );
            return Ok(USAGE);
        }
        eprintln!("warning: listening on {bind} without a token: anyone who finds it can use it");
    }
    let has_token = token.is_some();
    let options = ListenOptions {
        bind,
        token: token.map(Secret::new),
        tls,
        max_frame_bytes: args.max_frame_bytes,
        record_dir: args.record.clone(),
        reply_tone: args.reply_tone,
        webhook_keys: webhooks::Keys {
            telnyx_public_key: args.webhook_public_key,
            twilio_auth_token: args.twilio_auth_token.map(Secret::new),
        },
        started_grace: Duration::from_secs_f64(args.started_grace),
        expect_url: args.expect_url,
        ..ListenOptions::default()
    };
    // With JSON on standard output, the running commentary goes to standard error.
    let json = matches!(args.format, SummaryFormat::Json);
    let say = move |line: String| {
        if json {
            line_to(&mut std::io::stderr().lock(), &line);
        } else {
            line_to(&mut std::io::stdout().lock(), &line);
        }
    };
    let notify = Arc::new(move |notice: Notice| say(notice.to_string()));
    let mut listener = Listener::start(options, notify)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    let scheme = if args.tls_cert.is_some() { "wss" } else { "ws" };
    say(format!(
        "listening on {scheme}://{}/ (any path{})",
        listener.addr(),
        if has_token { " holding the token" } else { "" }
    ));
    let store = listener.store();
    let ticker = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.tick().await;
        loop {
            tick.tick().await;
            let lines: Vec<String> = match store.lock() {
                Ok(live) => live
                    .streams
                    .iter()
                    .filter(|s| s.is_open())
                    .flat_map(|s| {
                        s.tracks
                            .iter()
                            .filter_map(move |(name, track)| streams::levels_line(s, name, track))
                    })
                    .collect(),
                Err(_) => Vec::new(),
            };
            for line in lines {
                say(line);
            }
        }
    });
    let until_streams = async {
        match args.max_streams {
            Some(n) => listener.wait_for_closed(n).await,
            None => std::future::pending().await,
        }
    };
    let until_time = async {
        match args.duration {
            Some(secs) => tokio::time::sleep(Duration::from_secs_f64(secs)).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = until_streams => {}
        _ = until_time => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    ticker.abort();
    let summary = listener.stop();
    let rendered = if json {
        streams::listen_json(&summary)
    } else {
        streams::listen(&summary)
    };
    write_out(args.out.as_deref(), &rendered)?;
    Ok(0)
}

pub fn compare(args: CompareArgs) -> anyhow::Result<u8> {
    let comparison = match stream_doctor::compare::compare(&args.here, &args.there) {
        Ok(comparison) => comparison,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(USAGE);
        }
    };
    let rendered = match args.format {
        Format::Text => report::compare::text(&comparison),
        Format::Json => report::compare::json(&comparison),
        Format::Markdown => report::compare::markdown(&comparison),
        Format::Html => report::compare::html(&comparison),
    };
    write_out(args.out.as_deref(), &rendered)?;
    Ok(comparison.exit_code())
}

pub async fn replay(args: ReplayArgs) -> anyhow::Result<u8> {
    let source = match args.wav {
        Some(clip) => Source::Clip(clip),
        None => Source::Tone {
            freq_hz: args.tone.unwrap_or(440.0),
            seconds: args.seconds,
        },
    };
    let options = ReplayOptions {
        url: args.url,
        protocol: args.protocol,
        codec: args.codec,
        source,
        tracks: args.track.into(),
        pace: args.pace.into(),
        streams: args.streams.max(1),
        timeout: Duration::from_secs_f64(args.connect.timeout),
        extra_roots: args.connect.ca_file.map(|f| f.roots).unwrap_or_default(),
        resolve: args.connect.resolve,
        auth_token: args.connect.auth_token.map(Secret::new),
        call_id: args.call_id,
    };
    let json = matches!(args.format, SummaryFormat::Json);
    let notify = move |line: String| {
        if !json {
            line_to(&mut std::io::stdout().lock(), &line);
        }
    };
    let summary = replay::run(&options, &notify).await;
    let rendered = if json {
        serde_json::to_string_pretty(&summary).context("serialising the summary")? + "\n"
    } else {
        streams::replay(&summary)
    };
    write_out(None, &rendered)?;
    Ok(if summary.streams.iter().all(|s| s.error.is_none()) {
        0
    } else {
        1
    })
}

pub fn report(args: ReportArgs) -> anyhow::Result<u8> {
    let format = match args.format {
        ReportFormat::Markdown => report::Format::Markdown,
        ReportFormat::Html => report::Format::Html,
        ReportFormat::Json => report::Format::Json,
    };
    let rendered = report::render(&args.session, format, &[]);
    write_out(args.out.as_deref(), &rendered)?;
    if let Some(path) = &args.out {
        eprintln!("wrote {}", path.display());
    }
    Ok(0)
}

pub async fn explain(args: ExplainArgs) -> anyhow::Result<u8> {
    let Some(explanation) = explain::explain(&args.code) else {
        let known: Vec<&str> = explain::CODES.iter().map(|e| e.code).collect();
        eprintln!(
            "error: '{}' is not a code this tool knows (it knows: {})",
            args.code,
            known.join(", ")
        );
        return Ok(super::USAGE);
    };
    let rendered = match args.format {
        SummaryFormat::Json => {
            serde_json::to_string_pretty(explanation).context("serialising")? + "\n"
        }
        SummaryFormat::Text => report::text::explanation(explanation),
    };
    write_out(None, &rendered)?;
    let (Some(url), Some(scope)) = (args.check, explanation.scope()) else {
        return Ok(0);
    };
    let options = CheckOptions::default();
    let outcome = probe::run_scoped(&url, &options, Some(scope), &|_| {}).await;
    write_out(None, &format!("\n{}", report::text::render(&outcome)))?;
    Ok(u8::try_from(outcome.exit_code()).unwrap_or(1))
}
