//! Bazhuayu's state: tokens and their leaky buckets, refresh tokens, task groups, tasks, counters.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::kit::ids::{Ids, hash_str, mix, unit};

/// Requests per second the bucket refills.
pub const RATE_PER_SECOND: f64 = 20.0;
/// Bucket size: five seconds of requests.
pub const BUCKET: f64 = 100.0;

/// Counters tests and benchmarks read.
#[derive(Debug, Default, Serialize)]
pub struct Stats {
    /// `POST /token` calls.
    pub token_requests: AtomicU64,
    /// Refresh grants with a refresh token that was already used.
    pub refresh_reuse: AtomicU64,
    /// 429s the bucket answered.
    pub rate_limited: AtomicU64,
    /// Authenticated requests served.
    pub requests: AtomicU64,
}

/// An access token and its leaky bucket.
#[derive(Debug)]
pub(super) struct Token {
    /// When it stops being accepted.
    pub(super) expires: Instant,
    /// Requests left in the bucket.
    pub(super) bucket: f64,
    /// When the bucket was last refilled.
    pub(super) refilled: Instant,
}

/// A task and its data.
#[derive(Debug)]
pub(super) struct Task {
    /// `taskId`.
    pub(super) id: String,
    /// `taskName`.
    pub(super) name: String,
    /// Its task group.
    pub(super) group: i64,
    /// Rows of data.
    pub(super) rows: u64,
    /// Rows exported (confirmed by `update`).
    pub(super) exported: u64,
    /// Rows handed out by `gettop`, not yet confirmed.
    pub(super) exporting: u64,
    /// Status as `GetTaskStatusByIdList` gives it.
    pub(super) status: &'static str,
}

/// Mutable state.
#[derive(Debug)]
pub(super) struct Inner {
    /// Access tokens.
    pub(super) tokens: HashMap<String, Token>,
    /// Refresh tokens: whether each was used.
    pub(super) refresh: HashMap<String, bool>,
    /// Tasks.
    pub(super) tasks: Vec<Task>,
}

/// The Bazhuayu sandbox.
#[derive(Debug)]
pub struct Bazhuayu {
    seed: u64,
    ttl: Duration,
    ids: Ids,
    inner: Mutex<Inner>,
    /// Counters.
    pub stats: Stats,
}

/// The seeded task groups.
pub const GROUPS: [(i64, &str); 2] = [(1, "示例组1"), (2, "示例组2")];

impl Bazhuayu {
    /// A fresh sandbox; access tokens live `ttl`.
    pub fn new(seed: u64, ttl: Duration) -> Arc<Self> {
        let ids = Ids::new(seed ^ 0xba2);
        let guid = |n: u64| {
            let h = mix(seed ^ mix(n));
            format!(
                "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                h >> 32,
                (h >> 16) & 0xffff,
                h & 0xfff,
                0x8000 | (mix(h) & 0x3fff),
                mix(h ^ 7) & 0xffff_ffff_ffff
            )
        };
        let tasks = vec![
            Task {
                id: "337fd7d7-aded-4081-9104-2b551161ccc8".into(),
                name: "示例任务1".into(),
                group: 1,
                rows: 2_500,
                exported: 0,
                exporting: 0,
                status: "Completed",
            },
            Task {
                id: "4adf489b-f883-43fa-b958-0cfde945ddb7".into(),
                name: "示例任务2".into(),
                group: 1,
                rows: 100_000,
                exported: 0,
                exporting: 0,
                status: "Stopped",
            },
            Task {
                id: guid(3),
                name: "新闻采集".into(),
                group: 2,
                rows: 37,
                exported: 0,
                exporting: 0,
                status: "Waiting",
            },
        ];
        Arc::new(Self {
            seed,
            ttl,
            ids,
            inner: Mutex::new(Inner {
                tokens: HashMap::new(),
                refresh: HashMap::new(),
                tasks,
            }),
            stats: Stats::default(),
        })
    }

    /// Locks the state (a poisoned lock is recovered: the state stays usable).
    pub(super) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Row `index` of a task: the seed's example rows first, then generated ones.
    pub fn row(&self, task: &str, index: u64) -> Map<String, Value> {
        const SEED_ROWS: [(&str, &str); 4] = [
            (
                "深圳视界",
                "领先的信息化解决方案提供商,致力于企业级数据整合,网页数据采集,整理,分析和挖掘。",
            ),
            (
                "八爪鱼",
                "它彻底改变了我对爬虫和采集器的认识,让网页数据采集变得前所未有的简单。",
            ),
            ("数多多", "致力于打造大数据共享与交易平台。"),
            (
                "微图",
                "一款简单易用的数据分析及可视化工具,支持自然语言分析及文本挖掘。",
            ),
        ];
        let mut row = Map::new();
        match SEED_ROWS.get(index as usize) {
            Some((term, intro)) => {
                row.insert("词条".into(), json!(term));
                row.insert("简介".into(), json!(intro));
            }
            None => {
                let h = hash_str(self.seed, task) ^ mix(index);
                row.insert("词条".into(), json!(format!("词条{index}")));
                row.insert(
                    "简介".into(),
                    json!(format!("第{index}条数据,评分{:.2}", unit(h) * 5.0)),
                );
            }
        }
        row.insert("序号".into(), json!(index.to_string()));
        row
    }

    /// A new access token and its one-use refresh token, as `POST /token` answers them.
    pub(super) fn issue(&self, inner: &mut Inner) -> Value {
        let access = format!("at_{}", self.ids.next());
        let refresh = format!("rt_{}", self.ids.next());
        let now = Instant::now();
        inner.tokens.insert(
            access.clone(),
            Token {
                expires: now + self.ttl,
                bucket: BUCKET,
                refilled: now,
            },
        );
        inner.refresh.insert(refresh.clone(), false);
        json!({
            "access_token": access,
            "token_type": "bearer",
            "expires_in": self.ttl.as_secs(),
            "refresh_token": refresh,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_rows_are_the_seeds() {
        let b = Bazhuayu::new(1, Duration::from_secs(10));
        assert_eq!(b.row("t", 1)["词条"], "八爪鱼");
        assert_eq!(b.row("t", 9)["序号"], "9");
    }

    #[test]
    fn a_row_keeps_the_seeds_field_order() {
        let b = Bazhuayu::new(1, Duration::from_secs(10));
        for index in [0, 3, 4, 2_499] {
            let text = serde_json::to_string(&b.row("t", index)).unwrap();
            let at = |key: &str| text.find(&format!("\"{key}\"")).unwrap();
            assert!(at("词条") < at("简介"), "{text}");
            assert!(at("简介") < at("序号"), "{text}");
            let keys: Vec<String> = b.row("t", index).keys().cloned().collect();
            assert_eq!(keys, ["词条", "简介", "序号"]);
        }
    }
}
