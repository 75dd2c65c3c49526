//! `claw bazhuayu ...`: everything goes through the clawkit facade.

use std::path::PathBuf;

use clap::Subcommand;
use clawkit::ErrorKind;
use clawkit::bazhuayu::{Client, ClientBuilder, Error, Flow, JsonlSink, ObjectSink, Reason};
use futures::StreamExt;
use serde_json::json;

use crate::failure::{Failure, Hints};
use crate::output::{self, Format, RowWriter};
use crate::session::{self, Globals};

/// `claw bazhuayu`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: BazhuayuCommand,
}

#[derive(Subcommand)]
enum BazhuayuCommand {
    /// Every task group.
    Groups,
    /// The tasks of a group.
    Tasks {
        /// Task group id.
        group: i64,
    },
    /// All of a task's data by offset (does not change what is exported): .jsonl, .csv or .json.
    Data {
        /// Task id.
        task: String,
        /// Output: .csv, .json or .jsonl, a local path or an object URL (s3://BUCKET/KEY.jsonl,
        /// gs://, az://, file://).
        #[arg(long, value_name = "FILE|URL")]
        out: PathBuf,
        /// Rows per request (1 to 1000).
        #[arg(long, default_value_t = 1000)]
        page_size: u32,
    },
    /// Export the rows not exported yet and mark them exported, exactly once into a .jsonl file
    /// (a FILE.state beside it remembers the last batch).
    Export {
        /// Task id.
        task: String,
        /// Output: a local .jsonl file, appended to, or an object-storage prefix
        /// (s3://BUCKET/PREFIX/, gs://, az://, file://) that gets one part-N-FINGERPRINT.jsonl
        /// object per batch.
        #[arg(long, value_name = "FILE|URL")]
        out: PathBuf,
        /// Rows per batch (1 to 1000).
        #[arg(long, default_value_t = 1000)]
        batch_size: u32,
    },
    /// Delete all of a task's data.
    Clear {
        /// Task id.
        task: String,
    },
}

/// What only Bazhuayu's commands know about its failures.
impl Hints for Client {
    type Reason = Reason;
    const CREDENTIALS: &'static str = " (your Bazhuayu account)";
    const BY_KIND: &'static [(ErrorKind, &'static str)] = &[
        (
            ErrorKind::Auth,
            "set BAZHUAYU_USERNAME and BAZHUAYU_PASSWORD, or pass --sandbox to use the embedded sandbox",
        ),
        (
            ErrorKind::NotFound,
            "list task ids with `claw bazhuayu groups` and `claw bazhuayu tasks GROUP`",
        ),
        (
            ErrorKind::InvalidInput,
            "list task ids with `claw bazhuayu groups` and `claw bazhuayu tasks GROUP`",
        ),
    ];

    fn specific(e: &Error) -> Option<String> {
        match (e.reason(), e.flow()) {
            (Some(Reason::Forbidden), _) => Some(
                "the account's plan does not include this API (DataAPI: flagship plan; start/stop: paid add-on)"
                    .into(),
            ),
            (_, Some(Flow::Stream { resume_offset, .. })) => Some(format!(
                "run again to start over; the rows before offset {resume_offset} were written"
            )),
            (_, Some(Flow::Sink { .. })) => {
                Some("the batch was not marked exported: run the export again".into())
            }
            _ => None,
        }
    }
}

pub async fn run(globals: &Globals, Args { command }: Args) -> Result<(), Failure> {
    // Check what can be checked before touching the network.
    match &command {
        BazhuayuCommand::Data { out, .. } => {
            output::check_destination(out, false).await?;
            Format::of(out, &[Format::Jsonl, Format::Csv, Format::Json])?;
        }
        BazhuayuCommand::Export { out, .. } if output::is_object(out) => {
            output::check_destination(out, true).await?;
        }
        BazhuayuCommand::Export { out, .. } => {
            Format::of(out, &[Format::Jsonl])?;
        }
        _ => {}
    }
    let session = session::start::<Client>(globals, ClientBuilder::from_config).await?;
    let client = &session.client;
    let hidden = globals.hidden();
    match command {
        BazhuayuCommand::Groups => {
            let groups = client.task_groups().await?;
            let listed: Vec<_> = groups
                .iter()
                .map(|g| json!({"taskGroupId": g.id, "taskGroupName": g.name}))
                .collect();
            let rows = groups
                .iter()
                .map(|g| vec![g.id.to_string(), g.name.clone()])
                .collect();
            output::rows(globals.json, &listed, &["GROUP", "NAME"], rows);
        }
        BazhuayuCommand::Tasks { group } => {
            let tasks = client.tasks(group).await?;
            let listed: Vec<_> = tasks
                .iter()
                .map(|t| json!({"taskId": t.id, "taskName": t.name}))
                .collect();
            let rows = tasks
                .iter()
                .map(|t| vec![t.id.clone(), t.name.clone()])
                .collect();
            output::rows(globals.json, &listed, &["TASK", "NAME"], rows);
        }
        BazhuayuCommand::Clear { task } => {
            client.clear_data(&task).await?;
            output::done(
                globals.json,
                json!({"taskId": task, "cleared": true}),
                || format!("cleared the data of task {task}"),
            );
        }
        BazhuayuCommand::Data {
            task,
            out,
            page_size,
        } => {
            let format = Format::of(&out, &[Format::Jsonl, Format::Csv, Format::Json])?;
            let mut writer = RowWriter::create(&out, format).await?;
            let mut pages = client.data_by_offset(&task).page_size(page_size).pages();
            let bar = output::bar(None, hidden, "reading");
            while let Some(page) = pages.next().await {
                let page = page?;
                output::set_total(&bar, page.total, "reading", "rows");
                writer.write(&page.items).await?;
                bar.inc(page.items.len() as u64);
            }
            let rows = writer.finish().await?;
            bar.finish_and_clear();
            output::done(
                globals.json,
                json!({"taskId": task, "out": out.display().to_string(), "rows": rows}),
                || format!("wrote {rows} rows to {}", out.display()),
            );
        }
        BazhuayuCommand::Export {
            task,
            out,
            batch_size,
        } => {
            let cannot = |e: &dyn std::fmt::Display| {
                Failure::io(format!("cannot open {}", out.display()), e)
            };
            // A local JSON Lines file, or one object per batch under a prefix.
            let mut sink = match out.to_str() {
                Some(url) if output::is_object(&out) => {
                    Sink::Objects(ObjectSink::open(url).await.map_err(|e| cannot(&e))?)
                }
                _ => Sink::File(JsonlSink::open(&out).await.map_err(|e| cannot(&e))?),
            };
            let bar = output::bar(None, hidden, "exporting");
            let report = client
                .export_new(&task)
                .batch_size(batch_size)
                .run(async |batch| {
                    output::set_total(
                        &bar,
                        u64::try_from(batch.remaining).ok(),
                        "exporting",
                        "rows",
                    );
                    match &mut sink {
                        Sink::File(s) => s.write(&batch).await?,
                        Sink::Objects(s) => s.write(&batch).await?,
                    }
                    bar.inc(batch.rows.len() as u64);
                    Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
                })
                .await?;
            bar.finish_and_clear();
            output::done(
                globals.json,
                json!({"taskId": task, "out": out.display().to_string(), "rows": report.rows, "batches": report.batches}),
                || {
                    format!(
                        "exported {} new rows in {} batches to {} (now marked exported)",
                        report.rows,
                        report.batches,
                        out.display()
                    )
                },
            );
        }
    }
    Ok(())
}

/// Where `claw bazhuayu export` writes.
enum Sink {
    File(JsonlSink),
    Objects(ObjectSink),
}
