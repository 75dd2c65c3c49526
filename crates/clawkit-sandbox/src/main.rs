//! `clawkit-sandbox`: serve the sandbox in the foreground.

use clap::Parser;
use clawkit_sandbox::{Flags, Sandbox};

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
    /// Every vendor's own settings.
    #[command(flatten)]
    vendors: Flags,
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
    let builder = match Sandbox::builder()
        .port(args.port)
        .seed(args.seed)
        .flags(args.vendors)
    {
        Ok(builder) => builder,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
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
