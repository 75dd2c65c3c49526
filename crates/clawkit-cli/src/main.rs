//! `claw`: the command line for clawkit.
//!
//! Exit codes: 0 ok, 1 API or input error, 2 usage error, 3 run failed (or was aborted),
//! 130 interrupted.

mod args;
mod failure;
mod output;
mod session;

// The vendors' commands, one module each (and one line each in `vendors!` below).
mod bazhuayu;
mod botswin;
mod coreclaw;
mod devops;
mod fulfillment;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use failure::Failure;
use session::Globals;

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
    /// Where limits, tokens and webhook de-duplication are shared with other claw processes:
    /// `memory`, `sqlite://PATH` or `redis://HOST:PORT[/DB]` (`rediss://` for TLS). Default:
    /// CLAWKIT_STATE, else sqlite://$XDG_CACHE_HOME/clawkit/state.db (~/.cache/clawkit/state.db);
    /// memory with --sandbox.
    #[arg(long, global = true, value_name = "URL")]
    state: Option<clawkit::runtime::state::StateUrl>,
    /// Machine-readable JSON on stdout.
    #[arg(long, global = true)]
    json: bool,
    /// More logging on stderr (-v: info, -vv: debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

/// The vendors' subcommands, one line each: its help, its name and its module, which has the
/// subcommand's `Args` and `run`.
macro_rules! vendors {
    ($( $(#[$doc:meta])* $command:ident => $module:ident ),* $(,)?) => {
        #[derive(Subcommand)]
        enum Command {
            $( $(#[$doc])* $command($module::Args), )*
            /// Run the sandbox in the foreground (all vendors' local APIs, with fault injection).
            Sandbox(session::SandboxArgs),
        }

        async fn dispatch(globals: &Globals, command: Command) -> Result<(), Failure> {
            match command {
                $( Command::$command(args) => $module::run(globals, args).await, )*
                Command::Sandbox(args) => session::serve(args).await,
            }
        }
    };
}

vendors! {
    /// CoreClaw: Workers, runs, results, account.
    Coreclaw => coreclaw,
    /// Bazhuayu DataAPI: task groups, tasks, data, exports.
    Bazhuayu => bazhuayu,
    /// OpenClaw DevOps v2: users, projects, tasks, agents, pipelines, builds, deployments,
    /// test runs, webhooks.
    Devops => devops,
    /// OpenClaw fulfillment (龙虾): orders, inventory (ATS), labels, tracking, returns, webhooks,
    /// and a webhook receiver (`listen`).
    Fulfillment => fulfillment,
    /// bots.win cloud browsers: quota (and a preflight), usage, history, User Data containers,
    /// and `session`, which holds a browser session open and prints its CDP URL.
    Botswin => botswin,
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
        state: cli.state,
        json: cli.json,
    };
    match runtime.block_on(dispatch(&globals, cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}
