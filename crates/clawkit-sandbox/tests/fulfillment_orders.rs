//! OpenClaw fulfillment end to end, over HTTP: order numbers with reserved characters, cursor
//! paging while orders change, and stock held all or nothing.

mod fulfillment_client;
mod support;

use std::time::Duration;

use clawkit_sandbox::kit::clock::unix_millis;
use fulfillment_client::{Client, Coded, ats, order, rfc3339, sandbox};
use serde_json::{Value, json};

#[tokio::test]
async fn order_numbers_with_reserved_characters_work_percent_encoded() {
    let sb =
        sandbox(|b| b.configure(|c: &mut clawkit_sandbox::fulfillment::Config| c.order_qps = 1000))
            .await;
    let api = Client::of(&sb).await;
    for (path, no) in [
        ("%231001", "#1001"),
        ("%231001%26A", "#1001&A"),
        ("%231001&A", "#1001&A"),
        ("SO%2F2024%2F0615-7", "SO/2024/0615-7"),
        ("TM%20240615%200008", "TM 240615 0008"),
        ("A%26B%201013%2F2", "A&B 1013/2"),
    ] {
        let answer = api.get(&format!("/v2.1/orders/{path}")).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        assert_eq!(answer.body["order_no"], no);
    }
    let missing = api.get("/v2.1/orders/%23nope").await;
    missing.expect_code(404, "order_not_found");
    let created = api
        .post("/v2.1/orders", order("X/Y #Z&W", "CBL-USBC-1M-BK", 1, "US"))
        .await;
    created.expect(201);
    assert_eq!(created.body["status"], "allocated");
    let dup = api
        .post("/v2.1/orders", order("X/Y #Z&W", "CBL-USBC-1M-BK", 1, "US"))
        .await;
    dup.expect_code(409, "order_exists");
    let cancel = api
        .post(
            "/v2.1/orders/X%2FY%20%23Z%26W/cancel",
            json!({"reason": "out_of_stock"}),
        )
        .await;
    cancel.expect(200);
    assert_eq!(cancel.body["status"], "cancelled");
    let sku = api.get("/v2.1/inventory/skus/GDN-HOSE%2015M%2FGR").await;
    sku.expect(200);
    assert_eq!(sku.body["sku"], "GDN-HOSE 15M/GR");
}

#[tokio::test]
async fn cursor_paging_sees_every_order_once_while_orders_change() {
    let sb =
        sandbox(|b| b.configure(|c: &mut clawkit_sandbox::fulfillment::Config| c.order_qps = 1000))
            .await;
    let api = Client::of(&sb).await;
    let all = api.get("/v2.1/orders?limit=100").await;
    let total = all.body["items"].as_array().unwrap().len();
    assert!(total >= 40, "{total}");
    assert_eq!(all.body["has_more"], false);
    assert_eq!(all.body["next_cursor"], Value::Null);
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v2.1/orders?limit=7&cursor={c}"),
            None => "/v2.1/orders?limit=7".into(),
        };
        let page = api.get(&path).await;
        page.expect(200);
        for o in page.body["items"].as_array().unwrap() {
            seen.push(o["order_no"].as_str().unwrap().to_string());
        }
        pages += 1;
        if pages == 2 {
            // An order created mid-sync comes at the end, nothing is skipped.
            let new = api
                .post("/v2.1/orders", order("PAGE-NEW", "CBL-USBC-1M-BK", 1, "US"))
                .await;
            assert_eq!(new.status, 201);
        }
        if page.body["has_more"] == false {
            assert_eq!(page.body["next_cursor"], Value::Null);
            break;
        }
        cursor = page.body["next_cursor"].as_str().map(str::to_string);
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "duplicates in {seen:?}");
    assert_eq!(seen.len(), total + 1);
    assert_eq!(seen.last().map(String::as_str), Some("PAGE-NEW"));
    let shipped = api.get("/v2.1/orders?status=shipped&channel=lazada").await;
    let items = shipped.body["items"].as_array();
    assert!(items.is_some_and(|i| i.iter().all(|o| o["channel"] == "lazada")));
}

#[tokio::test]
async fn stock_is_held_all_or_nothing_and_released() {
    let sb = sandbox(|b| b).await;
    let api = Client::of(&sb).await;
    assert_eq!(ats(&api, "LMT-NFC-TAG-25", "CN-SZ-01").await, 5);
    let before = ats(&api, "PHC-20W-USBC-WH", "CN-SZ-01").await;
    let held = api
        .post(
            "/v2.1/inventory/reservations",
            json!({"warehouse_code": "CN-SZ-01", "lines": [{"sku": "LMT-NFC-TAG-25", "quantity": 3}]}),
        )
        .await;
    held.expect(201);
    assert_eq!(held.body["status"], "active");
    assert_eq!(held.body["order_no"], Value::Null);
    assert_eq!(ats(&api, "LMT-NFC-TAG-25", "CN-SZ-01").await, 2);
    let oversell = api
        .post(
            "/v2.1/inventory/reservations",
            json!({"warehouse_code": "CN-SZ-01", "lines": [
                {"sku": "PHC-20W-USBC-WH", "quantity": 1},
                {"sku": "LMT-NFC-TAG-25", "quantity": 3}
            ]}),
        )
        .await;
    oversell.expect_code(409, "insufficient_ats");
    assert_eq!(oversell.body["details"][0]["field"], "lines[1].quantity");
    assert_eq!(ats(&api, "PHC-20W-USBC-WH", "CN-SZ-01").await, before);
    // An order over the ATS is accepted and waits; releasing stock lets it be allocated.
    let waiting = api
        .post("/v2.1/orders", order("WAIT-1", "LMT-NFC-TAG-25", 4, "CN"))
        .await;
    assert_eq!(waiting.body["status"], "created");
    assert_eq!(waiting.body["warehouse_code"], Value::Null);
    let id = held.body["reservation_id"].as_str().unwrap();
    let released = api
        .post(
            &format!("/v2.1/inventory/reservations/{id}/release"),
            json!({}),
        )
        .await;
    released.expect(200);
    assert_eq!(released.body["status"], "released");
    let again = api
        .post(
            &format!("/v2.1/inventory/reservations/{id}/release"),
            json!({}),
        )
        .await;
    assert_eq!(again.status, 409);
    let allocated = api.get("/v2.1/orders/WAIT-1").await;
    assert_eq!(allocated.body["status"], "allocated");
    assert_eq!(ats(&api, "LMT-NFC-TAG-25", "CN-SZ-01").await, 1);
    let cancelled = api
        .post("/v2.1/orders/WAIT-1/cancel", json!({"reason": "other"}))
        .await;
    assert_eq!(cancelled.status, 200);
    assert_eq!(ats(&api, "LMT-NFC-TAG-25", "CN-SZ-01").await, 5);
    let twice = api
        .post("/v2.1/orders/WAIT-1/cancel", json!({"reason": "other"}))
        .await;
    twice.expect_code(409, "invalid_order_state");
    // Adjustments: ATS = max(0, on_hand - reserved - safety_stock).
    let safety = api
        .post(
            "/v2.1/inventory/adjustments",
            json!({"sku": "LMT-NFC-TAG-25", "warehouse_code": "CN-SZ-01", "adjustment_type": "safety_stock_set", "quantity": 7, "reason": "buffer"}),
        )
        .await;
    safety.expect(201);
    assert_eq!(safety.body["inventory"]["ats"], 0);
    let negative = api
        .post(
            "/v2.1/inventory/adjustments",
            json!({"sku": "LMT-NFC-TAG-25", "warehouse_code": "CN-SZ-01", "adjustment_type": "on_hand_delta", "quantity": -6, "reason": "lost"}),
        )
        .await;
    assert_eq!(negative.body["details"][0]["field"], "quantity");
    // A reservation lapses at its expires_at (sent in whole seconds, so at least 1 s ahead
    // however late in its second the request is made).
    let soon = rfc3339(unix_millis() + 2_000);
    let short = api
        .post(
            "/v2.1/inventory/reservations",
            json!({"warehouse_code": "CN-SZ-01", "lines": [{"sku": "CBL-USBC-1M-BK", "quantity": 10}], "expires_at": soon}),
        )
        .await;
    short.expect(201);
    let cables = ats(&api, "CBL-USBC-1M-BK", "CN-SZ-01").await;
    tokio::time::sleep(Duration::from_millis(3_100)).await;
    assert_eq!(ats(&api, "CBL-USBC-1M-BK", "CN-SZ-01").await, cables + 10);
}
