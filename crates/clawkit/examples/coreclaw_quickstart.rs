//! CoreClaw's guide, end to end, in a few lines:
//! search the store, read the Worker's live schema, start a validated run, wait, page the
//! results, export a CSV, check the balance.
//!
//! `cargo run -p clawkit --example coreclaw_quickstart`
//!
//! With `CORECLAW_API_KEY` set it talks to CoreClaw (`CORECLAW_BASE_URL` to override the URL), and
//! spends real money. Without it, it starts the embedded sandbox and runs there.

use clawkit::coreclaw::{Client, ExportFormat};
use futures::TryStreamExt;
use serde_json::json;

const WORKER: &str = "01KNXSHE0Y7DZKF1N8B1EMFX35";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter("clawkit=info")
        .init();

    // Real account, or the sandbox.
    let (client, _sandbox) = match Client::from_env() {
        Ok(client) => (client, None),
        Err(_) => {
            let sandbox = clawkit_sandbox::Sandbox::builder()
                .configure(|c: &mut clawkit_sandbox::coreclaw::Config| {
                    c.run_duration = std::time::Duration::from_secs(2)
                })
                .start()
                .await?;
            let base = sandbox.base_url(clawkit_sandbox::Vendor::Coreclaw);
            eprintln!("CORECLAW_API_KEY is not set: using the embedded sandbox at {base}");
            let client = Client::builder()
                .api_key(clawkit_sandbox::coreclaw::API_KEY)
                .base_url(base)
                .build()?;
            (client, Some(sandbox))
        }
    };

    // 1. Find the Worker.
    for item in client.search("amazon", 5).await? {
        println!("store: {} {}", item.slug, item.title);
    }

    // 2. Read its live schema and build the input from it (checked before anything is sent).
    let worker = client.worker(WORKER).await?;
    println!(
        "worker {} {}: fields {:?}",
        worker.slug,
        worker.version,
        worker
            .properties
            .iter()
            .map(|p| &p.name)
            .collect::<Vec<_>>()
    );
    let input = worker
        .input()
        .set(
            "urls",
            [json!({"url": "https://www.amazon.com/dp/B0CHHSFMRL"})],
        )
        .build()?;

    // 3. Start and wait.
    let (run, record) = client.call(&worker, input).await?;
    println!(
        "run {} ended: {} with {} results, usage {} USD",
        run.slug(),
        record.status,
        record.results,
        record.usage
    );

    // 4. Page through the results.
    let items: Vec<serde_json::Map<String, serde_json::Value>> = run.items().try_collect().await?;
    for item in &items {
        println!("item: {} {}", item["asin"], item["title"]);
    }

    // 5. Export a CSV file.
    let mut file = tokio::fs::File::create("coreclaw_results.csv").await?;
    let bytes = run.export(ExportFormat::Csv, &mut file).await?;
    println!("wrote coreclaw_results.csv ({bytes} bytes)");

    // 6. Balance.
    let account = client.account().await?;
    match account.traffic_bytes {
        Some(traffic) => println!("balance {} USD, traffic {traffic} bytes", account.balance),
        None => println!("balance {} USD", account.balance),
    }
    Ok(())
}
