//! What `claw` prints: tables, JSON, progress on stderr, and one-line errors with a hint.

use std::process::ExitCode;
use std::time::Duration;

use clawkit::coreclaw::{Error, RunRecord};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};

use crate::Failure;

/// Prints the failure as one line plus a hint, and returns its exit code.
pub fn report(failure: Failure) -> ExitCode {
    let (message, hint, code) = match failure {
        Failure::Api(e) => {
            let hint = hint_for(&e);
            (e.to_string(), hint, 1)
        }
        Failure::Bazhuayu(e) => {
            let hint = bazhuayu_hint(&e);
            (e.to_string(), hint, 1)
        }
        Failure::Other(message, hint) => (message, hint, 1),
        Failure::Usage(message) => (message, Some("see `claw --help`".to_string()), 2),
        Failure::RunFailed(message) => (message, None, 3),
        Failure::Interrupted => ("interrupted".to_string(), None, 130),
    };
    eprintln!("error: {message}");
    if let Some(hint) = hint {
        eprintln!("hint: {hint}");
    }
    ExitCode::from(code)
}

fn hint_for(e: &Error) -> Option<String> {
    Some(match e {
        Error::InvalidInput(problems) => format!(
            "see the Worker's fields with `claw coreclaw worker {}`, or a skeleton input with `--example`",
            problems.worker
        ),
        Error::InvalidParams { .. } => "check the input against `claw coreclaw worker SLUG`".into(),
        Error::InvalidApiKey { .. } | Error::ApiKeyExpired { .. } => {
            "set CORECLAW_API_KEY to a valid key (CoreClaw console: Settings > API & Integrations), or pass --sandbox".into()
        }
        Error::InsufficientBalance { .. } => "top up the account; `claw coreclaw account` shows the balance".into(),
        Error::WorkerNotFound { .. } => "find Workers with `claw coreclaw store KEYWORD`".into(),
        Error::RunNotFound { .. } => "list runs with `claw coreclaw runs`".into(),
        Error::RateLimited { .. } => "CoreClaw is rate limiting: wait a moment and try again".into(),
        Error::Timeout { run_slug: Some(slug), .. } => format!("the run goes on: `claw coreclaw status {slug}`"),
        Error::Http { .. } | Error::Timeout { .. } => "check the network and --base-url, then try again".into(),
        Error::Config(_) => "set CORECLAW_API_KEY, or pass --sandbox to use the embedded sandbox".into(),
        _ => return None,
    })
}

fn bazhuayu_hint(e: &clawkit::bazhuayu::Error) -> Option<String> {
    use clawkit::bazhuayu::Error as B;
    Some(match e {
        B::InvalidGrant { .. } | B::Config(_) => {
            "set BAZHUAYU_USERNAME and BAZHUAYU_PASSWORD, or pass --sandbox to use the embedded sandbox".into()
        }
        B::Forbidden { .. } => "the account's plan does not include this API (DataAPI: flagship plan; start/stop: paid add-on)".into(),
        B::BadRequest { .. } | B::NotFound { .. } => "list task ids with `claw bazhuayu groups` and `claw bazhuayu tasks GROUP`".into(),
        B::Stream { resume_offset, .. } => format!("run again to start over; the rows before offset {resume_offset} were written"),
        B::Sink { .. } => "the batch was not marked exported: run the export again".into(),
        B::QuotaExceeded { .. } | B::ServiceUnavailable { .. } | B::Http { .. } | B::Timeout(_) => {
            "try again in a moment".into()
        }
        _ => return None,
    })
}

/// Prints rows as aligned columns.
pub fn table(headers: &[&str], rows: &[Vec<String>]) {
    let widths: Vec<usize> = (0..headers.len())
        .map(|i| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .chain([headers[i].len()])
                .max()
                .unwrap_or(0)
                .min(60)
        })
        .collect();
    let line = |cells: Vec<String>| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| {
                let c: String = if c.chars().count() > *w {
                    c.chars().take(w.saturating_sub(1)).collect::<String>() + "…"
                } else {
                    c.clone()
                };
                format!("{c:<w$}")
            })
            .collect();
        println!("{}", parts.join("  ").trim_end());
    };
    line(headers.iter().map(|h| h.to_string()).collect());
    for row in rows {
        line(row.clone());
    }
}

/// Prints JSON on stdout.
pub fn json_out(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// A run record as JSON.
pub fn record_json(r: &RunRecord) -> Value {
    json!({
        "run_slug": r.slug,
        "status": r.status.code(),
        "status_name": r.status.description(),
        "err_msg": r.err_msg,
        "worker_slug": r.worker_slug,
        "worker_title": r.worker_title,
        "results": r.results,
        "usage": r.usage.to_string(),
        "started_at": r.started_at,
        "finished_at": r.finished_at,
        "duration": r.duration,
        "origin": r.origin,
        "traffic": r.traffic,
        "version": r.version,
    })
}

/// A spinner on stderr; hidden when stderr is not a terminal or output is JSON.
pub fn spinner(hidden: bool) -> ProgressBar {
    let target = if hidden {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(None, target);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A progress bar over `total` items (or bytes when `total` is `None`), on stderr.
pub fn bar(total: Option<u64>, hidden: bool, what: &str) -> ProgressBar {
    let target = if hidden {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(total, target);
    let template = match total {
        Some(_) => format!("{what} {{bar:30}} {{pos}}/{{len}} items [{{elapsed}}]"),
        None => format!("{what} {{spinner}} {{bytes}} [{{elapsed}}]"),
    };
    bar.set_style(
        ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Gives a bar started without a total its total (once, from the first page or batch).
pub fn set_total(bar: &ProgressBar, total: i64, what: &str, unit: &str) {
    if bar.length().is_none() {
        bar.set_length(u64::try_from(total).unwrap_or(0));
        let template = format!("{what} {{bar:30}} {{pos}}/{{len}} {unit} [{{elapsed}}]");
        bar.set_style(
            ProgressStyle::with_template(&template)
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
    }
}
