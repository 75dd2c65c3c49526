//! `claw`: the command line for clawkit.
//!
//! Exit codes: 0 ok, 1 API or input error, 2 usage error, 3 run failed (or was aborted),
//! 130 interrupted.

mod args;
mod bazhuayu;
mod botswin;
mod coreclaw;
mod devops;
mod failure;
mod fulfillment;
mod output;
mod session;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

pub use failure::Failure;

/// Run claw automation platforms from the command line (CoreClaw first).
#[derive(Parser)]
#[command(name = "claw", version, about, propagate_version = true)]
struct Cli {
    /// Start the embedded sandbox and point the command at it (no account, no charges).
    #[arg(long, global = true)]
    sandbox: bool,
    /// API base URL (default: the vendor's production URL, or <VENDOR>_BASE_URL).
    #[arg(long, global = true, value_name = "URL")]
    base_url: Option<String>,
    /// Machine-readable JSON on stdout.
    #[arg(long, global = true)]
    json: bool,
    /// More logging on stderr (-v: info, -vv: debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// CoreClaw: Workers, runs, results, account.
    Coreclaw {
        /// Which CoreClaw API to use: v1 (the guide's) or v2 (`/api/v2`, Bearer auth). Both see
        /// the same account, runs and tasks; `tasks` always uses v2.
        #[arg(long, global = true, value_enum, default_value_t = ApiArg::V1)]
        api: ApiArg,
        #[command(subcommand)]
        command: CoreclawCommand,
    },
    /// Bazhuayu DataAPI: task groups, tasks, data, exports.
    Bazhuayu {
        #[command(subcommand)]
        command: BazhuayuCommand,
    },
    /// OpenClaw DevOps v2: users, projects, tasks, agents, pipelines, builds, deployments,
    /// test runs, webhooks.
    Devops(devops::DevopsArgs),
    /// OpenClaw fulfillment (龙虾): orders, inventory (ATS), labels, tracking, returns, webhooks,
    /// and a webhook receiver (`listen`).
    Fulfillment {
        #[command(subcommand)]
        command: fulfillment::FulfillmentCommand,
    },
    /// bots.win cloud browsers: quota (and a preflight), usage, history, User Data containers,
    /// and `session`, which holds a browser session open and prints its CDP URL.
    Botswin {
        #[command(subcommand)]
        command: botswin::BotswinCommand,
    },
    /// Run the sandbox in the foreground (all vendors' local APIs, with fault injection).
    Sandbox {
        /// Port on 127.0.0.1.
        #[arg(long, default_value_t = 8787)]
        port: u16,
        /// Seed for ids and generated data.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Seconds a CoreClaw run takes.
        #[arg(long, default_value_t = 3.0)]
        run_seconds: f64,
    },
}

/// A run status, for filters.
#[derive(Clone, Copy, ValueEnum)]
pub enum StatusArg {
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

#[derive(Subcommand)]
pub enum CoreclawCommand {
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
pub enum ApiArg {
    /// `/api/v1` (the guide's API).
    V1,
    /// `/api/v2`.
    V2,
}

/// `claw coreclaw tasks ...`: saved Worker tasks (CoreClaw v2).
#[derive(Subcommand)]
pub enum TasksCommand {
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

#[derive(Subcommand)]
pub enum BazhuayuCommand {
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

/// Global options every command sees.
pub struct Globals {
    pub sandbox: bool,
    pub base_url: Option<String>,
    pub json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| level.into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let globals = Globals {
        sandbox: cli.sandbox,
        base_url: cli.base_url,
        json: cli.json,
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Coreclaw { api, command } => coreclaw::run(&globals, api, command).await,
            Command::Bazhuayu { command } => bazhuayu::run(&globals, command).await,
            Command::Devops(args) => devops::run(&globals, args).await,
            Command::Fulfillment { command } => fulfillment::run(&globals, command).await,
            Command::Botswin { command } => botswin::run(&globals, command).await,
            Command::Sandbox {
                port,
                seed,
                run_seconds,
            } => sandbox(port, seed, run_seconds).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

async fn sandbox(port: u16, seed: u64, run_seconds: f64) -> Result<(), Failure> {
    if !(run_seconds.is_finite() && run_seconds >= 0.0) {
        return Err(Failure::Usage("--run-seconds must be 0 or more".into()));
    }
    let sandbox = clawkit_sandbox::Sandbox::builder()
        .port(port)
        .seed(seed)
        .configure(|c: &mut clawkit_sandbox::coreclaw::Config| {
            c.run_duration = Duration::from_secs_f64(run_seconds)
        })
        .start()
        .await
        .map_err(|e| Failure::cannot_listen(port, e))?;
    print!("{}", sandbox.banner());
    eprintln!("Ctrl-C stops it.");
    let _ = tokio::signal::ctrl_c().await;
    sandbox.shutdown().await;
    Ok(())
}
