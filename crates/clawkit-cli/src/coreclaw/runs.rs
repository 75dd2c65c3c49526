//! Runs from the command line: start (and wait, with a spinner and Ctrl-C to abort), status,
//! history, logs, and results written to a file or an object.

use std::io::IsTerminal;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use clap::ValueEnum;
use clawkit::coreclaw::{Client, ExportFormat, Run, RunRecord, RunStatus};
use futures::{StreamExt, TryStreamExt};
use indicatif::ProgressBar;
use serde_json::{Value, json};
use tokio::io::AsyncWrite;

use crate::failure::Failure;
use crate::output::{self, Format, RowWriter};
use crate::session::Globals;

use super::input::{RunRequest, build_input};

/// What `--out` may be.
pub(super) const OUT_FORMATS: [Format; 3] = [Format::Csv, Format::Json, Format::Jsonl];

/// A run status, for filters.
#[derive(Clone, Copy, ValueEnum)]
pub(super) enum StatusArg {
    /// 1
    Ready,
    /// 2
    Running,
    /// 3
    Succeeded,
    /// 4
    Failed,
    /// 5: an abort was asked and the run is stopping (it then ends as failed)
    #[value(alias = "aborted")]
    Aborting,
}

fn status_of(arg: StatusArg) -> RunStatus {
    match arg {
        StatusArg::Ready => RunStatus::Ready,
        StatusArg::Running => RunStatus::Running,
        StatusArg::Succeeded => RunStatus::Succeeded,
        StatusArg::Failed => RunStatus::Failed,
        StatusArg::Aborting => RunStatus::Aborting,
    }
}

pub(super) async fn start(
    globals: &Globals,
    client: &Client,
    slug: &str,
    request: RunRequest,
) -> Result<(), Failure> {
    let w = client.worker(slug).await?;
    let input = build_input(&w, &request)?;
    let mut start = client.start(&w, input);
    if let Some(url) = &request.callback_url {
        start = start.callback_url(url);
    }
    let run = start.await?;
    // The slug first, whatever happens next.
    eprintln!(
        "run {} started (Worker {} {})",
        run.slug(),
        w.slug,
        w.version
    );
    if !request.wait {
        if globals.json {
            output::json(&json!({"run_slug": run.slug()}));
        } else {
            println!("{}", run.slug());
        }
        return Ok(());
    }
    let record = wait(globals, &run, request.abort_on_interrupt).await?;
    if !record.is_success() {
        if globals.json {
            output::json(&record_json(&record));
        }
        let why = if record.err_msg.is_empty() {
            String::new()
        } else {
            format!(": {}", record.err_msg)
        };
        return Err(Failure::RunFailed(format!(
            "run {} ended {}{why}",
            record.slug,
            record.status.description()
        )));
    }
    match &request.out {
        Some(out) => {
            let written = save(globals, &run, &record, out).await?;
            report_saved(globals, &record, out, written);
        }
        None if globals.json => output::json(&record_json(&record)),
        None => print_record(&record),
    }
    Ok(())
}

/// Waits with a spinner; on Ctrl-C asks whether to abort (or aborts with --abort-on-interrupt).
pub(super) async fn wait(
    globals: &Globals,
    run: &Run,
    abort_on_interrupt: bool,
) -> Result<RunRecord, Failure> {
    let hidden = globals.hidden();
    let spinner = output::spinner(hidden);
    spinner.set_message(format!("run {}: waiting", run.slug()));
    let watch = async {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if let Ok(r) = run.detail().await {
                spinner.set_message(format!(
                    "run {}: {}, {} results",
                    run.slug(),
                    r.status.description(),
                    r.results
                ));
            }
        }
    };
    let outcome = tokio::select! {
        record = run.wait() => Some(record),
        _ = watch => None,
        _ = tokio::signal::ctrl_c() => None,
    };
    spinner.finish_and_clear();
    match outcome {
        Some(record) => Ok(record?),
        None => {
            let abort = abort_on_interrupt
                || (std::io::stdin().is_terminal()
                    && ask(&format!("abort run {}? [y/N] ", run.slug())).await);
            if abort {
                match run.abort().await {
                    Ok(()) => eprintln!(
                        "run {} aborting (it ends as failed once stopped)",
                        run.slug()
                    ),
                    Err(e) => eprintln!("could not abort run {}: {e}", run.slug()),
                }
            } else {
                eprintln!(
                    "run {} goes on: `claw coreclaw status {}`",
                    run.slug(),
                    run.slug()
                );
            }
            Err(Failure::Interrupted)
        }
    }
}

async fn ask(question: &str) -> bool {
    eprint!("{question}");
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).is_ok() && matches!(line.trim(), "y" | "Y" | "yes")
    })
    .await
    .unwrap_or(false)
}

/// A run record as JSON.
pub(super) fn record_json(r: &RunRecord) -> Value {
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

pub(super) fn print_record(r: &RunRecord) {
    println!("run          {}", r.slug);
    println!(
        "status       {} ({})",
        r.status.code(),
        r.status.description()
    );
    if !r.err_msg.is_empty() {
        println!("error        {}", r.err_msg);
    }
    println!(
        "worker       {} {}",
        r.worker_slug.as_deref().unwrap_or("-"),
        r.worker_title.as_deref().unwrap_or("")
    );
    println!("results      {}", r.results);
    println!("usage        {} USD", r.usage);
    println!("duration     {} s", r.duration);
}

/// Counts bytes written through it into a progress bar.
struct Counting<'a, W> {
    inner: W,
    bar: &'a ProgressBar,
}

impl<W: AsyncWrite + Unpin> AsyncWrite for Counting<'_, W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &poll {
            self.bar.inc(*n as u64);
        }
        poll
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Writes a run's results to `out` (format by extension); returns the items written. CSV and
/// JSON are CoreClaw's own export files, streamed; JSON Lines is written from the item stream.
pub(super) async fn save(
    globals: &Globals,
    run: &Run,
    record: &RunRecord,
    out: &Path,
) -> Result<u64, Failure> {
    let format = Format::of(out, &OUT_FORMATS)?;
    let hidden = globals.hidden();
    if format == Format::Jsonl {
        let bar = output::bar(Some(record.results), hidden, "downloading");
        let mut writer = RowWriter::create(out, format).await?;
        let mut pages = run.items().try_chunks(1000);
        while let Some(items) = pages.next().await {
            let items = items.map_err(|e| e.1)?;
            writer.write(&items).await?;
            bar.inc(items.len() as u64);
        }
        bar.finish_and_clear();
        return writer.finish().await;
    }
    let mut file = output::create(out).await?;
    let bar = output::bar(None, hidden, "downloading");
    let export = if format == Format::Csv {
        ExportFormat::Csv
    } else {
        ExportFormat::Json
    };
    run.export(
        export,
        &mut Counting {
            inner: &mut file,
            bar: &bar,
        },
    )
    .await?;
    bar.finish_and_clear();
    output::finish(&mut file, out).await?;
    Ok(record.results)
}

pub(super) fn report_saved(globals: &Globals, record: &RunRecord, out: &Path, items: u64) {
    if globals.json {
        let mut v = record_json(record);
        v["out"] = json!(out.display().to_string());
        v["items_written"] = json!(items);
        output::json(&v);
    } else {
        println!(
            "run {} succeeded: {} results, usage {} USD",
            record.slug, record.results, record.usage
        );
        println!("wrote {items} items to {}", out.display());
    }
}

pub(super) async fn runs(
    globals: &Globals,
    client: &Client,
    worker: Option<&str>,
    status: Option<StatusArg>,
    limit: usize,
) -> Result<(), Failure> {
    let mut stream = client.runs(worker, status.map(status_of)).take(limit);
    let mut records = Vec::new();
    while let Some(r) = stream.next().await {
        records.push(r?);
    }
    if globals.json {
        output::json(&Value::Array(records.iter().map(record_json).collect()));
    } else {
        let rows: Vec<Vec<String>> = records
            .iter()
            .map(|r| {
                vec![
                    r.slug.clone(),
                    r.status.description().to_string(),
                    r.worker_title.clone().unwrap_or_default(),
                    r.results.to_string(),
                    r.usage.to_string(),
                ]
            })
            .collect();
        output::table(&["RUN", "STATUS", "WORKER", "RESULTS", "USAGE"], &rows);
    }
    Ok(())
}

pub(super) async fn logs(
    globals: &Globals,
    client: &Client,
    slug: &str,
    follow: bool,
) -> Result<(), Failure> {
    let run = client.run(slug);
    let mut shown = 0usize;
    loop {
        let log = run.log().await?;
        for e in log.entries.iter().skip(shown) {
            if globals.json {
                println!(
                    "{}",
                    json!({"level": e.level.description(), "group": e.group, "content": e.content, "timestamp": e.timestamp})
                );
            } else {
                println!("{} {:<5} {}", e.timestamp, e.level.description(), e.content);
            }
        }
        shown = shown.max(log.entries.len());
        if !follow {
            return Ok(());
        }
        let record = run.detail().await?;
        if record.is_final() {
            // One more read for the lines written at the end.
            let log = run.log().await?;
            for e in log.entries.iter().skip(shown) {
                println!("{} {:<5} {}", e.timestamp, e.level.description(), e.content);
            }
            return Ok(());
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = tokio::signal::ctrl_c() => return Err(Failure::Interrupted),
        }
    }
}
