//! A run's log lines, made from its state at one moment and its webhook deliveries.

use std::time::Instant;

use coreclaw_api::enums::{LogLevel, RunStatus};
use coreclaw_api::types;

use super::runs::Run;
use crate::kit::clock::unix_millis;

/// The log lines of a run at `now`.
pub(super) fn log_entries(run: &Run, now: Instant) -> Vec<types::LogEntry> {
    let snap = run.at(now);
    let group = format!("{}", run.hash % 100_000_000_000_000_000);
    let t0 = run.created_unix * 1000;
    let mut lines = vec![(
        LogLevel::Info,
        format!("SYSTEM: Subtask-[{group}] - Preparing the execution environment."),
        t0,
    )];
    if snap.status != RunStatus::Ready {
        lines.push((
            LogLevel::Info,
            format!("SYSTEM: Subtask-[{group}] - Running..."),
            snap.started_at.max(run.created_unix) * 1000,
        ));
        lines.push((
            LogLevel::Debug,
            format!("Produced {} of {} result items", snap.produced, run.planned),
            if snap.finished_at > 0 {
                snap.finished_at * 1000
            } else {
                unix_millis()
            },
        ));
    }
    // The abort stays in the log when the run then ends as failed.
    if let Some(at) = run.aborted.filter(|at| *at <= now) {
        let millis = at.saturating_duration_since(run.created).as_millis() as i64;
        lines.push((
            LogLevel::Warn,
            "SYSTEM: Aborting the run.".into(),
            run.created_unix * 1000 + millis,
        ));
    }
    match snap.status {
        RunStatus::Succeeded => lines.push((
            LogLevel::Info,
            "SYSTEM: Run succeeded.".into(),
            snap.finished_at * 1000,
        )),
        RunStatus::Failed => lines.push((
            LogLevel::Error,
            run.record(now).err_msg,
            snap.finished_at * 1000,
        )),
        _ => {}
    }
    for outcome in &run.deliveries {
        let level = if outcome == "200" {
            LogLevel::Info
        } else {
            LogLevel::Warn
        };
        lines.push((
            level,
            format!("Completion webhook: {outcome}"),
            unix_millis(),
        ));
    }
    lines
        .into_iter()
        .map(|(level, content, timestamp)| types::LogEntry {
            type_: level,
            group: group.clone(),
            content,
            timestamp,
        })
        .collect()
}
