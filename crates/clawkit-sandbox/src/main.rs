//! `clawkit-sandbox`: serve the sandbox in the foreground.

use std::time::Duration;

use clap::Parser;
use clawkit_sandbox::Sandbox;

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
    let sandbox = match Sandbox::builder()
        .port(args.port)
        .seed(args.seed)
        .run_duration(Duration::from_secs_f64(args.run_seconds))
        .initial_balance(args.balance)
        .start()
        .await
    {
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
