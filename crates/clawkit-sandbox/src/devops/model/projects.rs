//! Projects (项目) and their tasks (任务), and their answers: the spec's `Project` and `Task`. A
//! task moves todo → in_progress → review → testing → done, one step forward or back to any
//! earlier status.

use openclaw_devops_api::types::{
    self, ProjectMember, ProjectMemberRole, ProjectStats, ProjectVisibility, Role, TaskPriority,
    TaskStatus, TaskType,
};
use serde_json::{Number, Value, json};

use super::wire::keeping;
use crate::kit::clock::utc_datetime;

/// Task statuses, in the order a task moves through them.
pub(crate) const TASK_FLOW: [TaskStatus; 5] = [
    TaskStatus::Todo,
    TaskStatus::InProgress,
    TaskStatus::Review,
    TaskStatus::Testing,
    TaskStatus::Done,
];
/// Their wire names, in the same order.
pub(crate) const TASK_STATUSES: [&str; 5] = ["todo", "in_progress", "review", "testing", "done"];

/// A project.
#[derive(Debug, Clone)]
pub(crate) struct Project {
    /// `prj_…`.
    pub(crate) id: String,
    /// 项目名称.
    pub(crate) name: String,
    /// Upper-case key, the prefix of task keys.
    pub(crate) key: String,
    /// 项目描述.
    pub(crate) description: Option<String>,
    /// The owner's user id.
    pub(crate) owner_id: String,
    /// `active`.
    pub(crate) status: String,
    /// 可见性.
    pub(crate) visibility: ProjectVisibility,
    /// (user id, its role in the project), the owner first.
    pub(crate) members: Vec<(String, ProjectMemberRole)>,
    /// Unix ms.
    pub(crate) created_ms: i64,
    /// The number of the next task (`ECOM-2` after `ECOM-1`).
    pub(crate) next_task: u64,
}

impl Project {
    /// Whether the user `user_id` of `role` sees it: admins and members always, others unless it
    /// is private.
    pub(crate) fn visible_to(&self, user_id: &str, role: Role) -> bool {
        role == Role::Admin
            || self.visibility != ProjectVisibility::Private
            || self.members.iter().any(|(id, _)| id == user_id)
    }

    /// Whether `user_id` is in it as `role`.
    pub(crate) fn has(&self, user_id: &str, role: ProjectMemberRole) -> bool {
        self.members
            .iter()
            .any(|(id, as_)| id == user_id && *as_ == role)
    }

    /// The application ids of its deployments: `app_<key>` and `app_<key>_…`.
    pub(crate) fn deploys(&self, application_id: &str) -> bool {
        let app = format!("app_{}", self.key.to_lowercase());
        application_id == app || application_id.starts_with(&format!("{app}_"))
    }

    /// The `Project` schema, with its `stats`.
    pub(crate) fn wire(&self, stats: ProjectStats) -> types::Project {
        types::Project {
            id: self.id.clone(),
            name: self.name.clone(),
            key: self.key.clone(),
            description: self.description.clone(),
            owner_id: self.owner_id.clone(),
            status: self.status.clone(),
            visibility: Some(self.visibility),
            members: self
                .members
                .iter()
                .map(|(id, role)| ProjectMember {
                    user_id: id.clone(),
                    role: *role,
                })
                .collect(),
            stats,
            created_at: utc_datetime(self.created_ms),
        }
    }
}

/// A task.
#[derive(Debug, Clone)]
pub(crate) struct Task {
    /// `task_…`.
    pub(crate) id: String,
    /// `ECOM-1`.
    pub(crate) key: String,
    /// 任务描述.
    pub(crate) description: Option<String>,
    /// Its project.
    pub(crate) project_id: String,
    /// story, task, bug or epic.
    pub(crate) kind: TaskType,
    /// 任务标题.
    pub(crate) title: String,
    /// Index in [`TASK_FLOW`].
    pub(crate) status: usize,
    /// 负责人.
    pub(crate) assignee_id: Option<String>,
    /// Who created it.
    pub(crate) reporter_id: String,
    /// 优先级.
    pub(crate) priority: TaskPriority,
    /// 故事点, as sent.
    pub(crate) story_points: Option<Number>,
    /// 父任务.
    pub(crate) parent_task_id: Option<String>,
    /// 标签.
    pub(crate) labels: Vec<String>,
    /// Unix ms.
    pub(crate) created_ms: i64,
    /// Unix ms.
    pub(crate) updated_ms: i64,
}

impl Task {
    /// Whether it is done.
    pub(crate) fn done(&self) -> bool {
        self.status == TASK_FLOW.len() - 1
    }

    /// The `Task` schema.
    pub(crate) fn wire(&self) -> types::Task {
        types::Task {
            id: self.id.clone(),
            key: self.key.clone(),
            project_id: self.project_id.clone(),
            type_: self.kind,
            title: self.title.clone(),
            description: self.description.clone(),
            status: TASK_FLOW[self.status],
            assignee_id: self.assignee_id.clone(),
            reporter_id: self.reporter_id.clone(),
            priority: Some(self.priority),
            story_points: self.story_points.as_ref().and_then(Number::as_f64),
            parent_task_id: self.parent_task_id.clone(),
            labels: self.labels.clone(),
            created_at: utc_datetime(self.created_ms),
            updated_at: utc_datetime(self.updated_ms),
        }
    }

    /// The `Task` schema as JSON: `labels` even when empty, `storyPoints` as sent (`5` stays
    /// `5`, the generated type would write `5.0`).
    pub(crate) fn json(&self) -> Value {
        let mut out = keeping(&self.wire(), &[("labels", json!([]))]);
        if let Some(points) = &self.story_points {
            out["storyPoints"] = Value::Number(points.clone());
        }
        out
    }

    /// The statuses it may move to: the next one and every earlier one.
    pub(crate) fn moves(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = TASK_STATUSES
            .get(self.status + 1)
            .copied()
            .into_iter()
            .collect();
        out.extend(TASK_STATUSES[..self.status].iter().copied());
        out
    }

    /// Whether it may move to status `to` (an index in [`TASK_FLOW`]): to itself, one step
    /// forward, or back.
    pub(crate) fn may_move(&self, to: usize) -> bool {
        to <= self.status + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(status: usize) -> Task {
        Task {
            id: "task_x".into(),
            key: "X-1".into(),
            project_id: "prj_x".into(),
            kind: TaskType::Bug,
            title: "t".into(),
            description: None,
            status,
            assignee_id: None,
            reporter_id: "usr_x".into(),
            priority: TaskPriority::Medium,
            story_points: Some(5.into()),
            parent_task_id: None,
            labels: Vec::new(),
            created_ms: 0,
            updated_ms: 0,
        }
    }

    #[test]
    fn a_task_moves_one_step_forward_or_back() {
        assert_eq!(task(0).moves(), ["in_progress"]);
        assert_eq!(task(2).moves(), ["testing", "todo", "in_progress"]);
        assert_eq!(
            task(4).moves(),
            ["todo", "in_progress", "review", "testing"]
        );
        assert!(task(2).may_move(3) && task(2).may_move(2) && task(2).may_move(0));
        assert!(!task(0).may_move(4));
    }

    #[test]
    fn a_tasks_json_keeps_its_labels_and_points_as_sent() {
        let json = task(0).json();
        assert_eq!(json["labels"], json!([]));
        assert_eq!(json["storyPoints"], json!(5));
        assert_eq!(json["status"], "todo");
        assert_eq!(json["priority"], "medium");
        assert_eq!(json["createdAt"], "1970-01-01T00:00:00Z");
    }
}
