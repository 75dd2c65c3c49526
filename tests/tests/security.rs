//! Secrets never show in `{:?}` or `{}` of any client, builder, config or error type; and the
//! sandbox refuses every protected route of every served spec without, or with wrong, credentials.

use std::time::Duration;

use clawkit::RetryPolicy;
use clawkit::{bazhuayu, coreclaw};
use clawkit_sandbox::{Sandbox, Vendor};
use serde_json::Value;
use xtask::document::{self, VENDORS};

const SECRET: &str = "s3cr3t-VALUE-never-shown";

fn assert_hidden(what: &str, text: String) {
    assert!(!text.contains(SECRET), "{what} shows the secret: {text}");
}

#[tokio::test]
async fn no_secret_in_debug_or_display() {
    let sb = Sandbox::builder().start().await.unwrap();

    let cb = coreclaw::Client::builder()
        .api_key(SECRET)
        .base_url(sb.base_url(Vendor::Coreclaw))
        .retry(RetryPolicy::none());
    assert_hidden("coreclaw::ClientBuilder", format!("{cb:?}"));
    let cc = cb.build().unwrap();
    assert_hidden("coreclaw::Client", format!("{cc:?}"));
    let mut errors: Vec<(&str, String, String)> = Vec::new();
    let e = cc.account().await.unwrap_err(); // the sandbox refuses the key: 20001
    errors.push(("coreclaw 20001", format!("{e:?}"), format!("{e}")));
    let unreachable = coreclaw::Client::builder()
        .api_key(SECRET)
        .base_url("http://127.0.0.1:9")
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let e = unreachable.account().await.unwrap_err();
    errors.push(("coreclaw connection", format!("{e:?}"), format!("{e}")));
    let e = coreclaw::Client::builder()
        .api_key(format!("{SECRET}\n"))
        .build()
        .unwrap_err();
    errors.push(("coreclaw config", format!("{e:?}"), format!("{e}")));

    let bb = bazhuayu::Client::builder()
        .credentials("sandbox", SECRET)
        .base_url(sb.base_url(Vendor::Bazhuayu))
        .retry(RetryPolicy::none());
    assert_hidden("bazhuayu::ClientBuilder", format!("{bb:?}"));
    let bc = bb.build().unwrap();
    assert_hidden("bazhuayu::Client", format!("{bc:?}"));
    let e = bc.task_groups().await.unwrap_err(); // wrong password: invalid_grant
    errors.push(("bazhuayu invalid_grant", format!("{e:?}"), format!("{e}")));
    let top: clawkit::Error = e.into();
    errors.push(("clawkit::Error", format!("{top:?}"), format!("{top}")));
    for (what, debug, display) in errors {
        assert_hidden(what, debug);
        assert_hidden(what, display);
    }
    // The sandbox's own logs of the refused requests: its fault list and banner.
    assert_hidden("sandbox banner", sb.banner());
    tokio::time::sleep(Duration::from_millis(10)).await;
}

/// Every operation of a served spec that declares security is refused without credentials and
/// with wrong ones.
#[tokio::test]
async fn the_sandbox_refuses_every_protected_route() {
    let sb = Sandbox::builder().start().await.unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let http = reqwest::Client::new();
    let mut checked = 0;
    for vendor in VENDORS
        .iter()
        .filter(|v| ["coreclaw", "bazhuayu"].contains(&v.name))
    {
        let doc = document::load(&root, *vendor).unwrap().document;
        let base = format!("{}/{}", sb.url(), vendor.name);
        let global = doc
            .get("security")
            .and_then(Value::as_array)
            .is_some_and(|s| !s.is_empty());
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if !["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                    continue;
                }
                let protected = match op.get("security").and_then(Value::as_array) {
                    Some(list) => !list.is_empty(),
                    None => global,
                };
                if !protected {
                    continue;
                }
                let wrong: [(&str, &str); 2] = match vendor.name {
                    "coreclaw" => [("api-key", "wrong-key"), ("x-none", "")],
                    _ => [("authorization", "bearer wrong-token"), ("x-none", "")],
                };
                for (header, value) in wrong {
                    let url = format!("{base}{path}");
                    let mut request = http
                        .request(method.to_uppercase().parse().unwrap(), &url)
                        .json(&serde_json::json!({}));
                    if !value.is_empty() {
                        request = request.header(header, value);
                    }
                    let response = request.send().await.unwrap();
                    let status = response.status().as_u16();
                    let body: Value = response.json().await.unwrap_or(Value::Null);
                    assert_eq!(
                        status, 401,
                        "{} {method} {path} with {header}={value:?}: {body}",
                        vendor.name
                    );
                    match vendor.name {
                        "coreclaw" => assert_eq!(body["code"], 20001, "{path}"),
                        _ => assert_eq!(body["error"], "unauthorized", "{path}"),
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 2 * (11 + 9), "walked {checked} requests");
}
