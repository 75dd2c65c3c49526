//! `claw devops users ...`.

use clap::Subcommand;
use clawkit::client::Optionally;
use clawkit::devops::types::{Role, UserStatusFilter};
use clawkit::devops::{Client, NewUser, UserFilter, UserUpdate};
use futures::TryStreamExt;
use serde_json::json;

use crate::args::one_of;
use crate::failure::Failure;
use crate::output;
use crate::session::Globals;

/// The roles, as the service spells them.
const ROLES: &str = "admin, product_manager, architect, developer, tester, devops, viewer";

#[derive(Debug, Subcommand)]
pub(super) enum UsersCommand {
    List {
        #[arg(long, value_parser = one_of::<Role>(ROLES))]
        role: Option<Role>,
        #[arg(long, value_parser = one_of::<UserStatusFilter>("active, inactive, suspended"))]
        status: Option<UserStatusFilter>,
        #[arg(long)]
        search: Option<String>,
        /// At most this many users.
        #[arg(long)]
        limit: Option<usize>,
    },
    Get {
        user: String,
    },
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        /// The new account's password.
        #[arg(long)]
        password: String,
        #[arg(long)]
        full_name: String,
        #[arg(long, value_parser = one_of::<Role>(ROLES))]
        role: Option<Role>,
        #[arg(long)]
        department: Option<String>,
    },
    Update {
        user: String,
        #[arg(long)]
        full_name: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long, value_parser = one_of::<Role>(ROLES))]
        role: Option<Role>,
        #[arg(long)]
        department: Option<String>,
    },
    Delete {
        user: String,
        #[arg(long)]
        hard: bool,
    },
}

pub(super) async fn run(
    client: &Client,
    globals: &Globals,
    command: Option<UsersCommand>,
) -> Result<(), Failure> {
    match command.unwrap_or(UsersCommand::List {
        role: None,
        status: None,
        search: None,
        limit: None,
    }) {
        UsersCommand::List {
            role,
            status,
            search,
            limit,
        } => {
            let filter = UserFilter::new()
                .optionally(role, UserFilter::role)
                .optionally(status, UserFilter::status)
                .optionally(search, |f, s| f.search(s));
            let mut stream = client.users(filter);
            let mut users = Vec::new();
            while let Some(user) = stream.try_next().await? {
                users.push(user);
                if limit.is_some_and(|l| users.len() >= l) {
                    break;
                }
            }
            let rows = users
                .iter()
                .map(|u| {
                    vec![
                        u.id.clone(),
                        u.username.clone(),
                        u.full_name.clone(),
                        u.role.to_string(),
                        u.status.to_string(),
                    ]
                })
                .collect();
            output::rows(
                globals.json,
                &users,
                &["USER", "USERNAME", "NAME", "ROLE", "STATUS"],
                rows,
            );
        }
        UsersCommand::Get { user } => output::one(&client.user(&user).await?),
        UsersCommand::Create {
            username,
            email,
            password,
            full_name,
            role,
            department,
        } => {
            let new = NewUser::new(username, email, password, full_name)
                .optionally(role, NewUser::role)
                .optionally(department, |n, d| n.department(d));
            output::one(&client.create_user(new).await?);
        }
        UsersCommand::Update {
            user,
            full_name,
            email,
            role,
            department,
        } => {
            let update = UserUpdate::new()
                .optionally(full_name, |u, v| u.full_name(v))
                .optionally(email, |u, v| u.email(v))
                .optionally(role, UserUpdate::role)
                .optionally(department, |u, v| u.department(v));
            output::one(&client.update_user(&user, update).await?);
        }
        UsersCommand::Delete { user, hard } => {
            client.delete_user(&user, hard).await?;
            output::done(
                globals.json,
                json!({"userId": user, "deleted": true}),
                || format!("deleted user {user}"),
            );
        }
    }
    Ok(())
}
