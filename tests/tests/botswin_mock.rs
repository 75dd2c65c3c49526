//! The generated bots.win client against httpmock, with the seed's own examples
//! (seeds/botswin-cloud-api.zh.txt).

use botswin_api::Client;
use botswin_api::mock::MockServerExt;
use clawkit_tests::runtime_with_header;
use httpmock::{Method::DELETE, Method::GET, Method::POST, MockServer};
use serde_json::json;

fn authed(server: &MockServer) -> Client {
    Client::new(
        &server.base_url(),
        runtime_with_header("authorization", "Bearer your-token"),
    )
}

#[tokio::test]
async fn quota_before_a_job() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/quota")
                .header("authorization", "Bearer your-token");
            then.status(200).json_body(json!({
                "remainingQuota": 7650,
                "pricing": {
                    "baseRate": 1, "multiplier": 1.0, "effectiveRate": 1.0,
                    "breakdown": {
                        "base": 1.0, "maxSessions": 1, "sessionMultiplier": 1.0,
                        "userDataMax": 5, "userDataPremium": 0,
                        "hasLiveURLAccess": false, "liveURLPremium": 0
                    }
                }
            }));
        })
        .await;
    let quota = authed(&server).get_quota().send().await.unwrap();
    mock.assert_async().await;
    assert_eq!(quota.remaining_quota, 7650.0);
    assert!(!quota.pricing.breakdown.has_live_url_access);
}

#[tokio::test]
async fn usage_and_history() {
    let server = MockServer::start_async().await;
    let usage = server.get_usage(|_, then| {
        then.ok(&serde_json::from_value(
            json!({"totalSessions": 142, "totalMinutes": 2350, "activeSessions": 1}),
        )
        .unwrap());
    });
    let history = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/history")
                .query_param("start", "2025-01-15T00:00:00Z")
                .query_param("end", "2025-01-16T00:00:00Z");
            then.status(200).json_body(json!({
                "sessions": [{
                    "id": 1, "startedAt": "2025-01-15T10:30:00Z", "endedAt": "2025-01-15T10:33:25Z",
                    "durationMinutes": 3, "quotaConsumed": 3, "disconnectReason": "client_closed"
                }],
                "total": 1
            }));
        })
        .await;
    let client = authed(&server);
    assert_eq!(client.get_usage().send().await.unwrap().total_minutes, 2350);
    let day = |d: &str| d.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    let h = client
        .list_history()
        .start(day("2025-01-15T00:00:00Z"))
        .end(day("2025-01-16T00:00:00Z"))
        .send()
        .await
        .unwrap();
    usage.assert();
    history.assert_async().await;
    assert_eq!(h.total, 1);
    assert_eq!(
        h.sessions[0].disconnect_reason.as_deref(),
        Some("client_closed")
    );
}

#[tokio::test]
async fn user_data_create_list_delete() {
    let server = MockServer::start_async().await;
    let create = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/user-data")
                .header("authorization", "Bearer your-token");
            then.status(201).json_body(
                json!({"id": "udd_abc123xyz789defg", "createdAt": "2025-01-15T10:30:00Z"}),
            );
        })
        .await;
    let list = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/user-data");
            then.status(200).json_body(json!({
                "items": [{"id": "udd_abc123xyz789defg", "createdAt": "2025-01-15T10:30:00Z",
                           "lastUsedAt": "2025-01-15T12:45:00Z", "isLocked": false}],
                "total": 1,
                "quota": {"used": 1, "max": 5, "canCreate": true}
            }));
        })
        .await;
    let delete = server
        .mock_async(|when, then| {
            when.method(DELETE)
                .path("/api/user-data/udd_abc123xyz789defg");
            then.status(200).json_body(json!({"success": true}));
        })
        .await;
    let client = authed(&server);
    let created = client.create_user_data().send().await.unwrap();
    let listed = client.list_user_data().send().await.unwrap();
    assert_eq!(listed.items[0].id, created.id);
    assert!(listed.quota.can_create);
    let deleted = client
        .delete_user_data()
        .id(&created.id)
        .send()
        .await
        .unwrap();
    assert!(deleted.success);
    create.assert_async().await;
    list.assert_async().await;
    delete.assert_async().await;
}
