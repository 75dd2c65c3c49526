//! `claw bazhuayu ...`: everything goes through the clawkit facade.

use std::io::IsTerminal;
use std::path::Path;

use clawkit::bazhuayu::{Client, JsonlSink};
use clawkit_sandbox::{Sandbox, Vendor, bazhuayu as sandbox_bazhuayu};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::output::{self, json_out, table};
use crate::{BazhuayuCommand, Failure, Globals};

async fn session(globals: &Globals) -> Result<(Client, Option<Sandbox>), Failure> {
    if globals.sandbox {
        let sandbox = Sandbox::builder()
            .start()
            .await
            .map_err(|e| Failure::Other(format!("cannot start the embedded sandbox: {e}"), None))?;
        let base = sandbox.base_url(Vendor::Bazhuayu);
        eprintln!("claw: using the embedded sandbox at {base} (no account)");
        let client = Client::builder()
            .credentials(sandbox_bazhuayu::USERNAME, sandbox_bazhuayu::PASSWORD)
            .base_url(base)
            .build()?;
        return Ok((client, Some(sandbox)));
    }
    let (Ok(user), Ok(pass)) = (
        std::env::var("BAZHUAYU_USERNAME"),
        std::env::var("BAZHUAYU_PASSWORD"),
    ) else {
        return Err(Failure::Other(
            "BAZHUAYU_USERNAME and BAZHUAYU_PASSWORD are not set".into(),
            Some("export both (your Bazhuayu account), or pass --sandbox to use the embedded sandbox".into()),
        ));
    };
    let mut builder = Client::builder().credentials(user, pass);
    if let Some(url) = globals
        .base_url
        .clone()
        .or_else(|| std::env::var("BAZHUAYU_BASE_URL").ok())
    {
        builder = builder.base_url(url);
    }
    Ok((builder.build()?, None))
}

fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

pub async fn run(globals: &Globals, command: BazhuayuCommand) -> Result<(), Failure> {
    match &command {
        BazhuayuCommand::Data { out, .. }
            if !matches!(extension(out).as_str(), "jsonl" | "csv") =>
        {
            return Err(Failure::Usage(format!(
                "--out {}: the file must end in .jsonl or .csv",
                out.display()
            )));
        }
        BazhuayuCommand::Export { out, .. } if extension(out) != "jsonl" => {
            return Err(Failure::Usage(format!(
                "--out {}: exports are written as .jsonl",
                out.display()
            )));
        }
        _ => {}
    }
    let (client, _sandbox) = session(globals).await?;
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
                table(
                    &["GROUP", "NAME"],
                    &groups
                        .iter()
                        .map(|g| vec![g.id.to_string(), g.name.clone()])
                        .collect::<Vec<_>>(),
                );
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
                table(
                    &["TASK", "NAME"],
                    &tasks
                        .iter()
                        .map(|t| vec![t.id.clone(), t.name.clone()])
                        .collect::<Vec<_>>(),
                );
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
            let csv_out = extension(&out) == "csv";
            let file = tokio::fs::File::create(&out).await.map_err(|e| {
                Failure::Other(format!("cannot create {}: {e}", out.display()), None)
            })?;
            let mut file = tokio::io::BufWriter::new(file);
            let mut pages = client.data_by_offset(&task).page_size(page_size).pages();
            let bar = output::bar(None, hidden, "reading");
            let mut columns: Option<Vec<String>> = None;
            let mut rows = 0u64;
            let fail = |e: &dyn std::fmt::Display| Failure::Other(e.to_string(), None);
            while let Some(page) = pages.next().await {
                let page = page?;
                output::set_total(&bar, page.total, "reading", "rows");
                // Each page is encoded into one buffer (one CSV writer per page, not per row).
                let mut bytes = Vec::new();
                let mut encoder = csv::Writer::from_writer(Vec::new());
                for row in &page.rows {
                    if csv_out {
                        let cols = match &columns {
                            Some(cols) => cols,
                            None => {
                                let cols: Vec<String> = row.keys().cloned().collect();
                                encoder.write_record(&cols).map_err(|e| fail(&e))?;
                                columns.insert(cols)
                            }
                        };
                        let cells = cols.iter().map(|c| match row.get(c) {
                            Some(Value::String(s)) => s.clone(),
                            Some(Value::Null) | None => String::new(),
                            Some(v) => v.to_string(),
                        });
                        encoder.write_record(cells).map_err(|e| fail(&e))?;
                    } else {
                        serde_json::to_writer(&mut bytes, row).map_err(|e| fail(&e))?;
                        bytes.push(b'\n');
                    }
                    rows += 1;
                }
                if csv_out {
                    bytes = encoder.into_inner().map_err(|e| fail(&e))?;
                }
                file.write_all(&bytes).await?;
                bar.inc(page.rows.len() as u64);
            }
            file.flush().await?;
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
            let mut sink = JsonlSink::open(&out)
                .await
                .map_err(|e| Failure::Other(format!("cannot open {}: {e}", out.display()), None))?;
            let bar = output::bar(None, hidden, "exporting");
            let report = client
                .export_new(&task)
                .batch_size(batch_size)
                .run(async |batch| {
                    output::set_total(&bar, batch.remaining, "exporting", "rows");
                    sink.write(&batch).await?;
                    bar.inc(batch.rows.len() as u64);
                    Ok::<(), std::io::Error>(())
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
