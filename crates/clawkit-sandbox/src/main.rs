//! `clawkit-sandbox`: serve the sandbox in the foreground.

use std::time::Duration;

use clap::{Parser, ValueEnum};
use clawkit_sandbox::botswin::MAX_TIME_SCALE;
use clawkit_sandbox::{DevopsTier, Sandbox};

/// An OpenClaw DevOps rate-limit tier, as the command line names it.
#[derive(Clone, Copy, ValueEnum)]
enum Tier {
    /// 60 requests a minute, 1,000 an hour, 5 at once.
    Free,
    /// 300 requests a minute, 10,000 an hour, 20 at once.
    Pro,
    /// 1,000 requests a minute, 50,000 an hour, 100 at once.
    Enterprise,
}

impl From<Tier> for DevopsTier {
    fn from(tier: Tier) -> Self {
        match tier {
            Tier::Free => DevopsTier::Free,
            Tier::Pro => DevopsTier::Pro,
            Tier::Enterprise => DevopsTier::Enterprise,
        }
    }
}

/// A local, stateful server of the clawkit vendors' APIs, with fault injection.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// Seed for ids, generated data and fault probabilities.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Seconds a CoreClaw run takes from start to its final status.
    #[arg(long, default_value_t = 3.0)]
    run_seconds: f64,
    /// CoreClaw account balance at start, in USD.
    #[arg(long, default_value_t = 100.0)]
    balance: f64,
    /// The OpenClaw DevOps rate-limit tier of every account.
    #[arg(long, value_enum, default_value_t = Tier::Pro)]
    devops_tier: Tier,
    /// Seconds an OpenClaw DevOps agent activation, build, deployment or test run takes.
    #[arg(long, default_value_t = 4.0)]
    devops_job_seconds: f64,
    /// Seconds the OpenClaw fulfillment server clock runs ahead of real time (negative: behind).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    fulfillment_clock_offset: i64,
    /// Seconds between two tracking nodes of an OpenClaw fulfillment parcel (and two states of a
    /// return).
    #[arg(long, default_value_t = 5.0)]
    fulfillment_logistics_seconds: f64,
    /// OpenClaw fulfillment order queries (list and get) allowed per second.
    #[arg(long, default_value_t = 10)]
    fulfillment_order_qps: u32,
    /// Seconds an OpenClaw fulfillment access token lives (`expires_in`; the service's 2 hours by
    /// default). A short one shows a client renewing its token.
    #[arg(long, default_value_t = 7200, value_parser = clap::value_parser!(u64).range(1..))]
    fulfillment_token_seconds: u64,
    /// How fast the bots.win clock runs: sandbox time per real time (60000 makes one real
    /// millisecond one sandbox minute); times, billed minutes and the idle timeout follow it.
    #[arg(long, default_value_t = 1.0)]
    botswin_time_scale: f64,
    /// bots.win quota units remaining at start (default the seed's 7650).
    #[arg(long)]
    botswin_quota: Option<f64>,
    /// bots.win browser sessions allowed at once (pricing.breakdown.maxSessions).
    #[arg(long, default_value_t = 1)]
    botswin_max_sessions: u32,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    if !(args.run_seconds.is_finite() && args.run_seconds >= 0.0) {
        eprintln!("error: --run-seconds must be a number of seconds, 0 or more");
        return std::process::ExitCode::from(2);
    }
    if !(args.devops_job_seconds.is_finite() && args.devops_job_seconds >= 0.0) {
        eprintln!("error: --devops-job-seconds must be a number of seconds, 0 or more");
        return std::process::ExitCode::from(2);
    }
    if !(args.fulfillment_logistics_seconds.is_finite()
        && args.fulfillment_logistics_seconds >= 0.0)
    {
        eprintln!("error: --fulfillment-logistics-seconds must be a number of seconds, 0 or more");
        return std::process::ExitCode::from(2);
    }
    let scale = args.botswin_time_scale;
    if !(scale.is_finite() && scale > 0.0 && scale <= MAX_TIME_SCALE) {
        eprintln!("error: --botswin-time-scale must be a number above 0, at most {MAX_TIME_SCALE}");
        return std::process::ExitCode::from(2);
    }
    if args
        .botswin_quota
        .is_some_and(|q| !(q.is_finite() && q >= 0.0))
    {
        eprintln!("error: --botswin-quota must be a number of quota units, 0 or more");
        return std::process::ExitCode::from(2);
    }
    let mut builder = Sandbox::builder()
        .port(args.port)
        .seed(args.seed)
        .run_duration(Duration::from_secs_f64(args.run_seconds))
        .initial_balance(args.balance)
        .devops_default_tier(args.devops_tier.into())
        .devops_job_time(Duration::from_secs_f64(args.devops_job_seconds))
        .fulfillment_clock_offset(args.fulfillment_clock_offset)
        .fulfillment_logistics_step(Duration::from_secs_f64(args.fulfillment_logistics_seconds))
        .fulfillment_order_qps(args.fulfillment_order_qps)
        .fulfillment_token_ttl(Duration::from_secs(args.fulfillment_token_seconds))
        .botswin_time_scale(scale)
        .botswin_max_sessions(args.botswin_max_sessions);
    if let Some(quota) = args.botswin_quota {
        builder = builder.botswin_quota(quota);
    }
    let sandbox = match builder.start().await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot listen on 127.0.0.1:{}: {e}", args.port);
            return std::process::ExitCode::FAILURE;
        }
    };
    print!("{}", sandbox.banner());
    if tokio::signal::ctrl_c().await.is_err() {
        eprintln!("error: cannot wait for Ctrl-C");
    }
    sandbox.shutdown().await;
    std::process::ExitCode::SUCCESS
}
