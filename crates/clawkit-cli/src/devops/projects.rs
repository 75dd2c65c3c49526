//! `claw devops projects ...` and `claw devops tasks ...`.

use clap::Subcommand;
use clawkit::client::Optionally;
use clawkit::devops::types::{TaskStatus, TaskType};
use clawkit::devops::{Client, NewProject, NewTask, TaskFilter};
use futures::TryStreamExt;

use crate::args::one_of;
use crate::failure::Failure;
use crate::output;
use crate::session::Globals;

/// The task statuses, in the order a task moves through them.
const TASK_STATUSES: &str = "todo, in_progress, review, testing, done";

#[derive(Debug, Subcommand)]
pub(super) enum ProjectsCommand {
    List {
        #[arg(long)]
        status: Option<String>,
    },
    Get {
        project: String,
    },
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        key: String,
        #[arg(long)]
        owner: String,
        #[arg(long = "member")]
        members: Vec<String>,
        #[arg(long)]
        description: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub(super) enum TasksCommand {
    List {
        project: String,
        #[arg(long, value_parser = one_of::<TaskStatus>(TASK_STATUSES))]
        status: Option<TaskStatus>,
    },
    Get {
        task: String,
    },
    Create {
        project: String,
        #[arg(long = "type", value_parser = one_of::<TaskType>("story, task, bug, epic"))]
        kind: TaskType,
        #[arg(long)]
        title: String,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        assignee: Option<String>,
    },
    /// Moves a task to another status (todo, in_progress, review, testing, done).
    Move {
        task: String,
        #[arg(value_parser = one_of::<TaskStatus>(TASK_STATUSES))]
        status: TaskStatus,
        #[arg(long)]
        comment: Option<String>,
    },
}

pub(super) async fn projects(
    client: &Client,
    globals: &Globals,
    command: Option<ProjectsCommand>,
) -> Result<(), Failure> {
    match command.unwrap_or(ProjectsCommand::List { status: None }) {
        ProjectsCommand::List { status } => {
            let projects: Vec<_> = client.projects(status, None).try_collect().await?;
            let rows = projects
                .iter()
                .map(|p| {
                    vec![
                        p.id.clone(),
                        p.key.clone(),
                        p.name.clone(),
                        p.status.clone(),
                    ]
                })
                .collect();
            output::rows(
                globals.json,
                &projects,
                &["PROJECT", "KEY", "NAME", "STATUS"],
                rows,
            );
        }
        ProjectsCommand::Get { project } => output::one(&client.project(&project).await?),
        ProjectsCommand::Create {
            name,
            key,
            owner,
            members,
            description,
        } => {
            let new = members
                .into_iter()
                .fold(NewProject::new(name, key, owner), NewProject::member)
                .optionally(description, |n, d| n.description(d));
            output::one(&client.create_project(new).await?);
        }
    }
    Ok(())
}

pub(super) async fn tasks(
    client: &Client,
    globals: &Globals,
    command: TasksCommand,
) -> Result<(), Failure> {
    match command {
        TasksCommand::List { project, status } => {
            let filter = TaskFilter::new().optionally(status, TaskFilter::status);
            let tasks: Vec<_> = client.tasks(&project, filter).try_collect().await?;
            let rows = tasks
                .iter()
                .map(|t| {
                    vec![
                        t.id.clone(),
                        t.key.clone(),
                        t.status.to_string(),
                        t.title.clone(),
                    ]
                })
                .collect();
            output::rows(
                globals.json,
                &tasks,
                &["TASK", "KEY", "STATUS", "TITLE"],
                rows,
            );
        }
        TasksCommand::Get { task } => output::one(&client.task(&task).await?),
        TasksCommand::Create {
            project,
            kind,
            title,
            description,
            assignee,
        } => {
            let new = NewTask::new(kind, title)
                .optionally(description, |n, d| n.description(d))
                .optionally(assignee, |n, a| n.assignee(a));
            output::one(&client.create_task(&project, new).await?);
        }
        TasksCommand::Move {
            task,
            status,
            comment,
        } => output::one(&client.move_task(&task, status, comment.as_deref()).await?),
    }
    Ok(())
}
