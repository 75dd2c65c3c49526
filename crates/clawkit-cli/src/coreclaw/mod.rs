//! `claw coreclaw ...`: everything goes through the clawkit facade.

mod input;
mod runs;
mod tasks;
mod worker;

use std::path::PathBuf;

use clap::Subcommand;
use clawkit::ErrorKind;
use clawkit::coreclaw::{Client, Error, Flow, Reason};
use serde_json::{Value, json};

use crate::failure::{Failure, Hints};
use crate::output::{self, Format};
use crate::session::{self, Globals};

use input::RunRequest;
use runs::{OUT_FORMATS, StatusArg, print_record, record_json, report_saved, save};
use tasks::TasksCommand;

/// Public endpoints (store, Worker detail) need no key; the facade still wants one to build.
const NO_KEY: &str = "anonymous";

/// `claw coreclaw`.
#[derive(clap::Args)]
pub struct Args {
    /// Which CoreClaw API to use: v1 (the guide's) or v2 (`/api/v2`, Bearer auth). Both see
    /// the same account, runs and tasks; `tasks` always uses v2.
    #[arg(long, global = true, value_enum, default_value_t = ApiArg::V1)]
    api: ApiArg,
    #[command(subcommand)]
    command: CoreclawCommand,
}

#[derive(Subcommand)]
enum CoreclawCommand {
    /// Search the Worker store.
    Store {
        /// Keyword.
        search: String,
        /// Most results.
        #[arg(long, default_value_t = 10)]
        limit: u64,
    },
    /// A Worker's live input schema.
    Worker {
        /// Worker slug.
        slug: String,
        /// Print the JSON Schema clawkit builds from it.
        #[arg(long, conflicts_with = "example")]
        json_schema: bool,
        /// Print a skeleton input file (required fields and defaults) for `run --input`.
        #[arg(long, conflicts_with = "rust")]
        example: bool,
        /// Print a Rust module of serde types for the input (typify), to build inputs with the
        /// compiler checking every field name.
        #[arg(long, conflicts_with = "json_schema")]
        rust: bool,
    },
    /// Validate an input, start a run, and optionally wait and download its results.
    Run {
        /// Worker slug.
        slug: String,
        /// JSON file with the input fields (see `worker SLUG --example`).
        #[arg(long, value_name = "FILE")]
        input: Option<PathBuf>,
        /// One input field; VALUE is JSON, or a plain string. Repeatable.
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
        /// System parameters: cpus=..,memory=..(MB),execute_limit_time_seconds=..,
        /// max_total_charge=..,max_total_traffic=..,proxy_region=..
        #[arg(long, value_name = "KEY=VALUE,...")]
        system: Option<String>,
        /// Wait for the run to end (a spinner shows status and time).
        #[arg(long)]
        wait: bool,
        /// Write the results here when the run succeeded (implies --wait): .csv, .json or .jsonl,
        /// a local path or an object URL (s3://BUCKET/KEY, gs://, az://, file://).
        #[arg(long, value_name = "FILE|URL")]
        out: Option<PathBuf>,
        /// CoreClaw POSTs the completion event here.
        #[arg(long, value_name = "URL")]
        callback_url: Option<String>,
        /// On Ctrl-C while waiting, abort the run without asking.
        #[arg(long)]
        abort_on_interrupt: bool,
    },
    /// Run history, newest first.
    Runs {
        /// Only this Worker.
        #[arg(long)]
        worker: Option<String>,
        /// Only this status.
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
        /// Most runs to show.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// One run's record.
    Status {
        /// Run slug.
        run: String,
    },
    /// A run's log.
    Logs {
        /// Run slug.
        run: String,
        /// Keep printing new lines until the run ends.
        #[arg(long)]
        follow: bool,
    },
    /// Abort a running run.
    Abort {
        /// Run slug.
        run: String,
    },
    /// Download a run's results: .csv, .json or .jsonl.
    Results {
        /// Run slug.
        run: String,
        /// Output: .csv, .json or .jsonl, a local path or an object URL (s3://BUCKET/KEY.csv,
        /// gs://, az://, file://; credentials from AWS_* / GOOGLE_* / AZURE_*).
        #[arg(long, value_name = "FILE|URL")]
        out: PathBuf,
    },
    /// Balance, traffic and its expiry.
    Account,
    /// Saved Worker tasks (v2).
    Tasks {
        #[command(subcommand)]
        command: TasksCommand,
    },
    /// Proxy regions a Worker can run from (v2).
    Regions {
        /// Language of the names (en, zh, ...).
        #[arg(long)]
        language: Option<String>,
    },
}

/// `--api`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum ApiArg {
    /// `/api/v1` (the guide's API).
    V1,
    /// `/api/v2`.
    V2,
}

/// What only CoreClaw's commands know about its failures.
impl Hints for Client {
    type Reason = Reason;
    const CREDENTIALS: &'static str = " (CoreClaw console: Settings > API & Integrations)";
    const BY_KIND: &'static [(ErrorKind, &'static str)] = &[
        (
            ErrorKind::Auth,
            "set CORECLAW_API_KEY to a valid key (CoreClaw console: Settings > API & Integrations), or pass --sandbox",
        ),
        (
            ErrorKind::InvalidInput,
            "check the input against `claw coreclaw worker SLUG`",
        ),
        (
            ErrorKind::NotFound,
            "find Workers with `claw coreclaw store KEYWORD` and runs with `claw coreclaw runs`",
        ),
        (
            ErrorKind::Quota,
            "top up the account; `claw coreclaw account` shows the balance",
        ),
    ];

    fn specific(e: &Error) -> Option<String> {
        match (e.flow(), e.run_slug()) {
            (Some(Flow::InvalidInput(problems)), _) => Some(format!(
                "see the Worker's fields with `claw coreclaw worker {}`, or a skeleton input with `--example`",
                problems.worker
            )),
            (_, Some(slug)) => Some(format!("the run goes on: `claw coreclaw status {slug}`")),
            _ => None,
        }
    }
}

pub async fn run(globals: &Globals, Args { api, command }: Args) -> Result<(), Failure> {
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
    let session = session::start::<Client>(globals, |config| {
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
        CoreclawCommand::Store { search, limit } => {
            worker::store(globals, client, &search, limit).await
        }
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
            worker::worker(globals, client, &slug, json_schema, example).await
        }
        CoreclawCommand::Tasks { command } => tasks::run(globals, client, command).await,
        CoreclawCommand::Regions { language } => {
            let regions = client.proxy_regions(language.as_deref()).await?;
            if globals.json {
                output::json(&Value::Array(
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
            runs::start(globals, client, &slug, request).await
        }
        CoreclawCommand::Runs {
            worker,
            status,
            limit,
        } => runs::runs(globals, client, worker.as_deref(), status, limit).await,
        CoreclawCommand::Status { run } => {
            let record = client.run(&run).detail().await?;
            if globals.json {
                output::json(&record_json(&record));
            } else {
                print_record(&record);
            }
            Ok(())
        }
        CoreclawCommand::Logs { run, follow } => runs::logs(globals, client, &run, follow).await,
        CoreclawCommand::Abort { run } => {
            client.run(&run).abort().await?;
            output::done(
                globals.json,
                json!({"run_slug": run, "aborted": true}),
                || format!("run {run} aborting (it ends as failed once stopped)"),
            );
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
                output::json(
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
