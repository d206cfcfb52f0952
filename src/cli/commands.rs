//! What each headless command does with its parsed arguments: run the core, pick a renderer
//! from `report`, write the result, and say which exit status it earned.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use super::output::{HEADERS_ENV, Output};
use super::{
    CheckArgs, CompareArgs, ExplainArgs, FailOn, Format, ListenArgs, ReplayArgs, ReportArgs,
    ReportFormat, SummaryFormat, USAGE, github, parse,
};
use stream_doctor::audio::Codec;
use stream_doctor::catalog::{Provider, Severity};
use stream_doctor::check::options::{CheckOptions, parse_header};
use stream_doctor::demo::DemoTarget;
use stream_doctor::explain;
use stream_doctor::net::tls;
use stream_doctor::probe::{self, Progress};
use stream_doctor::provider::webhook;
use stream_doctor::report::{self, streams, verdict_line};
use stream_doctor::secret::Secret;
use stream_doctor::server::listener::{ListenOptions, Listener};
use stream_doctor::server::monitor::MonitorEvent;
use stream_doctor::session::{Session, SessionOptions};
use stream_doctor::stream::replay::{self, ReplayOptions, Source};
use stream_doctor::vantage::Vantage;

pub async fn check(args: CheckArgs, out: &Output) -> anyhow::Result<u8> {
    let mut headers = args.headers;
    if let Ok(more) = std::env::var(HEADERS_ENV) {
        for line in more.lines().filter(|l| !l.trim().is_empty()) {
            match parse_header(line) {
                Ok(header) => headers.push(header),
                Err(e) => {
                    out.error(format!("{HEADERS_ENV}: {e}"));
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
        protocol: args.protocol,
        twilio_auth_token: args.connect.twilio_auth_token.clone().map(Secret::new),
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
        if !show_progress {
            return;
        }
        match event {
            Progress::Started(id) => out.progress(&format!("\r\x1b[2K  checking {}…", id.as_str())),
            Progress::Retrying {
                check,
                why,
                attempt,
            } => out.progress(&format!(
                "\r\x1b[2K  checking {}: attempt {attempt} ({})…",
                check.as_str(),
                why.describe()
            )),
            Progress::Finished(_) => {}
        }
    };
    let outcome = probe::run(&url, &options, &progress).await;
    if show_progress {
        out.progress("\r\x1b[2K");
    }
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
    github::report(&session(), &github::Runner::from_env(), out)?;
    let redactor = out.redactor();
    let rendered = match args.format {
        Format::Text => report::text::render(&outcome),
        Format::Json => report::render(&session(), report::Format::Json, redactor),
        Format::Markdown => report::render(&session(), report::Format::Markdown, redactor),
        Format::Html => report::render(&session(), report::Format::Html, redactor),
    };
    match &args.out {
        Some(path) => {
            let plain = anstream::adapter::strip_str(&rendered).to_string();
            out.write(Some(path), &plain)?;
            out.note(&verdict_line(&outcome.checks, Some(&outcome.diagnosis)));
        }
        None => out.write(None, &rendered)?,
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

pub async fn listen(args: ListenArgs, out: &Output) -> anyhow::Result<u8> {
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(tls::load_server_config(cert, key)?),
        _ => None,
    };
    if let Some(dir) = &args.record {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", out.shown(dir)))?;
    }
    let token = args
        .token
        .or_else(|| std::env::var("STREAM_DOCTOR_LISTEN_TOKEN").ok())
        .filter(|t| !t.is_empty());
    let port = std::env::var("PORT").ok();
    let bind = match parse::listen_address(args.bind, port.as_deref()) {
        Ok(bind) => bind,
        Err(why) => {
            out.error(why);
            return Ok(USAGE);
        }
    };
    match parse::gate(bind, token.is_some(), args.public_without_token) {
        Ok(None) => {}
        Ok(Some(warning)) => out.note(&warning),
        Err(why) => {
            out.error(why);
            return Ok(USAGE);
        }
    }
    let has_token = token.is_some();
    let options = ListenOptions {
        bind,
        token: token.map(Secret::new),
        tls,
        max_frame_bytes: args.max_frame_bytes,
        record_dir: args.record.clone(),
        reply_tone: args.reply_tone,
        reply_mode: args.reply_mode.into(),
        webhook_keys: webhook::Keys {
            telnyx_public_key: args.webhook_public_key,
            twilio_auth_token: args.twilio_auth_token.map(Secret::new),
        },
        started_grace: Duration::from_secs_f64(args.started_grace),
        expect_url: args.expect_url,
        redactor: out.redactor().clone(),
        ..ListenOptions::default()
    };
    // With JSON on standard output, the running commentary goes to standard error.
    let json = matches!(args.format, SummaryFormat::Json);
    let commentary = out.clone();
    let say = Arc::new(move |line: String| {
        if json {
            commentary.note(&line);
        } else {
            commentary.line(&line);
        }
    });
    let notify = {
        let say = say.clone();
        Arc::new(move |event: &MonitorEvent| say(event.to_string()))
    };
    let mut listener = Listener::start(options, notify)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    let scheme = if args.tls_cert.is_some() { "wss" } else { "ws" };
    say(format!(
        "listening on {scheme}://{}/ (any path{})",
        listener.addr(),
        if has_token { " holding the token" } else { "" }
    ));
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
    let summary = listener.stop();
    listener.stopped().await;
    let rendered = if json {
        streams::listen_json(&summary)
    } else {
        streams::listen(&summary)
    };
    out.write(args.out.as_deref(), &rendered)?;
    Ok(0)
}

pub fn compare(args: CompareArgs, out: &Output) -> anyhow::Result<u8> {
    let comparison = match stream_doctor::compare::compare(&args.here, &args.there) {
        Ok(comparison) => comparison,
        Err(e) => {
            out.error(e);
            return Ok(USAGE);
        }
    };
    let rendered = match args.format {
        Format::Text => report::compare::text(&comparison),
        Format::Json => report::compare::json(&comparison),
        Format::Markdown => report::compare::markdown(&comparison),
        Format::Html => report::compare::html(&comparison),
    };
    out.write(args.out.as_deref(), &rendered)?;
    Ok(comparison.exit_code())
}

pub async fn replay(args: ReplayArgs, out: &Output) -> anyhow::Result<u8> {
    // Twilio's message reference says its media format is always audio/x-mulaw, 8000 Hz, mono.
    if args.protocol == Provider::Twilio && args.codec != Codec::Pcmu {
        out.error(format!(
            "Twilio streams are always μ-law (PCMU) at 8000 Hz: --protocol twilio cannot send {}",
            args.codec.name()
        ));
        return Ok(USAGE);
    }
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
        twilio_auth_token: args.connect.twilio_auth_token.map(Secret::new),
        call_id: args.call_id,
        custom_parameters: args.custom_parameters.into_iter().collect(),
    };
    let json = matches!(args.format, SummaryFormat::Json);
    let notify = move |line: String| {
        if !json {
            out.line(&line);
        }
    };
    let summary = replay::run(&options, &notify).await;
    let rendered = if json {
        serde_json::to_string_pretty(&summary).context("serialising the summary")? + "\n"
    } else {
        streams::replay(&summary)
    };
    out.write(None, &rendered)?;
    Ok(if summary.streams.iter().all(|s| s.error.is_none()) {
        0
    } else {
        1
    })
}

pub fn report(args: ReportArgs, out: &Output) -> anyhow::Result<u8> {
    let format = match args.format {
        ReportFormat::Markdown => report::Format::Markdown,
        ReportFormat::Html => report::Format::Html,
        ReportFormat::Json => report::Format::Json,
    };
    let rendered = report::render(&args.session, format, out.redactor());
    out.write(args.out.as_deref(), &rendered)?;
    if let Some(path) = &args.out {
        out.note(&format!("wrote {}", out.shown(path)));
    }
    Ok(0)
}

pub async fn explain(args: ExplainArgs, out: &Output) -> anyhow::Result<u8> {
    let Some(explanation) = explain::explain(&args.code) else {
        let known: Vec<&str> = explain::CODES.iter().map(|e| e.code).collect();
        out.error(format!(
            "'{}' is not a code this tool knows (it knows: {})",
            args.code,
            known.join(", ")
        ));
        return Ok(super::USAGE);
    };
    let rendered = match args.format {
        SummaryFormat::Json => {
            serde_json::to_string_pretty(explanation).context("serialising")? + "\n"
        }
        SummaryFormat::Text => report::text::explanation(explanation),
    };
    out.write(None, &rendered)?;
    let (Some(url), Some(scope)) = (args.check, explanation.scope()) else {
        return Ok(0);
    };
    let options = CheckOptions::default();
    let outcome = probe::run_scoped(&url, &options, Some(scope), &|_| {}).await;
    out.write(None, &format!("\n{}", report::text::render(&outcome)))?;
    Ok(u8::try_from(outcome.exit_code()).unwrap_or(1))
}
