//! `claw coreclaw tasks ...`: saved Worker tasks (CoreClaw v2, whichever `--api`).

use std::path::PathBuf;

use clap::Subcommand;
use clawkit::coreclaw::{Client, NewTask, Schedule, TaskUpdate};
use futures::TryStreamExt;
use serde_json::{Value, json};

use crate::failure::Failure;
use crate::output;
use crate::session::Globals;

use super::input::{RunRequest, build_input};
use super::runs::{print_record, record_json, wait};

/// `claw coreclaw tasks ...`: saved Worker tasks (CoreClaw v2).
#[derive(Subcommand)]
pub(super) enum TasksCommand {
    /// Saved tasks, optionally of one Worker or matching a keyword.
    List {
        /// Only this Worker (slug or owner~name).
        #[arg(long)]
        worker: Option<String>,
        /// Keyword in the title or slug.
        #[arg(long)]
        keyword: Option<String>,
    },
    /// Save a task: a Worker and a validated input (like `run`), with an optional daily schedule.
    Create {
        /// Worker slug (or owner~name).
        worker: String,
        /// Title.
        #[arg(long)]
        title: String,
        /// JSON file with the input fields.
        #[arg(long, value_name = "FILE")]
        input: Option<PathBuf>,
        /// One input field, NAME=VALUE (VALUE is JSON, or else a string); repeatable.
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
        /// Description.
        #[arg(long)]
        description: Option<String>,
        /// Run it every day at HH:mm.
        #[arg(long, value_name = "HH:MM")]
        daily: Option<String>,
    },
    /// Change a task's title, description or input.
    Update {
        /// Task slug.
        task: String,
        /// New title.
        #[arg(long)]
        title: Option<String>,
        /// New description.
        #[arg(long)]
        description: Option<String>,
        /// New input fields (the whole input is replaced), NAME=VALUE; repeatable.
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
        /// New input from a JSON file.
        #[arg(long, value_name = "FILE")]
        input: Option<PathBuf>,
    },
    /// Delete a task.
    Rm {
        /// Task slug.
        task: String,
    },
    /// Run a task; `--wait` waits for the end.
    Run {
        /// Task slug.
        task: String,
        /// Wait for the run to end and print its record.
        #[arg(long)]
        wait: bool,
    },
}

/// Runs a `claw coreclaw tasks` command (v2, whichever `--api`).
pub(super) async fn run(
    globals: &Globals,
    client: &Client,
    command: TasksCommand,
) -> Result<(), Failure> {
    match command {
        TasksCommand::List { worker, keyword } => {
            let list: Vec<_> = client
                .tasks(worker.as_deref(), keyword.as_deref())
                .try_collect()
                .await?;
            if globals.json {
                output::json(&Value::Array(
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
                output::table(&["task", "title", "worker"], &rows);
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
            let input = build_input(&w, &RunRequest::input(input, set))?;
            let task = NewTask {
                title,
                description,
                schedule: daily.map(|time| Schedule::Daily { time }),
            };
            let slug = client.create_task(&w, &input, &task).await?;
            if globals.json {
                output::json(&json!({"slug": slug}));
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
                let input = build_input(&w, &RunRequest::input(input, set))?;
                client.set_task_input(&task, &input).await?;
            }
            if globals.json {
                output::json(&json!({"slug": task, "updated": true}));
            } else {
                println!("task {task} updated");
            }
        }
        TasksCommand::Rm { task } => {
            client.delete_task(&task).await?;
            if globals.json {
                output::json(&json!({"slug": task, "deleted": true}));
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
                    output::json(&record_json(&record));
                } else {
                    print_record(&record);
                }
            } else if globals.json {
                output::json(&json!({"run_slug": run.slug()}));
            } else {
                println!("{}", run.slug());
            }
        }
    }
    Ok(())
}
