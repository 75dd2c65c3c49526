//! `claw` as a user runs it, against a sandbox started in the test process.

use std::process::{Command as Std, Output, Stdio};
use std::time::Duration;

use assert_cmd::Command;
use clawkit_sandbox::{Sandbox, Vendor};
use serde_json::Value;

const AMAZON: &str = "01KNXSHE0Y7DZKF1N8B1EMFX35";
const LOAD: &str = "01KSBXLOADGEN0000000000001";
const PAGE_TEXT: &str = "01KSBXPAGETEXT000000000001";

async fn sandbox(run_ms: u64) -> Sandbox {
    Sandbox::builder()
        .configure(|c: &mut clawkit_sandbox::coreclaw::Config| {
            c.run_duration = Duration::from_millis(run_ms)
        })
        .start()
        .await
        .unwrap()
}

/// Runs `claw` with `args` against one vendor of the sandbox, with the credentials in the
/// environment as a user would set them.
async fn claw_at(sb: &Sandbox, vendor: Vendor, args: &[&str]) -> Output {
    let base = sb.base_url(vendor);
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        Command::cargo_bin("claw")
            .unwrap()
            .env("CORECLAW_API_KEY", "sandbox-key")
            .env_remove("CORECLAW_BASE_URL")
            .env("BAZHUAYU_USERNAME", "sandbox")
            .env("BAZHUAYU_PASSWORD", "sandbox")
            .env("OPENCLAW_DEVOPS_CLIENT_ID", "sandbox")
            .env("OPENCLAW_DEVOPS_CLIENT_SECRET", "sandbox-secret")
            .env("OPENCLAW_FULFILLMENT_CLIENT_ID", "sandbox-client")
            .env(
                "OPENCLAW_FULFILLMENT_CLIENT_SECRET",
                "cs_sandbox_5f2b9c7e4d1a",
            )
            .env("BOTSWIN_TOKEN", "sandbox-token")
            // The state these processes share stays this test run's own.
            .env(
                "XDG_CACHE_HOME",
                std::env::temp_dir().join(format!("clawkit-cli-{}", std::process::id())),
            )
            .env_remove("CLAWKIT_STATE")
            .arg("--base-url")
            .arg(base)
            .args(args)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// `claw` against the sandbox's CoreClaw.
async fn claw(sb: &Sandbox, args: &[&str]) -> Output {
    claw_at(sb, Vendor::Coreclaw, args).await
}

/// `claw` against the sandbox's Bazhuayu.
async fn claw_bzy(sb: &Sandbox, args: &[&str]) -> Output {
    claw_at(sb, Vendor::Bazhuayu, args).await
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

#[tokio::test(flavor = "multi_thread")]
async fn store_worker_and_account() {
    let sb = sandbox(200).await;
    let o = claw(&sb, &["coreclaw", "store", "amazon", "--limit", "5"]).await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("SLUG"));
    assert!(stdout(&o).contains(AMAZON));
    let o = claw(&sb, &["--json", "coreclaw", "store", "amazon"]).await;
    assert_eq!(json(&o)[0]["slug"], AMAZON);

    let o = claw(&sb, &["coreclaw", "worker", AMAZON]).await;
    assert!(
        stdout(&o).contains("urls") && stdout(&o).contains("v1.0.1"),
        "{}",
        stdout(&o)
    );
    let schema = json(&claw(&sb, &["coreclaw", "worker", AMAZON, "--json-schema"]).await);
    assert_eq!(schema["required"][0], "urls");
    let example = json(
        &claw(
            &sb,
            &[
                "coreclaw",
                "worker",
                "01KBHMS6A8H6A3K5FJY11MQ99Z",
                "--example",
            ],
        )
        .await,
    );
    assert_eq!(example["max_results"], 20);
    assert!(
        example.get("keyword").is_some(),
        "required fields are in the skeleton"
    );

    let o = claw(&sb, &["--json", "coreclaw", "account"]).await;
    assert_eq!(json(&o)["balance"], "100.00");
}

#[tokio::test(flavor = "multi_thread")]
async fn run_wait_and_write_every_format() {
    let sb = sandbox(200).await;
    let dir = std::env::temp_dir().join(format!("claw-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for ext in ["csv", "jsonl", "json"] {
        let out = dir.join(format!("results.{ext}"));
        let o = claw(
            &sb,
            &[
                "coreclaw",
                "run",
                LOAD,
                "--set",
                "count=250",
                "--system",
                "cpus=0.25,memory=1024",
                "--wait",
                "--out",
                out.to_str().unwrap(),
            ],
        )
        .await;
        assert!(o.status.success(), "{ext}: {}", stderr(&o));
        // stdout holds the summary only: progress and the run slug go to stderr, and progress is
        // hidden when stderr is not a terminal
        let out_text = stdout(&o);
        assert_eq!(out_text.lines().count(), 2, "{out_text}");
        assert!(out_text.contains("wrote 250 items"), "{out_text}");
        assert!(
            !stderr(&o).contains('\u{1b}'),
            "no terminal drawing when piped: {}",
            stderr(&o)
        );
        assert!(
            stderr(&o).contains("run 01K"),
            "the slug is printed: {}",
            stderr(&o)
        );
        let text = std::fs::read_to_string(&out).unwrap();
        match ext {
            "csv" => {
                let lines: Vec<&str> = text.lines().collect();
                assert_eq!(lines[0], "index,name,value,payload");
                assert_eq!(lines.len(), 251, "header plus one row per result");
            }
            "jsonl" => assert_eq!(
                text.lines()
                    .filter(|l| serde_json::from_str::<Value>(l).is_ok())
                    .count(),
                250
            ),
            _ => assert_eq!(
                serde_json::from_str::<Vec<Value>>(&text).unwrap().len(),
                250
            ),
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn start_status_logs_abort_results_runs() {
    let sb = sandbox(60_000).await;
    let o = claw(&sb, &["coreclaw", "run", LOAD, "--set", "count=100"]).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let slug = stdout(&o).trim().to_string();
    assert_eq!(slug.len(), 26, "the run slug is the output: {slug}");

    let status = json(&claw(&sb, &["--json", "coreclaw", "status", &slug]).await);
    assert!(matches!(status["status"].as_i64(), Some(1 | 2)));
    let logs = claw(&sb, &["coreclaw", "logs", &slug]).await;
    assert!(
        stdout(&logs).contains("Preparing the execution environment"),
        "{}",
        stdout(&logs)
    );
    let abort = claw(&sb, &["coreclaw", "abort", &slug]).await;
    assert!(abort.status.success(), "{}", stderr(&abort));
    let status = claw(&sb, &["coreclaw", "status", &slug]).await;
    assert!(stdout(&status).contains("aborting"), "{}", stdout(&status));
    let aborting = json(
        &claw(
            &sb,
            &[
                "--json", "coreclaw", "runs", "--worker", LOAD, "--status", "aborted",
            ],
        )
        .await,
    );
    assert!(
        aborting
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["run_slug"] == slug.as_str()),
        "--status aborted is an alias of aborting (5)"
    );
    // Following the log waits through "aborting" to the end: failed, saying it was aborted.
    let followed = claw(&sb, &["coreclaw", "logs", &slug, "--follow"]).await;
    assert!(
        stdout(&followed).contains("Run aborted by the user."),
        "{}",
        stdout(&followed)
    );
    let again = claw(&sb, &["coreclaw", "abort", &slug]).await;
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("70002"), "{}", stderr(&again));

    let out = std::env::temp_dir().join(format!("claw-results-{}.csv", std::process::id()));
    let o = claw(
        &sb,
        &[
            "coreclaw",
            "results",
            "01KSFDS8XWTJME33C08XMCR6B9",
            "--out",
            out.to_str().unwrap(),
        ],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 21);
    std::fs::remove_file(&out).ok();

    let runs = json(
        &claw(
            &sb,
            &[
                "--json", "coreclaw", "runs", "--worker", LOAD, "--status", "failed",
            ],
        )
        .await,
    );
    assert!(
        runs.as_array()
            .unwrap()
            .iter()
            .any(|r| r["run_slug"] == slug.as_str())
    );
    let table = claw(&sb, &["coreclaw", "runs", "--limit", "2"]).await;
    assert_eq!(stdout(&table).lines().count(), 3, "header and two runs");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_and_exit_codes() {
    let sb = sandbox(200).await;
    // unknown field: exit 1, one line plus a hint, nothing started
    let o = claw(&sb, &["coreclaw", "run", AMAZON, "--set", "startURLs=[]"]).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("did you mean `urls`?"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("hint:"));
    assert!(!stderr(&o).contains("panicked") && !stderr(&o).contains("backtrace"));
    // wrong type
    let o = claw(
        &sb,
        &[
            "coreclaw",
            "run",
            AMAZON,
            "--set",
            "urls=https://www.amazon.com/dp/X",
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("`urls`: expected array, got string"),
        "{}",
        stderr(&o)
    );
    // bad system parameter
    let o = claw(
        &sb,
        &[
            "coreclaw",
            "run",
            AMAZON,
            "--set",
            "urls=[]",
            "--system",
            "memory=300",
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("system.memory"), "{}", stderr(&o));
    // unknown run
    let o = claw(&sb, &["coreclaw", "status", "01KNOSUCHRUN0000000000000"]).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("70001") && stderr(&o).contains("claw coreclaw runs"),
        "{}",
        stderr(&o)
    );
    // a run that fails: exit 3
    let o = claw(
        &sb,
        &[
            "coreclaw",
            "run",
            PAGE_TEXT,
            "--set",
            "url=https://example.com/sandbox:fail",
            "--wait",
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("failed"), "{}", stderr(&o));
    // usage errors: exit 2
    let o = claw(&sb, &["coreclaw", "run", AMAZON, "--out", "results.xlsx"]).await;
    assert_eq!(o.status.code(), Some(2));
    let o = claw(&sb, &["coreclaw", "run", AMAZON, "--set", "novalue"]).await;
    assert_eq!(o.status.code(), Some(2));
    let o = claw(&sb, &["coreclaw", "nosuchcommand"]).await;
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_missing_key_names_both_ways_out() {
    let o = Command::cargo_bin("claw")
        .unwrap()
        .env_remove("CORECLAW_API_KEY")
        .args(["coreclaw", "account"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("CORECLAW_API_KEY is not set") && err.contains("--sandbox"),
        "{err}"
    );
}

/// `claw sandbox` takes every vendor's own flags from the sandbox, and refuses a bad one as a
/// usage error naming it.
#[test]
fn claw_sandbox_takes_every_vendors_flags() {
    let help = Command::cargo_bin("claw")
        .unwrap()
        .args(["sandbox", "--help"])
        .output()
        .unwrap();
    assert!(help.status.success(), "{}", stderr(&help));
    let text = stdout(&help);
    for flag in [
        "--port",
        "--run-seconds",
        "--devops-tier",
        "--fulfillment-token-seconds",
        "--botswin-time-scale",
    ] {
        assert!(text.contains(flag), "{flag} in {text}");
    }
    let refused = Command::cargo_bin("claw")
        .unwrap()
        .args(["sandbox", "--port", "0", "--botswin-time-scale", "0"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("--botswin-time-scale"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn the_readme_command_with_the_embedded_sandbox() {
    let dir = std::env::temp_dir().join(format!("claw-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let o = Command::cargo_bin("claw")
        .unwrap()
        .env_remove("CORECLAW_API_KEY")
        .current_dir(&dir)
        .args([
            "--sandbox",
            "coreclaw",
            "run",
            AMAZON,
            "--set",
            r#"urls=[{"url":"https://www.amazon.com/dp/B0CHHSFMRL"}]"#,
            "--wait",
            "--out",
            "results.csv",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("embedded sandbox"),
        "the banner says so: {}",
        stderr(&o)
    );
    let csv = std::fs::read_to_string(dir.join("results.csv")).unwrap();
    assert_eq!(csv.lines().count(), 2);
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_while_waiting_aborts_and_exits_130() {
    let sb = sandbox(60_000).await;
    let bin = assert_cmd::cargo::cargo_bin("claw");
    let child = Std::new(bin)
        .env("CORECLAW_API_KEY", "sandbox-key")
        .args([
            "--base-url",
            &sb.base_url(Vendor::Coreclaw),
            "coreclaw",
            "run",
            LOAD,
            "--set",
            "count=10",
            "--wait",
            "--abort-on-interrupt",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let killed = Std::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let o = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("started") && err.contains("aborting"), "{err}");
    let slug = err.split_whitespace().nth(1).unwrap().to_string();
    let status = json(&claw(&sb, &["--json", "coreclaw", "status", &slug]).await);
    // Aborting (5) for up to 2 s, then failed (4) saying it was aborted.
    assert!(
        status["status"] == 5
            || (status["status"] == 4 && status["err_msg"] == "Run aborted by the user."),
        "{status}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bazhuayu_groups_tasks_data_export_clear() {
    let sb = sandbox(200).await;
    const TASK: &str = "337fd7d7-aded-4081-9104-2b551161ccc8";
    let o = claw_bzy(&sb, &["bazhuayu", "groups"]).await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("示例组1"));
    let tasks = json(&claw_bzy(&sb, &["--json", "bazhuayu", "tasks", "1"]).await);
    assert_eq!(tasks[0]["taskId"], TASK);

    let dir = std::env::temp_dir().join(format!("claw-bzy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("data.csv");
    let o = claw_bzy(
        &sb,
        &["bazhuayu", "data", TASK, "--out", csv.to_str().unwrap()],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), 2_501, "header and every row");
    assert!(
        text.starts_with("词条,简介,序号\n"),
        "the service's field order, not sorted: {}",
        text.lines().next().unwrap_or_default()
    );
    assert!(text.lines().nth(2).unwrap().contains("八爪鱼"));

    let jsonl = dir.join("export.jsonl");
    let o = claw_bzy(
        &sb,
        &[
            "bazhuayu",
            "export",
            TASK,
            "--out",
            jsonl.to_str().unwrap(),
            "--batch-size",
            "700",
        ],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("exported 2500 new rows in 4 batches"),
        "{}",
        stdout(&o)
    );
    let again = claw_bzy(
        &sb,
        &["bazhuayu", "export", TASK, "--out", jsonl.to_str().unwrap()],
    )
    .await;
    assert!(
        stdout(&again).contains("exported 0 new rows"),
        "{}",
        stdout(&again)
    );
    assert_eq!(
        std::fs::read_to_string(&jsonl).unwrap().lines().count(),
        2_500
    );

    let o = claw_bzy(&sb, &["bazhuayu", "clear", TASK]).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let o = claw_bzy(
        &sb,
        &[
            "bazhuayu",
            "data",
            TASK,
            "--out",
            dir.join("empty.jsonl").to_str().unwrap(),
        ],
    )
    .await;
    assert!(stdout(&o).contains("wrote 0 rows"), "{}", stdout(&o));

    // bad input
    let o = claw_bzy(
        &sb,
        &[
            "bazhuayu",
            "data",
            "no-such-task",
            "--out",
            dir.join("x.jsonl").to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no task no-such-task") && stderr(&o).contains("hint:"),
        "{}",
        stderr(&o)
    );
    let o = claw_bzy(&sb, &["bazhuayu", "export", TASK, "--out", "x.csv"]).await;
    assert_eq!(o.status.code(), Some(2));
    let o = Command::cargo_bin("claw")
        .unwrap()
        .env_remove("BAZHUAYU_USERNAME")
        .args(["bazhuayu", "groups"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--sandbox"), "{}", stderr(&o));
    let o = tokio::task::spawn_blocking(|| {
        Command::cargo_bin("claw")
            .unwrap()
            .args(["--sandbox", "bazhuayu", "groups"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        o.status.success() && stdout(&o).contains("示例组2"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// `claw` against the sandbox's OpenClaw DevOps.
async fn claw_devops(sb: &Sandbox, args: &[&str]) -> Output {
    claw_at(sb, Vendor::OpenclawDevops, args).await
}

#[tokio::test(flavor = "multi_thread")]
async fn devops_users_jobs_webhooks_and_bad_input() {
    let sb = Sandbox::builder()
        .configure(|c: &mut clawkit_sandbox::devops::Config| {
            c.job_time = Duration::from_millis(400)
        })
        .start()
        .await
        .unwrap();
    let o = claw_devops(
        &sb,
        &[
            "--json",
            "devops",
            "users",
            "list",
            "--role",
            "developer",
            "--limit",
            "3",
        ],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let users = json(&o);
    assert_eq!(users.as_array().unwrap().len(), 3);
    assert!(
        users
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["role"] == "developer")
    );

    let o = claw_devops(
        &sb,
        &[
            "--json",
            "devops",
            "pipeline",
            "trigger",
            "pipe_ecom_main",
            "--wait",
        ],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json(&o)["status"], "success");

    let o = claw_devops(
        &sb,
        &[
            "--json",
            "devops",
            "tests",
            "run",
            "suite_ecom_login_e2e",
            "--wait",
        ],
    )
    .await;
    assert_eq!(
        o.status.code(),
        Some(3),
        "a failed run exits 3: {}",
        stderr(&o)
    );
    assert_eq!(json(&o)["status"], "failed");

    let o = claw_devops(
        &sb,
        &[
            "--json",
            "devops",
            "deploy",
            "--app",
            "app_ecom_backend",
            "--env",
            "prod",
            "--version",
            "2.0.0",
            "--approver",
            "usr_abc123def456",
            "--wait",
        ],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let deployment = json(&o);
    assert_eq!(deployment["status"], "succeeded");
    let id = deployment["id"].as_str().unwrap().to_string();
    let o = claw_devops(
        &sb,
        &[
            "--json",
            "devops",
            "rollback",
            &id,
            "--reason",
            "错误率升高",
            "--wait",
        ],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json(&o)["rollbackOf"], id.as_str());

    let o = claw_devops(
        &sb,
        &[
            "--json",
            "devops",
            "webhooks",
            "create",
            "--url",
            "http://127.0.0.1:9/x",
            "--event",
            "build.completed",
            "--secret",
            "s3cret",
        ],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stdout(&o).contains("s3cret"), "the secret is not echoed");
    let o = claw_devops(&sb, &["devops", "webhooks", "list"]).await;
    assert!(
        stdout(&o).contains("http://127.0.0.1:9/x"),
        "{}",
        stdout(&o)
    );

    // Bad input: prod without approvers is the service's 422 naming the field; a bad enum value
    // and a missing file are usage errors before any request.
    let o = claw_devops(
        &sb,
        &[
            "devops",
            "deploy",
            "--app",
            "a",
            "--env",
            "prod",
            "--version",
            "1",
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("approvals"), "{}", stderr(&o));
    let o = claw_devops(
        &sb,
        &["devops", "tasks", "move", "task_ecom001", "finished"],
    )
    .await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("in_progress"), "{}", stderr(&o));
    let o = claw_devops(
        &sb,
        &[
            "devops",
            "agent",
            "activate",
            "product",
            "--task",
            "task_ecom001",
            "--input",
            "/nonexistent.json",
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("/nonexistent.json"), "{}", stderr(&o));
    let o = claw_devops(&sb, &["devops", "users", "get", "usr_nope"]).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("NOT_FOUND") && stderr(&o).contains("requestId"),
        "{}",
        stderr(&o)
    );
}

/// `claw` against the sandbox's OpenClaw fulfillment.
async fn claw_fulfillment(sb: &Sandbox, args: &[&str]) -> Output {
    claw_at(sb, Vendor::OpenclawFulfillment, args).await
}

#[tokio::test(flavor = "multi_thread")]
async fn fulfillment_orders_stock_labels_listen_and_bad_input() {
    let sb = sandbox(100).await;
    let o = claw_fulfillment(
        &sb,
        &[
            "--json",
            "fulfillment",
            "orders",
            "list",
            "--updated-from",
            "2024-01-01T00:00:00+08:00",
            "--limit",
            "5",
        ],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json(&o).as_array().unwrap().len(), 5);

    // reserved characters in an order number, as typed
    let o = claw_fulfillment(
        &sb,
        &["--json", "fulfillment", "orders", "get", "A&B 1013/2"],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json(&o)["order_no"], "A&B 1013/2");

    // a time without an offset is refused before anything is sent, naming the flag
    let o = claw_fulfillment(
        &sb,
        &[
            "fulfillment",
            "orders",
            "list",
            "--updated-from",
            "2024-01-01 00:00:00",
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--updated-from"), "{}", stderr(&o));

    // an oversell: a typed API error and exit 1
    let o = claw_fulfillment(
        &sb,
        &[
            "fulfillment",
            "inventory",
            "reserve",
            "--warehouse",
            "CN-SZ-01",
            "--line",
            "LMT-NFC-TAG-25=999999",
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("insufficient_ats"), "{}", stderr(&o));

    // a label, downloaded as a PDF
    let dir = std::env::temp_dir().join(format!("claw-label-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pdf = dir.join("label.pdf");
    let o = claw_fulfillment(
        &sb,
        &[
            "--json",
            "fulfillment",
            "labels",
            "create",
            "#1001",
            "--carrier",
            "4px",
            "--service",
            "4PX-EXPRESS",
            "--weight-g",
            "320",
            "--out",
            pdf.to_str().unwrap(),
        ],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let tracking = json(&o)["tracking_number"].as_str().unwrap().to_string();
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    let o = claw_fulfillment(&sb, &["--json", "fulfillment", "tracking", &tracking]).await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json(&o)["tracking_number"], tracking.as_str());
    std::fs::remove_dir_all(&dir).ok();

    // listen: a signed delivery sent three times is printed once, then the next one
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // Its delivery claims in a state file of its own: ids handled in an earlier run stay done.
    let state = std::env::temp_dir().join(format!("clawkit-listen-{}", std::process::id()));
    std::fs::remove_dir_all(&state).ok();
    let listener = Std::new(env!("CARGO_BIN_EXE_claw"))
        .env("XDG_CACHE_HOME", &state)
        .env_remove("CLAWKIT_STATE")
        .args([
            "--json",
            "fulfillment",
            "listen",
            "--port",
            &port.to_string(),
            "--secret",
            "cs_old_secret",
            "--secret",
            "cs_sandbox_5f2b9c7e4d1a",
            "--count",
            "2",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/hooks");
    let deliver = |id: &'static str| {
        let body = format!(
            r#"{{"event_id":"{id}","event_type":"inventory.changed","occurred_at":"2024-06-15T08:30:05+08:00","data":{{"reason":"reservation","previous_ats":5,"inventory":{{"sku":"A","warehouse_code":"W","on_hand":5,"reserved":1,"safety_stock":0,"in_transit":0,"ats":4,"updated_at":"2024-06-15T08:30:05+08:00"}}}}}}"#
        );
        let headers = clawkit::fulfillment::webhook::signed_headers(
            "cs_sandbox_5f2b9c7e4d1a",
            std::time::SystemTime::now(),
            id,
            "inventory.changed",
            body.as_bytes(),
        );
        http.post(&url).headers(headers).body(body).send()
    };
    let mut acknowledged = 0;
    for _ in 0..100 {
        match deliver("evt_cli_1").await {
            Ok(answer) if answer.status() == 200 => {
                acknowledged += 1;
                if acknowledged == 3 {
                    break;
                }
            }
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    assert_eq!(acknowledged, 3);
    assert_eq!(deliver("evt_cli_2").await.unwrap().status(), 200);
    let out = tokio::task::spawn_blocking(move || listener.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let ids: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["event_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids, ["evt_cli_1", "evt_cli_2"], "{text}");
    std::fs::remove_dir_all(&state).ok();
}

/// `claw` against the sandbox's bots.win.
async fn claw_botswin(sb: &Sandbox, args: &[&str]) -> Output {
    claw_at(sb, Vendor::Botswin, args).await
}

#[tokio::test(flavor = "multi_thread")]
async fn botswin_quota_history_user_data_and_bad_input() {
    let sb = Sandbox::builder()
        .configure(|c: &mut clawkit_sandbox::botswin::Config| c.quota = 100.0)
        .start()
        .await
        .unwrap();
    let o = claw_botswin(&sb, &["botswin", "quota", "--minutes", "30"]).await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("30 minute(s) cost"), "{}", stdout(&o));
    let o = claw_botswin(&sb, &["--json", "botswin", "quota"]).await;
    assert_eq!(json(&o)["quota"]["remainingQuota"].as_f64(), Some(100.0));

    // The preflight: a job the quota cannot pay fails before it starts, with a way out.
    let o = claw_botswin(&sb, &["botswin", "quota", "--minutes", "101"]).await;
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("not enough bots.win quota") && err.contains("101"),
        "{err}"
    );
    assert!(err.contains("hint: top up"), "{err}");

    let o = claw_botswin(&sb, &["--json", "botswin", "usage"]).await;
    assert_eq!(json(&o)["totalSessions"], 142);
    let o = claw_botswin(&sb, &["--json", "botswin", "history"]).await;
    let all = json(&o);
    assert_eq!(all.as_array().unwrap().len(), 142);
    assert_eq!(all[0]["disconnectReason"], "client_closed");
    let o = claw_botswin(
        &sb,
        &[
            "--json",
            "botswin",
            "history",
            "--since",
            "2025-01-15T10:30:00Z",
            "--until",
            "2025-01-15T10:30:00Z",
        ],
    )
    .await;
    assert_eq!(json(&o).as_array().unwrap().len(), 1, "{}", stdout(&o));
    let o = claw_botswin(&sb, &["botswin", "history", "--since", "7d"]).await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("ID"), "{}", stdout(&o));

    let o = claw_botswin(&sb, &["--json", "botswin", "user-data", "create"]).await;
    let id = json(&o)["id"].as_str().unwrap().to_string();
    let o = claw_botswin(&sb, &["botswin", "user-data", "list"]).await;
    assert!(stdout(&o).contains(&id) && stdout(&o).contains("udd_abc123xyz789defg"));
    assert!(
        stderr(&o).contains("2 of 5 containers used"),
        "{}",
        stderr(&o)
    );
    let o = claw_botswin(&sb, &["botswin", "user-data", "rm", &id]).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let o = claw_botswin(&sb, &["botswin", "user-data", "rm", &id]).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("not_found") && stderr(&o).contains("claw botswin user-data list"),
        "{}",
        stderr(&o)
    );

    // Bad input is a usage error naming what was expected.
    for (args, expected) in [
        (
            &["botswin", "history", "--since", "yesterday"][..],
            "expected a period",
        ),
        (
            &["botswin", "history", "--until", "2025-01-15"][..],
            "RFC 3339",
        ),
        (
            &["botswin", "session", "--idle", "5x"][..],
            "expected a period",
        ),
        (
            &["botswin", "session", "--param", "novalue"][..],
            "NAME=VALUE",
        ),
    ] {
        let o = claw_botswin(&sb, args).await;
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(expected), "{args:?}: {}", stderr(&o));
    }
    let o = claw_botswin(
        &sb,
        &[
            "botswin",
            "history",
            "--since",
            "2025-02-01T00:00:00Z",
            "--until",
            "2025-01-01T00:00:00Z",
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("since: expected an instant before until"),
        "{}",
        stderr(&o)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn botswin_session_prints_its_url_and_ends_cleanly_on_ctrl_c() {
    use futures::{SinkExt, StreamExt};
    use std::io::BufRead;
    let sb = Sandbox::builder().start().await.unwrap();
    let bin = assert_cmd::cargo::cargo_bin("claw");
    let mut child = Std::new(bin)
        .env("BOTSWIN_TOKEN", "sandbox-token")
        .args([
            "--base-url",
            &sb.base_url(Vendor::Botswin),
            "botswin",
            "session",
            "--user-data",
            "udd_abc123xyz789defg",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let url = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
        line.trim().to_string()
    })
    .await
    .unwrap();
    assert!(url.starts_with("ws://127.0.0.1:"), "{url:?}");
    let (mut cdp, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    cdp.send(tokio_tungstenite::tungstenite::Message::text(
        r#"{"id":7,"method":"Browser.getVersion"}"#,
    ))
    .await
    .unwrap();
    let answer = cdp.next().await.unwrap().unwrap();
    assert!(answer.to_text().unwrap().contains(r#""id":7"#));
    // The container is locked while the session runs.
    let o = claw_botswin(&sb, &["--json", "botswin", "user-data", "list"]).await;
    assert_eq!(json(&o)["items"][0]["isLocked"], true);

    let killed = Std::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let o = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("session ended: client_closed"),
        "{}",
        stderr(&o)
    );
    let o = claw_botswin(&sb, &["--json", "botswin", "history", "--since", "1h"]).await;
    let sessions = json(&o);
    let last = sessions.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["disconnectReason"], "client_closed", "{sessions}");
    assert_eq!(last["durationMinutes"], 1);
    let o = claw_botswin(&sb, &["--json", "botswin", "user-data", "list"]).await;
    assert_eq!(json(&o)["items"][0]["isLocked"], false);
}

/// `--out` to object storage: CoreClaw results as JSON Lines and CSV, and Bazhuayu's export as
/// one part per batch under a prefix, at `prefix` (`file://` or `s3://`).
async fn object_destinations(prefix: &str) {
    let sb = sandbox(20).await;
    let objects = clawkit::objects::Objects::open(prefix).unwrap();
    for name in ["items.jsonl", "items.csv"] {
        let url = format!("{prefix}{name}");
        let o = claw(
            &sb,
            &[
                "coreclaw",
                "run",
                LOAD,
                "--set",
                "count=25000",
                "--out",
                &url,
            ],
        )
        .await;
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(
            stdout(&o).contains(&format!("wrote 25000 items to {url}")),
            "{}",
            stdout(&o)
        );
        let bytes = objects.get(name).await.unwrap();
        let lines: Vec<&[u8]> = bytes
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        let header = name.ends_with(".csv") as usize;
        assert_eq!(lines.len(), 25_000 + header, "{name}");
    }
    let parts = format!("{prefix}bazhuayu/");
    let o = claw_bzy(
        &sb,
        &[
            "bazhuayu",
            "export",
            "337fd7d7-aded-4081-9104-2b551161ccc8",
            "--out",
            &parts,
            "--batch-size",
            "1000",
        ],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let names = clawkit::objects::Objects::open(&parts)
        .unwrap()
        .names()
        .await
        .unwrap();
    assert_eq!(names.len(), 3, "2,500 rows in batches of 1000: {names:?}");
    // A bad destination is a usage-level error naming the expected form, before any request.
    let o = claw(
        &sb,
        &["coreclaw", "results", "RUN", "--out", "s3://only-a-bucket"],
    )
    .await;
    assert!(!o.status.success());
    assert!(stderr(&o).contains("s3://BUCKET/KEY"), "{}", stderr(&o));
    assert_eq!(o.status.code(), Some(2), "a usage error");
}

#[tokio::test]
async fn out_to_file_urls() {
    let dir = std::env::temp_dir().join(format!("claw-objects-{}", std::process::id()));
    object_destinations(&format!("file://{}/", dir.display())).await;
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
#[ignore = "needs an S3-compatible server: contract/s3.sh cargo test -p clawkit-cli --test cli -- --ignored"]
async fn out_to_s3() {
    let bucket =
        std::env::var("CLAWKIT_TEST_BUCKET").expect("CLAWKIT_TEST_BUCKET (contract/s3.sh)");
    object_destinations(&format!("s3://{bucket}/cli-test-{}/", std::process::id())).await;
    // A bucket that does not exist is found before the paid run starts: no run is made.
    let sb = sandbox(20).await;
    let o = claw(
        &sb,
        &[
            "coreclaw",
            "run",
            LOAD,
            "--set",
            "count=10",
            "--out",
            "s3://no-such-bucket-clawkit/x.csv",
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        !stderr(&o).contains("started"),
        "no run started: {}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("no-such-bucket-clawkit"),
        "{}",
        stderr(&o)
    );
}
