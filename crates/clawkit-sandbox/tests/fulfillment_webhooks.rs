//! OpenClaw fulfillment end to end, over HTTP, with a webhook receiver: signed and retried
//! deliveries, disabling, labels and parcels moving, returns received and refunded.

mod fulfillment_client;
mod support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use clawkit_sandbox::Vendor;
use clawkit_sandbox::fulfillment::signing::webhook_signature;
use clawkit_sandbox::fulfillment::{CLIENT_SECRET, DISABLE_AFTER};
use fulfillment_client::{Client, Coded, order, run, sandbox};
use serde_json::{Value, json};
use support::{Inbox, eventually};

/// A receiver that answers 500 to the first `failures` attempts and 200 with the spec's
/// `WebhookAck` after.
async fn receiver(failures: usize) -> Inbox {
    Inbox::answering(Arc::new(move |n| {
        if n < failures {
            (500, "no")
        } else {
            (200, r#"{"received":true}"#)
        }
    }))
    .await
}

#[tokio::test]
async fn webhooks_are_signed_and_retried_with_the_same_request_id() {
    let sb = sandbox(|b| {
        b.configure(|c: &mut clawkit_sandbox::fulfillment::Config| {
            c.webhook_backoff = Duration::from_millis(50)
        })
    })
    .await;
    let api = Client::of(&sb).await;
    let inbox = receiver(2).await;
    let url = inbox.url.clone();
    let bad = api
        .post(
            "/v2.1/webhooks",
            json!({"url": "http://erp.example.org/hook", "events": ["order.created"]}),
        )
        .await;
    assert_eq!(
        (bad.status, bad.body["details"][0]["field"].as_str()),
        (400, Some("url"))
    );
    let hook = api
        .post(
            "/v2.1/webhooks",
            json!({"url": url, "events": ["order.created"]}),
        )
        .await;
    hook.expect(201);
    assert_eq!(hook.body["status"], "active");
    let dup = api
        .post(
            "/v2.1/webhooks",
            json!({"url": url, "events": ["order.created", "return.received"]}),
        )
        .await;
    assert_eq!(dup.status, 409);
    let created = api
        .post("/v2.1/orders", order("HOOK-1", "CBL-USBC-1M-BK", 1, "US"))
        .await;
    assert_eq!(created.status, 201);
    let got = inbox.wait_for(3).await;
    let ids: Vec<&str> = got
        .iter()
        .map(|r| r.header("x-openclaw-request-id").unwrap())
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0] && id.starts_with("evt_")),
        "{ids:?}"
    );
    for received in &got {
        let event = received.json();
        assert_eq!(event["event_id"], ids[0]);
        assert_eq!(event["event_type"], "order.created");
        assert_eq!(event["data"]["order_no"], "HOOK-1");
        assert_eq!(received.header("x-openclaw-event"), Some("order.created"));
        let at = received.header("x-openclaw-timestamp").unwrap();
        assert_eq!(
            received.header("x-openclaw-signature").unwrap(),
            webhook_signature(CLIENT_SECRET, at, ids[0], &received.body)
        );
    }
    let stats = &sb
        .vendor::<clawkit_sandbox::fulfillment::Fulfillment>()
        .stats;
    eventually("a delivered event", || async {
        (stats.webhooks.webhook_delivered.load(Ordering::Relaxed) >= 1).then_some(())
    })
    .await;
    assert_eq!(stats.webhooks.webhook_attempts.load(Ordering::Relaxed), 3);
    assert_eq!(stats.webhooks.webhook_retries.load(Ordering::Relaxed), 2);
    let listed = api.get("/v2.1/webhooks").await;
    assert_eq!(
        listed.body["items"][0]["webhook_id"],
        hook.body["webhook_id"]
    );
    let id = hook.body["webhook_id"].as_str().unwrap();
    assert_eq!(
        api.send("DELETE", &format!("/v2.1/webhooks/{id}"), None)
            .await
            .status,
        204
    );
    assert_eq!(
        api.send("DELETE", &format!("/v2.1/webhooks/{id}"), None)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn a_receiver_that_never_acknowledges_gets_four_attempts_and_is_disabled_after_five_events() {
    let sb = sandbox(|b| {
        b.configure(|c: &mut clawkit_sandbox::fulfillment::Config| {
            c.webhook_backoff = Duration::from_millis(20)
        })
    })
    .await;
    let api = Client::of(&sb).await;
    let inbox = receiver(usize::MAX).await;
    let url = inbox.url.clone();
    let hook = api
        .post(
            "/v2.1/webhooks",
            json!({"url": url, "events": ["inventory.changed"]}),
        )
        .await;
    assert_eq!(hook.status, 201);
    // One inventory.changed event: an on-hand adjustment of LMT-NFC-TAG-25.
    let adjust = || async {
        let adjusted = api
            .post(
                "/v2.1/inventory/adjustments",
                json!({"sku": "LMT-NFC-TAG-25", "warehouse_code": "CN-SZ-01", "adjustment_type": "on_hand_delta", "quantity": 1, "reason": "found"}),
            )
            .await;
        assert_eq!(adjusted.status, 201);
    };
    adjust().await;
    let got = inbox.wait_for(4).await;
    let event = got[0].json();
    assert_eq!(event["data"]["reason"], "adjustment");
    assert_eq!(event["data"]["previous_ats"], 5);
    assert_eq!(event["data"]["inventory"]["ats"], 6);
    let stats = &sb
        .vendor::<clawkit_sandbox::fulfillment::Fulfillment>()
        .stats;
    eventually("a failed event", || async {
        (stats.webhooks.webhook_failures.load(Ordering::Relaxed) >= 1).then_some(())
    })
    .await;
    assert_eq!(inbox.received().len(), 4);
    // One failed event leaves the subscription active: the next events are still sent.
    let listed = api.get("/v2.1/webhooks").await;
    assert_eq!(listed.body["items"][0]["status"], "active");
    for n in 2..=DISABLE_AFTER {
        adjust().await;
        eventually(&format!("{n} failed events"), || async {
            (stats.webhooks.webhook_failures.load(Ordering::Relaxed) >= u64::from(n)).then_some(())
        })
        .await;
        let status = if n < DISABLE_AFTER {
            "active"
        } else {
            "disabled"
        };
        let listed = api.get("/v2.1/webhooks").await;
        assert_eq!(
            listed.body["items"][0]["status"], status,
            "after {n} failed events"
        );
    }
    assert_eq!(inbox.received().len(), 4 * 5);
    // Disabled: a sixth event is not sent.
    adjust().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(inbox.received().len(), 4 * 5);
}

#[tokio::test]
async fn labels_download_and_parcels_move_to_delivery_or_failure() {
    let sb = sandbox(|b| {
        b.configure(|c: &mut clawkit_sandbox::fulfillment::Config| {
            c.logistics_step = Duration::from_millis(40)
        })
        .configure(|c: &mut clawkit_sandbox::fulfillment::Config| c.order_qps = 1000)
    })
    .await;
    let api = Client::of(&sb).await;
    let inbox = receiver(0).await;
    let url = inbox.url.clone();
    let hook = api
        .post(
            "/v2.1/webhooks",
            json!({"url": url, "events": ["logistics.updated"]}),
        )
        .await;
    assert_eq!(hook.status, 201);
    let mut body = order("LBL-1", "PHC-20W-USBC-BK", 1, "US");
    body["warehouse_code"] = json!("CN-SZ-01");
    assert_eq!(
        api.post("/v2.1/orders", body).await.body["status"],
        "allocated"
    );
    let request = json!({"carrier": "4px", "service_code": "4PX-GLOBAL-STANDARD", "parcel": {"weight_g": 180}});
    let label = api.post("/v2.1/orders/LBL-1/labels", request.clone()).await;
    label.expect(201);
    let tracking = label.body["tracking_number"].as_str().unwrap().to_string();
    assert!(tracking.starts_with("4PX"));
    let link = label.body["label_url"].as_str().unwrap();
    assert!(link.starts_with(&sb.base_url(Vendor::OpenclawFulfillment)));
    let pdf = run(reqwest::Client::new().get(link)).await;
    assert_eq!(pdf.status, 200);
    assert_eq!(pdf.header("content-type"), Some("application/pdf"));
    assert!(pdf.bytes.starts_with(b"%PDF-"));
    assert!(String::from_utf8_lossy(&pdf.bytes).contains(&tracking));
    let forged = run(reqwest::Client::new().get(link.replace("token=", "token=0"))).await;
    assert_eq!(forged.status, 403);
    let again = api.post("/v2.1/orders/LBL-1/labels", request).await;
    again.expect_code(409, "invalid_order_state");

    let done = api
        .wait_for(&format!("/v2.1/tracking/{tracking}"), |t| {
            t["status"] == "delivered"
        })
        .await;
    let statuses: Vec<&str> = done["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "info_received",
            "picked_up",
            "in_transit",
            "customs_clearance",
            "in_transit",
            "out_for_delivery",
            "delivered"
        ]
    );
    assert_eq!(done["customs"]["status"], "cleared");
    let delivered = api.get("/v2.1/orders/LBL-1").await;
    assert_eq!(delivered.body["status"], "delivered");
    assert!(delivered.body["shipped_at"].is_string() && delivered.body["delivered_at"].is_string());
    let by_order = api.get("/v2.1/orders/LBL-1/tracking").await;
    assert_eq!(by_order.body["tracking_number"], tracking);
    let got = inbox.wait_for(7).await;
    let last = got[6].json();
    assert_eq!(last["data"]["events"].as_array().unwrap().len(), 1);

    // The last mile fails as the order number says; a ZPL label is text.
    let mut body = order("LBL-FAIL-REFUSED", "PHC-20W-USBC-BK", 1, "US");
    body["warehouse_code"] = json!("CN-SZ-01");
    assert_eq!(api.post("/v2.1/orders", body).await.status, 201);
    let zpl = api
        .post(
            "/v2.1/orders/LBL-FAIL-REFUSED/labels",
            json!({"carrier": "yanwen", "service_code": "YW-EXPRESS", "label_format": "zpl", "parcel": {"weight_g": 90}}),
        )
        .await;
    let file = run(reqwest::Client::new().get(zpl.body["label_url"].as_str().unwrap())).await;
    assert!(file.bytes.starts_with(b"^XA"));
    let failed = api
        .wait_for("/v2.1/orders/LBL-FAIL-REFUSED/tracking", |t| {
            t["status"] == "delivery_failed"
        })
        .await;
    assert_eq!(failed["delivery_failure"]["reason"], "refused");
    assert_eq!(failed["delivery_failure"]["attempts"], 1);
    assert_eq!(
        api.get("/v2.1/orders/LBL-FAIL-REFUSED").await.body["status"],
        "exception"
    );
    // Before a label there is no tracking; seeded parcels are there.
    assert_eq!(api.get("/v2.1/orders/%231001/tracking").await.status, 404);
    let held = api.get("/v2.1/orders/CUSTOMS-HOLD-1009/tracking").await;
    assert_eq!(held.body["customs"]["status"], "held");
}

#[tokio::test]
async fn returns_are_received_restocked_and_refunded() {
    let sb = sandbox(|b| {
        b.configure(|c: &mut clawkit_sandbox::fulfillment::Config| {
            c.logistics_step = Duration::from_millis(40)
        })
    })
    .await;
    let api = Client::of(&sb).await;
    let inbox = receiver(0).await;
    let url = inbox.url.clone();
    api.post(
        "/v2.1/webhooks",
        json!({"url": url, "events": ["return.received"]}),
    )
    .await;
    let not_shipped = api
        .post("/v2.1/returns", json!({"order_no": "#1001", "reason": "defective", "lines": [{"sku": "PHC-20W-USBC-WH", "quantity": 1}]}))
        .await;
    not_shipped.expect_code(409, "invalid_order_state");
    let unknown = api
        .post(
            "/v2.1/returns",
            json!({"order_no": "#nope", "reason": "other", "lines": [{"sku": "X", "quantity": 1}]}),
        )
        .await;
    assert_eq!(unknown.status, 404);
    let too_many = api
        .post("/v2.1/returns", json!({"order_no": "#1004", "reason": "no_longer_needed", "lines": [{"sku": "CBL-USBC-1M-BK", "quantity": 2}]}))
        .await;
    assert_eq!(too_many.status, 409);
    let on_hand = api
        .get("/v2.1/inventory/skus/CBL-USBC-1M-BK?warehouse_code=CN-SZ-01")
        .await
        .body["on_hand"]
        .as_i64()
        .unwrap();
    let created = api
        .post("/v2.1/returns", json!({"order_no": "#1004", "reason": "no_longer_needed", "lines": [{"sku": "CBL-USBC-1M-BK", "quantity": 1}]}))
        .await;
    created.expect(201);
    assert_eq!(created.body["status"], "requested");
    assert_eq!(created.body["received_at"], Value::Null);
    let rma = created.body["rma_no"].as_str().unwrap();
    let refunded = api
        .wait_for(&format!("/v2.1/returns/{rma}"), |r| {
            r["status"] == "refunded"
        })
        .await;
    assert_eq!(refunded["refund_amount"], "15.00");
    assert!(refunded["received_at"].is_string());
    let back = api
        .get("/v2.1/inventory/skus/CBL-USBC-1M-BK?warehouse_code=CN-SZ-01")
        .await
        .body["on_hand"]
        .as_i64()
        .unwrap();
    assert_eq!(back, on_hand + 1);
    let got = inbox.wait_for(1).await;
    let event = got[0].json();
    assert_eq!(event["event_type"], "return.received");
    assert_eq!(event["data"]["status"], "received");
    let parcel = api
        .get(&format!(
            "/v2.1/tracking/{}",
            refunded["return_tracking_number"].as_str().unwrap()
        ))
        .await;
    assert_eq!(parcel.body["status"], "delivered");
    let listed = api
        .get("/v2.1/returns?order_no=%231004&status=refunded")
        .await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
}
