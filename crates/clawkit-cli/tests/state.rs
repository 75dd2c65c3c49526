//! `claw` processes sharing one account through the state store (issue 25): separate OS
//! processes against a sandbox started by the test, as a cron of CLI calls would run.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use clawkit_sandbox::{Sandbox, Vendor};
use serde_json::Value;

const ORDER: &str = "#1001&A";

/// `claw fulfillment ...` with the app's credentials, the state in `cache` (as
/// `XDG_CACHE_HOME`), and `args` before the command.
fn claw(sb: &Sandbox, cache: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("claw")
        .unwrap()
        .env("OPENCLAW_FULFILLMENT_CLIENT_ID", "sandbox-client")
        .env(
            "OPENCLAW_FULFILLMENT_CLIENT_SECRET",
            "cs_sandbox_5f2b9c7e4d1a",
        )
        .env("XDG_CACHE_HOME", cache)
        .env_remove("CLAWKIT_STATE")
        .arg("--base-url")
        .arg(sb.base_url(Vendor::OpenclawFulfillment))
        .args(args)
        .output()
        .unwrap()
}

fn orders_get(sb: &Sandbox, cache: &Path, state: &[&str]) -> Output {
    let mut args = state.to_vec();
    args.extend(["fulfillment", "orders", "get", ORDER]);
    claw(sb, cache, &args)
}

async fn stats(sb: &Sandbox) -> Value {
    let url = format!(
        "{}/_sandbox/stats",
        sb.base_url(Vendor::OpenclawFulfillment)
    );
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

fn fresh_cache(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("clawkit-state-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "claw failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequential_calls_share_one_token_and_the_limit_in_the_default_sqlite_file() {
    let sb = Sandbox::builder().start().await.unwrap();
    let cache = fresh_cache("sequential");
    for _ in 0..60 {
        let (sb, cache) = (&sb, cache.clone());
        ok(&tokio::task::block_in_place(|| orders_get(sb, &cache, &[])));
    }
    let s = stats(&sb).await;
    assert_eq!(s["token_grants"], 1, "one grant for 60 calls: {s}");
    assert_eq!(s["rate_limited"], 0, "{s}");
    let db = cache.join("clawkit").join("state.db");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&db).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", db.display());
    }
    // The file holds no secret and no token in the clear.
    let mut bytes = std::fs::read(&db).unwrap();
    bytes.extend(std::fs::read(cache.join("clawkit").join("state.db-wal")).unwrap_or_default());
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains("cs_sandbox_5f2b9c7e4d1a") && !text.contains("sandbox-client"));

    // `--state memory` opts out: a token per call, as before.
    for _ in 0..3 {
        ok(&orders_get(&sb, &cache, &["--state", "memory"]));
    }
    assert_eq!(stats(&sb).await["token_grants"], 4);
    let _ = std::fs::remove_dir_all(&cache);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_at_once_stay_inside_the_order_query_limit() {
    let sb = Sandbox::builder().start().await.unwrap();
    let cache = fresh_cache("parallel");
    let base = sb.base_url(Vendor::OpenclawFulfillment);
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (cache, base) = (cache.clone(), base.clone());
            std::thread::spawn(move || {
                for _ in 0..10 {
                    let o = std::process::Command::new(env!("CARGO_BIN_EXE_claw"))
                        .env("OPENCLAW_FULFILLMENT_CLIENT_ID", "sandbox-client")
                        .env(
                            "OPENCLAW_FULFILLMENT_CLIENT_SECRET",
                            "cs_sandbox_5f2b9c7e4d1a",
                        )
                        .env("XDG_CACHE_HOME", &cache)
                        .env_remove("CLAWKIT_STATE")
                        .args(["--base-url", &base, "fulfillment", "orders", "get", ORDER])
                        .output()
                        .unwrap();
                    ok(&o);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let s = stats(&sb).await;
    assert_eq!(
        s["rate_limited"], 0,
        "no 429 for 40 queries from 4 processes: {s}"
    );
    assert_eq!(s["token_grants"], 1, "one token for the 4 processes: {s}");
    let _ = std::fs::remove_dir_all(&cache);
}

#[tokio::test]
async fn a_bad_state_url_is_a_usage_error_naming_the_forms() {
    let sb = Sandbox::builder().start().await.unwrap();
    let cache = fresh_cache("bad");
    let o = orders_get(&sb, &cache, &["--state", "postgres://db"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("unknown scheme `postgres`") && err.contains("sqlite://PATH"),
        "{err}"
    );
    let o = Command::cargo_bin("claw")
        .unwrap()
        .env("OPENCLAW_FULFILLMENT_CLIENT_ID", "sandbox-client")
        .env("OPENCLAW_FULFILLMENT_CLIENT_SECRET", "x")
        .env("CLAWKIT_STATE", "redis://")
        .args(["--base-url", &sb.base_url(Vendor::OpenclawFulfillment)])
        .args(["fulfillment", "orders", "get", ORDER])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("CLAWKIT_STATE") && err.contains("needs a host"),
        "{err}"
    );
}
