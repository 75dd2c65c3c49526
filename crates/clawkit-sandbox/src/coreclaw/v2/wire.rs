//! v2's shapes of the shared entities, from the generated `coreclaw-v2-api` types: the run status
//! as a word, runs, result pages, Worker summaries and saved tasks.

use coreclaw_api::enums::RunStatus;
use coreclaw_api::types as v1;
use coreclaw_v2_api::types;

use crate::coreclaw::state::CoreClaw;
use crate::coreclaw::task::Task;
use crate::coreclaw::worker::{OWNER, Worker};

/// v2's run statuses, v1's 1 to 5 in order (the run list's `status` filter).
pub(super) const STATUS_WORDS: [&str; 5] = ["ready", "running", "succeeded", "failed", "aborting"];

/// v1's status as v2's word.
pub(super) fn status_word(status: RunStatus) -> String {
    let code = status.code();
    usize::try_from(code - 1)
        .ok()
        .and_then(|i| STATUS_WORDS.get(i))
        .map(|s| s.to_string())
        .unwrap_or_else(|| code.to_string())
}

/// A run record as v2 sends it.
pub(super) fn run_of(r: v1::RunSummary) -> types::WorkerRun {
    types::WorkerRun {
        slug: r.slug,
        status: types::RunStatus(status_word(r.status)),
        err_msg: Some(r.err_msg),
        results: Some(r.results),
        usage: Some(r.usage),
        traffic: Some(r.traffic),
        started_at: Some(r.started_at),
        finished_at: Some(r.finished_at),
        duration: Some(r.duration),
        origin: Some(r.origin),
        version: Some(r.version),
        scraper_title: r.scraper_title.or(r.actors_title),
        scraper_slug: r.scraper_slug.or(r.actors_slug),
    }
}

/// A result page's columns as v2 sends them (without v1's `format`).
pub(super) fn headers_of(page: &v1::RunResultListData) -> Vec<types::ResultHeader> {
    page.headers
        .iter()
        .map(|h| types::ResultHeader {
            key: h.key.clone(),
            label: h.label.clone(),
        })
        .collect()
}

/// A result page as v2 sends it.
pub(super) fn page_of(page: v1::RunResultListData) -> types::ResultPage {
    types::ResultPage {
        count: page.count,
        headers: headers_of(&page),
        list: page
            .list
            .into_iter()
            .map(|r| types::ResultRecord(r.0))
            .collect(),
    }
}

/// A Worker in the store or the user's list.
pub(super) fn summary(w: &Worker) -> types::WorkerSummary {
    types::WorkerSummary {
        slug: w.slug.to_string(),
        name: w.name(),
        path: w.path(),
        title: w.title.to_string(),
        description: Some(w.description.to_string()),
        username: OWNER.to_string(),
    }
}

/// A saved task with its schedule.
pub(super) fn task_of(t: &Task, cc: &CoreClaw) -> types::WorkerTask {
    types::WorkerTask {
        id: t.id,
        slug: t.slug.clone(),
        title: t.title.clone(),
        description: Some(t.description.clone()),
        version: Some(t.version.clone()),
        worker_slug: Some(t.worker.clone()),
        worker_path: cc.worker(&t.worker).map(Worker::path),
        schedule_enabled: Some(t.schedule_enabled),
        schedule_type: t.schedule_type,
        schedule_time: t.schedule_time.clone(),
        schedule_weekday: t.schedule_weekday,
        schedule_day: t.schedule_day,
        schedule_once_date: t.schedule_once_date.clone(),
    }
}

/// A saved task in a list.
pub(super) fn task_summary(t: &Task) -> types::WorkerTaskSummary {
    types::WorkerTaskSummary {
        id: t.id,
        slug: t.slug.clone(),
        title: t.title.clone(),
        version: Some(t.version.clone()),
        worker_slug: Some(t.worker.clone()),
    }
}
