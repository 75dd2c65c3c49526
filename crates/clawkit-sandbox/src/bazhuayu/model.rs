//! What Bazhuayu's sandbox holds: task groups, tasks and their rows, in the shapes of
//! `bazhuayu-api`'s types.

use bazhuayu_api::types::TaskRunStatus;
use serde_json::{Map, Value, json};

use crate::kit::ids::{hash_str, mix, unit};

/// The seeded task groups.
pub const GROUPS: [(i64, &str); 2] = [(1, "示例组1"), (2, "示例组2")];

/// The user who created every task (the seed's example id).
pub(super) const CREATOR: &str = "5d1e4b3c-645c-44ab-ac0e-bfa9ad600ece";

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
    pub(super) status: TaskRunStatus,
}

/// The seeded tasks: the seed's two examples and a small third one.
pub(super) fn tasks(seed: u64) -> Vec<Task> {
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
    let task = |id: String, name: &str, group, rows, status| Task {
        id,
        name: name.into(),
        group,
        rows,
        exported: 0,
        exporting: 0,
        status,
    };
    vec![
        task(
            "337fd7d7-aded-4081-9104-2b551161ccc8".into(),
            "示例任务1",
            1,
            2_500,
            TaskRunStatus::Completed,
        ),
        task(
            "4adf489b-f883-43fa-b958-0cfde945ddb7".into(),
            "示例任务2",
            1,
            100_000,
            TaskRunStatus::Stopped,
        ),
        task(guid(3), "新闻采集", 2, 37, TaskRunStatus::Waiting),
    ]
}

/// Row `index` of task `task`: the seed's example rows first, then generated ones (the same for
/// the same seed).
pub fn row(seed: u64, task: &str, index: u64) -> Map<String, Value> {
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
            let h = hash_str(seed, task) ^ mix(index);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_rows_are_the_seeds() {
        assert_eq!(row(1, "t", 1)["词条"], "八爪鱼");
        assert_eq!(row(1, "t", 9)["序号"], "9");
    }

    #[test]
    fn a_row_keeps_the_seeds_field_order() {
        for index in [0, 3, 4, 2_499] {
            let text = serde_json::to_string(&row(1, "t", index)).unwrap();
            let at = |key: &str| text.find(&format!("\"{key}\"")).unwrap();
            assert!(at("词条") < at("简介"), "{text}");
            assert!(at("简介") < at("序号"), "{text}");
            let keys: Vec<String> = row(1, "t", index).keys().cloned().collect();
            assert_eq!(keys, ["词条", "简介", "序号"]);
        }
    }
}
