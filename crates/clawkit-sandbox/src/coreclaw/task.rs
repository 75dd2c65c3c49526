//! A saved Worker task: v2 creates, reads, changes and deletes them; v1's `task/run` and v2's
//! `worker-tasks/{id}/runs` run them.

use serde_json::Value;

/// A saved Worker task: a Worker, its input and an optional schedule (the sandbox never fires the
/// schedule; it keeps it).
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// Numeric id.
    pub id: i64,
    /// Task slug (`workerTaskId`, v1's `task_slug`).
    pub slug: String,
    /// The Worker's slug.
    pub worker: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Worker version.
    pub version: String,
    /// The saved input, as given.
    pub input: Value,
    /// Schedule switch (0 or 1).
    pub schedule_enabled: i64,
    /// Schedule type (1 daily .. 4 once), if set.
    pub schedule_type: Option<i64>,
    /// HH:mm, if set.
    pub schedule_time: Option<String>,
    /// 1..7, if set.
    pub schedule_weekday: Option<i64>,
    /// 1..31, if set.
    pub schedule_day: Option<i64>,
    /// YYYY-MM-DD, if set.
    pub schedule_once_date: Option<String>,
}

impl Task {
    /// A task of `worker` (at `version`) with `input` and no schedule.
    pub fn new(id: i64, slug: String, worker: &str, version: &str, input: Value) -> Self {
        Self {
            id,
            slug,
            worker: worker.to_string(),
            title: String::new(),
            description: String::new(),
            version: version.to_string(),
            input,
            schedule_enabled: 0,
            schedule_type: None,
            schedule_time: None,
            schedule_weekday: None,
            schedule_day: None,
            schedule_once_date: None,
        }
    }
}
