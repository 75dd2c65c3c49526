//! `claw bazhuayu ...`: everything goes through the clawkit facade.

use std::io::IsTerminal;

use clawkit::bazhuayu::{Client, ClientBuilder, JsonlSink, ObjectSink};
use clawkit_sandbox::Vendor;
use futures::StreamExt;
use serde_json::{Value, json};

use crate::output::{self, Format, RowWriter, json_out, table};
use crate::{BazhuayuCommand, Failure, Globals, session};

pub async fn run(globals: &Globals, command: BazhuayuCommand) -> Result<(), Failure> {
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
    let session =
        session::start::<Client>(globals, Vendor::Bazhuayu, ClientBuilder::from_config).await?;
    let client = &session.client;
    let hidden = globals.json || !std::io::stderr().is_terminal();
    match command {
        BazhuayuCommand::Groups => {
            let groups = client.task_groups().await?;
            if globals.json {
                json_out(&Value::Array(
                    groups
                        .iter()
                        .map(|g| json!({"taskGroupId": g.id, "taskGroupName": g.name}))
                        .collect(),
                ));
            } else {
                let rows: Vec<_> = groups
                    .iter()
                    .map(|g| vec![g.id.to_string(), g.name.clone()])
                    .collect();
                table(&["GROUP", "NAME"], &rows);
            }
        }
        BazhuayuCommand::Tasks { group } => {
            let tasks = client.tasks(group).await?;
            if globals.json {
                json_out(&Value::Array(
                    tasks
                        .iter()
                        .map(|t| json!({"taskId": t.id, "taskName": t.name}))
                        .collect(),
                ));
            } else {
                let rows: Vec<_> = tasks
                    .iter()
                    .map(|t| vec![t.id.clone(), t.name.clone()])
                    .collect();
                table(&["TASK", "NAME"], &rows);
            }
        }
        BazhuayuCommand::Clear { task } => {
            client.clear_data(&task).await?;
            if globals.json {
                json_out(&json!({"taskId": task, "cleared": true}));
            } else {
                println!("cleared the data of task {task}");
            }
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
            if globals.json {
                json_out(&json!({"taskId": task, "out": out.display().to_string(), "rows": rows}));
            } else {
                println!("wrote {rows} rows to {}", out.display());
            }
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
            if globals.json {
                json_out(
                    &json!({"taskId": task, "out": out.display().to_string(), "rows": report.rows, "batches": report.batches}),
                );
            } else {
                println!(
                    "exported {} new rows in {} batches to {} (now marked exported)",
                    report.rows,
                    report.batches,
                    out.display()
                );
            }
        }
    }
    Ok(())
}

/// Where `claw bazhuayu export` writes.
enum Sink {
    File(JsonlSink),
    Objects(ObjectSink),
}
