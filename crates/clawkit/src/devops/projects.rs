//! Projects (项目管理) and their tasks (任务管理): paged streams, create, read, and the task
//! status flow todo → in_progress → review → testing → done.

use clawkit_runtime::{Paged, Safety};

use crate::call::Calls;
use openclaw_devops_api::types::{
    self, Project, ProjectMemberRole, ProjectVisibility, Task, TaskPriority, TaskStatus, TaskType,
};

use super::client::{Client, page_number};
use super::error::Error;

/// A new project for [`Client::create_project`].
#[derive(Debug, Clone)]
#[must_use]
pub struct NewProject {
    name: String,
    key: String,
    owner_id: String,
    description: Option<String>,
    members: Vec<String>,
    visibility: Option<ProjectVisibility>,
}

impl NewProject {
    /// A project named `name` with the upper-case `key` (e.g. `ECOM`, which prefixes its task
    /// keys) and its owner's user id.
    pub fn new(
        name: impl Into<String>,
        key: impl Into<String>,
        owner_id: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            key: key.into(),
            owner_id: owner_id.into(),
            description: None,
            members: Vec::new(),
            visibility: None,
        }
    }

    /// A description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Adds a member (a user id).
    pub fn member(mut self, user_id: impl Into<String>) -> Self {
        self.members.push(user_id.into());
        self
    }

    /// Who can see it (`private`, `internal`, `public`).
    pub fn visibility(mut self, visibility: ProjectVisibility) -> Self {
        self.visibility = Some(visibility);
        self
    }

    fn request(&self) -> Result<types::CreateProjectRequest, Error> {
        Ok(types::CreateProjectRequest {
            key: self.key.as_str().try_into().map_err(|_| {
                Error::InvalidArgument(format!(
                    "key: expected upper-case letters and digits starting with a letter (like ECOM), got {:?}",
                    self.key
                ))
            })?,
            name: self.name.clone(),
            owner_id: self.owner_id.clone(),
            description: self.description.clone(),
            members: self.members.clone(),
            visibility: self.visibility,
        })
    }
}

/// A new task for [`Client::create_task`].
#[derive(Debug, Clone)]
#[must_use]
pub struct NewTask {
    request: types::CreateTaskRequest,
}

impl NewTask {
    /// A task of `kind` (story, task, bug, epic) titled `title`.
    pub fn new(kind: TaskType, title: impl Into<String>) -> Self {
        Self {
            request: types::CreateTaskRequest {
                type_: kind,
                title: title.into(),
                assignee_id: None,
                description: None,
                labels: Vec::new(),
                parent_task_id: None,
                priority: None,
                story_points: None,
            },
        }
    }

    /// A description (Markdown).
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.request.description = Some(text.into());
        self
    }

    /// Who does it (a user id).
    pub fn assignee(mut self, user_id: impl Into<String>) -> Self {
        self.request.assignee_id = Some(user_id.into());
        self
    }

    /// Its priority.
    pub fn priority(mut self, priority: TaskPriority) -> Self {
        self.request.priority = Some(priority);
        self
    }

    /// Its estimate in story points.
    pub fn story_points(mut self, points: f64) -> Self {
        self.request.story_points = Some(points);
        self
    }

    /// The task it is a subtask of.
    pub fn parent(mut self, task_id: impl Into<String>) -> Self {
        self.request.parent_task_id = Some(task_id.into());
        self
    }

    /// Adds a label.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.request.labels.push(label.into());
        self
    }
}

/// Which tasks [`Client::tasks`] lists.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct TaskFilter {
    status: Option<TaskStatus>,
}

impl TaskFilter {
    /// Every task of the project.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only tasks with this status.
    pub fn status(mut self, status: TaskStatus) -> Self {
        self.status = Some(status);
        self
    }
}

impl Client {
    /// The projects the caller can access, optionally only those with `status` or where the
    /// caller has `role` (owner or member).
    pub fn projects(
        &self,
        status: Option<String>,
        role: Option<ProjectMemberRole>,
    ) -> Paged<Project, Error, u64> {
        self.listed(move |client, page, size| {
            let status = status.clone();
            async move {
                let list = client
                    .call("listing projects", Safety::Idempotent, |api| {
                        let mut q = api
                            .list_projects()
                            .page(page_number(page))
                            .page_size(page_number(u64::from(size)));
                        if let Some(status) = &status {
                            q = q.status(status.clone());
                        }
                        if let Some(role) = role {
                            q = q.role(role);
                        }
                        q.send()
                    })
                    .await?;
                Ok((list.data, list.pagination))
            }
        })
    }

    /// One project.
    pub async fn project(&self, id: &str) -> Result<Project, Error> {
        self.call("reading a project", Safety::Idempotent, |api| {
            api.get_project().project_id(id).send()
        })
        .await
    }

    /// Creates a project; a key in use is [`Reason::Conflict`](super::error::Reason::Conflict).
    pub async fn create_project(&self, project: NewProject) -> Result<Project, Error> {
        let body = project.request()?;
        self.call("creating a project", Safety::Creates, |api| {
            api.create_project().body(body.clone()).send()
        })
        .await
    }

    /// A project's tasks, oldest first.
    pub fn tasks(&self, project_id: &str, filter: TaskFilter) -> Paged<Task, Error, u64> {
        let project = project_id.to_string();
        self.listed(move |client, page, size| {
            let (project, filter) = (project.clone(), filter.clone());
            async move {
                let list = client
                    .call("listing tasks", Safety::Idempotent, |api| {
                        let mut q = api
                            .list_tasks()
                            .project_id(&project)
                            .page(page_number(page))
                            .page_size(page_number(u64::from(size)));
                        if let Some(status) = filter.status {
                            q = q.status(status);
                        }
                        q.send()
                    })
                    .await?;
                Ok((list.data, list.pagination))
            }
        })
    }

    /// One task.
    pub async fn task(&self, id: &str) -> Result<Task, Error> {
        self.call("reading a task", Safety::Idempotent, |api| {
            api.get_task().task_id(id).send()
        })
        .await
    }

    /// Creates a task in a project (status `todo`).
    pub async fn create_task(&self, project_id: &str, task: NewTask) -> Result<Task, Error> {
        self.call("creating a task", Safety::Creates, |api| {
            api.create_task()
                .project_id(project_id)
                .body(task.request.clone())
                .send()
        })
        .await
    }

    /// Moves a task to `status`, with an optional note. One step forward or back to an earlier
    /// status; a skip forward is [`Reason::Conflict`](super::error::Reason::Conflict) with the
    /// allowed moves in its details.
    pub async fn move_task(
        &self,
        id: &str,
        status: TaskStatus,
        comment: Option<&str>,
    ) -> Result<Task, Error> {
        let body = types::UpdateTaskStatusRequest {
            status,
            comment: comment.map(str::to_string),
        };
        self.call("moving a task", Safety::Idempotent, |api| {
            api.update_task_status()
                .task_id(id)
                .body(body.clone())
                .send()
        })
        .await
    }
}
