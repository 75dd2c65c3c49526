//! `claw coreclaw ...`: everything goes through the clawkit facade.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use clawkit::coreclaw::{Client, ExportFormat, Run, RunRecord, RunStatus, Worker};
use clawkit_sandbox::Vendor;
use futures::{StreamExt, TryStreamExt};
use indicatif::ProgressBar;
use serde_json::{Value, json};
use tokio::io::AsyncWrite;

use crate::output::{self, Format, RowWriter, json_out, table};
use crate::{ApiArg, CoreclawCommand, Failure, Globals, StatusArg, TasksCommand, session};

/// Public endpoints (store, Worker detail) need no key; the facade still wants one to build.
const NO_KEY: &str = "anonymous";

/// What `--out` may be.
const OUT_FORMATS: [Format; 3] = [Format::Csv, Format::Json, Format::Jsonl];

fn status_of(arg: StatusArg) -> RunStatus {
    match arg {
        StatusArg::Ready => RunStatus::Ready,
        StatusArg::Running => RunStatus::Running,
        StatusArg::Succeeded => RunStatus::Succeeded,
        StatusArg::Failed => RunStatus::Failed,
        StatusArg::Aborting => RunStatus::Aborting,
    }
}

/// A JSON value from the command line: JSON when it parses, else the text as a string.
fn cli_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

fn pair(arg: &str, flag: &str) -> Result<(String, Value), Failure> {
    match arg.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), cli_value(value)))
        }
        _ => Err(Failure::Usage(format!(
            "{flag} `{arg}`: expected NAME=VALUE"
        ))),
    }
}

pub async fn run(globals: &Globals, api: ApiArg, command: CoreclawCommand) -> Result<(), Failure> {
    let version = match api {
        ApiArg::V1 => clawkit::coreclaw::ApiVersion::V1,
        ApiArg::V2 => clawkit::coreclaw::ApiVersion::V2,
    };
    let needs_key = !matches!(
        command,
        CoreclawCommand::Store { .. } | CoreclawCommand::Worker { .. }
    );
    // Check what can be checked before touching the network.
    if let CoreclawCommand::Run { out: Some(out), .. } | CoreclawCommand::Results { out, .. } =
        &command
    {
        output::check_destination(out, false).await?;
        Format::of(out, &OUT_FORMATS)?;
    }
    let session = session::start::<Client>(globals, Vendor::Coreclaw, |config| {
        clawkit::coreclaw::ClientBuilder::from_config(
            if needs_key || config.given().api_key.is_some() {
                config
            } else {
                config.api_key(NO_KEY)
            },
        )
        .api(version)
    })
    .await?;
    let client = &session.client;
    match command {
        CoreclawCommand::Store { search, limit } => store(globals, client, &search, limit).await,
        CoreclawCommand::Worker {
            slug,
            json_schema,
            example,
            rust,
        } => {
            if rust {
                let w = client.worker(&slug).await?;
                print!("{}", w.rust_types()?);
                return Ok(());
            }
            worker(globals, client, &slug, json_schema, example).await
        }
        CoreclawCommand::Tasks { command } => tasks(globals, client, command).await,
        CoreclawCommand::Regions { language } => {
            let regions = client.proxy_regions(language.as_deref()).await?;
            if globals.json {
                json_out(&Value::Array(
                    regions
                        .iter()
                        .map(|r| json!({"code": r.code, "name": r.name}))
                        .collect(),
                ));
            } else {
                for r in regions {
                    println!("{}\t{}", r.code, r.name);
                }
            }
            Ok(())
        }
        CoreclawCommand::Run {
            slug,
            input,
            set,
            system,
            wait,
            out,
            callback_url,
            abort_on_interrupt,
        } => {
            let request = RunRequest {
                input,
                set,
                system,
                wait: wait || out.is_some(),
                out,
                callback_url,
                abort_on_interrupt,
            };
            start(globals, client, &slug, request).await
        }
        CoreclawCommand::Runs {
            worker,
            status,
            limit,
        } => runs(globals, client, worker.as_deref(), status, limit).await,
        CoreclawCommand::Status { run } => {
            let record = client.run(&run).detail().await?;
            if globals.json {
                json_out(&record_json(&record));
            } else {
                print_record(&record);
            }
            Ok(())
        }
        CoreclawCommand::Logs { run, follow } => logs(globals, client, &run, follow).await,
        CoreclawCommand::Abort { run } => {
            client.run(&run).abort().await?;
            if globals.json {
                json_out(&json!({"run_slug": run, "aborted": true}));
            } else {
                println!("run {run} aborting (it ends as failed once stopped)");
            }
            Ok(())
        }
        CoreclawCommand::Results { run, out } => {
            let run = client.run(&run);
            let record = run.detail().await?;
            let written = save(globals, &run, &record, &out).await?;
            report_saved(globals, &record, &out, written);
            Ok(())
        }
        CoreclawCommand::Account => {
            let a = client.account().await?;
            if globals.json {
                json_out(
                    &json!({"balance": a.balance.to_string(), "traffic_bytes": a.traffic_bytes, "traffic_expires_at": a.traffic_expires_at, "balance_expires_at": a.balance_expires_at}),
                );
            } else {
                println!("balance      {} USD", a.balance);
                if let Some(traffic) = a.traffic_bytes {
                    println!("traffic      {traffic} bytes");
                }
                println!(
                    "expires at   {}",
                    a.traffic_expires_at
                        .map_or("-".to_string(), |t| t.to_string())
                );
            }
            Ok(())
        }
    }
}

async fn store(
    globals: &Globals,
    client: &Client,
    search: &str,
    limit: u64,
) -> Result<(), Failure> {
    let items = client.search(search, limit).await?;
    if globals.json {
        json_out(&Value::Array(
            items
                .iter()
                .map(|i| json!({"slug": i.slug, "title": i.title, "description": i.description}))
                .collect(),
        ));
    } else {
        let rows: Vec<Vec<String>> = items
            .iter()
            .map(|i| vec![i.slug.clone(), i.title.clone(), i.description.clone()])
            .collect();
        table(&["SLUG", "TITLE", "DESCRIPTION"], &rows);
    }
    Ok(())
}

async fn worker(
    globals: &Globals,
    client: &Client,
    slug: &str,
    json_schema: bool,
    example: bool,
) -> Result<(), Failure> {
    let w = client.worker(slug).await?;
    if json_schema {
        json_out(w.json_schema().as_value());
    } else if example {
        json_out(&Value::Object(w.example_input()));
    } else if globals.json {
        json_out(&json!({
            "slug": w.slug, "version": w.version, "readme": w.readme,
            "system": {"cpus": w.system.cpus, "memory": w.system.memory_mb,
                       "execute_limit_time_seconds": w.system.execute_limit_time_seconds,
                       "max_total_charge": w.system.max_total_charge, "max_total_traffic": w.system.max_total_traffic},
            "properties": w.properties.iter().map(|p| {
                let mut v = json!({"name": p.name, "type": p.kind.name(), "required": p.required,
                                   "title": p.title, "default": p.default, "description": p.description, "editor": p.editor});
                if let Value::Object(m) = &mut v { m.extend(p.extra.clone()); }
                v
            }).collect::<Vec<_>>(),
        }));
    } else {
        println!("Worker {} {}", w.slug, w.version);
        println!(
            "system defaults: cpus {}, memory {} MB, time limit {} s",
            w.system.cpus,
            w.system.memory_mb.map_or("-".into(), |m| m.to_string()),
            w.system
                .execute_limit_time_seconds
                .map_or("-".into(), |s| s.to_string())
        );
        let rows: Vec<Vec<String>> = w
            .properties
            .iter()
            .map(|p| {
                vec![
                    p.name.clone(),
                    p.kind.name().to_string(),
                    if p.required {
                        "yes".into()
                    } else {
                        "no".into()
                    },
                    p.default.as_ref().map_or(String::new(), |d| d.to_string()),
                    [p.title.clone(), p.description.clone()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(": "),
                ]
            })
            .collect();
        table(
            &["FIELD", "TYPE", "REQUIRED", "DEFAULT", "DESCRIPTION"],
            &rows,
        );
    }
    Ok(())
}

/// `claw coreclaw tasks ...` (v2, whichever `--api`).
async fn tasks(globals: &Globals, client: &Client, command: TasksCommand) -> Result<(), Failure> {
    use clawkit::coreclaw::{NewTask, Schedule, TaskUpdate};
    let fields = |input: Option<PathBuf>, set: Vec<String>| RunRequest {
        input,
        set,
        system: None,
        wait: false,
        out: None,
        callback_url: None,
        abort_on_interrupt: false,
    };
    match command {
        TasksCommand::List { worker, keyword } => {
            let list: Vec<_> = client
                .tasks(worker.as_deref(), keyword.as_deref())
                .try_collect()
                .await?;
            if globals.json {
                json_out(&Value::Array(
                    list.iter()
                        .map(|t| json!({"slug": t.slug, "id": t.id, "title": t.title, "worker_slug": t.worker_slug, "version": t.version}))
                        .collect(),
                ));
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|t| {
                        vec![
                            t.slug.clone(),
                            t.title.clone(),
                            t.worker_slug.clone().unwrap_or_default(),
                        ]
                    })
                    .collect();
                table(&["task", "title", "worker"], &rows);
            }
        }
        TasksCommand::Create {
            worker,
            title,
            input,
            set,
            description,
            daily,
        } => {
            let w = client.worker(&worker).await?;
            let input = build_input(&w, &fields(input, set))?;
            let task = NewTask {
                title,
                description,
                schedule: daily.map(|time| Schedule::Daily { time }),
            };
            let slug = client.create_task(&w, &input, &task).await?;
            if globals.json {
                json_out(&json!({"slug": slug}));
            } else {
                println!("{slug}");
            }
        }
        TasksCommand::Update {
            task,
            title,
            description,
            set,
            input,
        } => {
            if title.is_some() || description.is_some() {
                let update = TaskUpdate {
                    title,
                    description,
                    ..TaskUpdate::default()
                };
                client.update_task(&task, &update).await?;
            }
            if input.is_some() || !set.is_empty() {
                let saved = client.task(&task).await?;
                let worker = saved
                    .worker_slug
                    .ok_or_else(|| Failure::Other(format!("task {task} names no Worker"), None))?;
                let w = client.worker(&worker).await?;
                let input = build_input(&w, &fields(input, set))?;
                client.set_task_input(&task, &input).await?;
            }
            if globals.json {
                json_out(&json!({"slug": task, "updated": true}));
            } else {
                println!("task {task} updated");
            }
        }
        TasksCommand::Rm { task } => {
            client.delete_task(&task).await?;
            if globals.json {
                json_out(&json!({"slug": task, "deleted": true}));
            } else {
                println!("task {task} deleted");
            }
        }
        TasksCommand::Run {
            task,
            wait: and_wait,
        } => {
            let run = client.start_task(&task, None).await?;
            eprintln!("run {} started (task {task})", run.slug());
            if and_wait {
                let record = wait(globals, &run, false).await?;
                if globals.json {
                    json_out(&record_json(&record));
                } else {
                    print_record(&record);
                }
            } else if globals.json {
                json_out(&json!({"run_slug": run.slug()}));
            } else {
                println!("{}", run.slug());
            }
        }
    }
    Ok(())
}

struct RunRequest {
    input: Option<PathBuf>,
    set: Vec<String>,
    system: Option<String>,
    wait: bool,
    out: Option<PathBuf>,
    callback_url: Option<String>,
    abort_on_interrupt: bool,
}

fn build_input(w: &Worker, request: &RunRequest) -> Result<clawkit::coreclaw::Input, Failure> {
    let mut builder = w.input();
    if let Some(path) = &request.input {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::io(format!("cannot read {}", path.display()), e))?;
        let value: Value = serde_json::from_str(&text).map_err(|e| {
            Failure::Other(
                format!("{} is not JSON: {e}", path.display()),
                Some(format!(
                    "`claw coreclaw worker {} --example` prints a valid skeleton",
                    w.slug
                )),
            )
        })?;
        builder = builder.set_all(value);
    }
    for arg in &request.set {
        let (name, value) = pair(arg, "--set")?;
        builder = builder.set(&name, value);
    }
    if let Some(system) = &request.system {
        for part in system.split(',').filter(|p| !p.trim().is_empty()) {
            let (name, value) = pair(part, "--system")?;
            builder = builder.set_system(&name, value);
        }
    }
    Ok(builder.build()?)
}

async fn start(
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
            json_out(&json!({"run_slug": run.slug()}));
        } else {
            println!("{}", run.slug());
        }
        return Ok(());
    }
    let record = wait(globals, &run, request.abort_on_interrupt).await?;
    if !record.is_success() {
        if globals.json {
            json_out(&record_json(&record));
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
        None if globals.json => json_out(&record_json(&record)),
        None => print_record(&record),
    }
    Ok(())
}

/// Waits with a spinner; on Ctrl-C asks whether to abort (or aborts with --abort-on-interrupt).
async fn wait(
    globals: &Globals,
    run: &Run,
    abort_on_interrupt: bool,
) -> Result<RunRecord, Failure> {
    let hidden = globals.json || !std::io::stderr().is_terminal();
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
fn record_json(r: &RunRecord) -> Value {
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

fn print_record(r: &RunRecord) {
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
async fn save(
    globals: &Globals,
    run: &Run,
    record: &RunRecord,
    out: &Path,
) -> Result<u64, Failure> {
    let format = Format::of(out, &OUT_FORMATS)?;
    let hidden = globals.json || !std::io::stderr().is_terminal();
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

fn report_saved(globals: &Globals, record: &RunRecord, out: &Path, items: u64) {
    if globals.json {
        let mut v = record_json(record);
        v["out"] = json!(out.display().to_string());
        v["items_written"] = json!(items);
        json_out(&v);
    } else {
        println!(
            "run {} succeeded: {} results, usage {} USD",
            record.slug, record.results, record.usage
        );
        println!("wrote {items} items to {}", out.display());
    }
}

async fn runs(
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
        json_out(&Value::Array(records.iter().map(record_json).collect()));
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
        table(&["RUN", "STATUS", "WORKER", "RESULTS", "USAGE"], &rows);
    }
    Ok(())
}

async fn logs(globals: &Globals, client: &Client, slug: &str, follow: bool) -> Result<(), Failure> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_json_or_text() {
        assert_eq!(cli_value("[1,2]"), json!([1, 2]));
        assert_eq!(cli_value("12"), json!(12));
        assert_eq!(cli_value("hello world"), json!("hello world"));
        assert!(pair("novalue", "--set").is_err());
        assert!(pair("=1", "--set").is_err());
        assert_eq!(
            pair("a=b=c", "--set").ok(),
            Some(("a".into(), json!("b=c")))
        );
    }
}
