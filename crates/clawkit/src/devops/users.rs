//! Users (用户管理): a paged, filtered `Stream`, and create, read, update, delete.

use clawkit_runtime::{Paged, Safety};
use secrecy::{ExposeSecret, SecretString};

use crate::call::Calls;
use openclaw_devops_api::types::{
    self, CreatedUser, Role, SortOrder, User, UserSortField, UserStatusFilter,
};

use super::client::{Client, page_number};
use super::error::Error;

/// Which users [`Client::users`] lists, and in which order (the service's defaults: everyone,
/// newest first).
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct UserFilter {
    role: Option<Role>,
    status: Option<UserStatusFilter>,
    search: Option<String>,
    sort_by: Option<UserSortField>,
    sort_order: Option<SortOrder>,
}

impl UserFilter {
    /// Every user.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only users with this role.
    pub fn role(mut self, role: Role) -> Self {
        self.role = Some(role);
        self
    }

    /// Only users with this status (`active`, `inactive`, `suspended`).
    pub fn status(mut self, status: UserStatusFilter) -> Self {
        self.status = Some(status);
        self
    }

    /// Only users whose username, email or name contains `text`.
    pub fn search(mut self, text: impl Into<String>) -> Self {
        self.search = Some(text.into());
        self
    }

    /// Sorted by this field (`createdAt` by default), in this order.
    pub fn sort(mut self, field: UserSortField, order: SortOrder) -> Self {
        self.sort_by = Some(field);
        self.sort_order = Some(order);
        self
    }
}

/// A new account for [`Client::create_user`]. The password is kept as a secret.
#[derive(Debug, Clone)]
#[must_use]
pub struct NewUser {
    username: String,
    email: String,
    password: SecretString,
    full_name: String,
    role: Option<Role>,
    department: Option<String>,
}

impl NewUser {
    /// A user (3-20 letters, digits or `_`), a unique email, a password (at least 8 characters
    /// with lower case, upper case and digits) and the person's name.
    pub fn new(
        username: impl Into<String>,
        email: impl Into<String>,
        password: impl Into<String>,
        full_name: impl Into<String>,
    ) -> Self {
        Self {
            username: username.into(),
            email: email.into(),
            password: SecretString::from(password.into()),
            full_name: full_name.into(),
            role: None,
            department: None,
        }
    }

    /// The role (default `developer`).
    pub fn role(mut self, role: Role) -> Self {
        self.role = Some(role);
        self
    }

    /// The department.
    pub fn department(mut self, department: impl Into<String>) -> Self {
        self.department = Some(department.into());
        self
    }

    fn request(&self) -> Result<types::CreateUserRequest, Error> {
        let invalid = |field: &str, e: types::error::ConversionError| {
            Error::InvalidArgument(format!("{field}: {e}"))
        };
        Ok(types::CreateUserRequest {
            username: self
                .username
                .as_str()
                .try_into()
                .map_err(|e| invalid("username", e))?,
            email: self.email.clone(),
            password: self
                .password
                .expose_secret()
                .try_into()
                .map_err(|e| invalid("password", e))?,
            full_name: self.full_name.clone(),
            role: self.role.unwrap_or(Role::Developer),
            department: self.department.clone(),
        })
    }
}

/// Changes for [`Client::update_user`]: only the fields set are sent (the password is not
/// changed this way).
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct UserUpdate {
    request: types::UpdateUserRequest,
    bad_username: Option<String>,
}

impl UserUpdate {
    /// No change yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A new username.
    pub fn username(mut self, username: impl Into<String>) -> Self {
        let username = username.into();
        match username.as_str().try_into() {
            Ok(u) => self.request.username = Some(u),
            Err(e) => self.bad_username = Some(format!("username: {e}")),
        }
        self
    }

    /// A new email.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.request.email = Some(email.into());
        self
    }

    /// A new name.
    pub fn full_name(mut self, name: impl Into<String>) -> Self {
        self.request.full_name = Some(name.into());
        self
    }

    /// A new role.
    pub fn role(mut self, role: Role) -> Self {
        self.request.role = Some(role);
        self
    }

    /// A new department.
    pub fn department(mut self, department: impl Into<String>) -> Self {
        self.request.department = Some(department.into());
        self
    }
}

impl Client {
    /// The users, as a `Stream` read `pageSize` 100 at a time (`.page_size(n)` for fewer), the
    /// next pages read ahead once the first gives the total.
    pub fn users(&self, filter: UserFilter) -> Paged<User, Error, u64> {
        self.listed(move |client, page, size| {
            let filter = filter.clone();
            async move {
                let list = client
                    .call("listing users", Safety::Idempotent, |api| {
                        let mut q = api
                            .list_users()
                            .page(page_number(page))
                            .page_size(page_number(u64::from(size)));
                        if let Some(role) = filter.role {
                            q = q.role(role);
                        }
                        if let Some(status) = filter.status {
                            q = q.status(status);
                        }
                        if let Some(search) = &filter.search {
                            q = q.search(search.clone());
                        }
                        if let Some(by) = filter.sort_by {
                            q = q.sort_by(by);
                        }
                        if let Some(order) = filter.sort_order {
                            q = q.sort_order(order);
                        }
                        q.send()
                    })
                    .await?;
                Ok((list.data, list.pagination))
            }
        })
    }

    /// Creates an account (`pending_verification` until its email is verified). A duplicate
    /// username or email is [`Reason::Conflict`](super::error::Reason::Conflict); a bad field a
    /// 422 whose [`ApiError::fields`](crate::ApiError::fields) name it. Not retried unless the
    /// failure proves nothing was created.
    pub async fn create_user(&self, user: NewUser) -> Result<CreatedUser, Error> {
        let body = user.request()?;
        self.call("creating a user", Safety::Creates, |api| {
            api.create_user().body(body.clone()).send()
        })
        .await
    }

    /// One user.
    pub async fn user(&self, id: &str) -> Result<User, Error> {
        self.call("reading a user", Safety::Idempotent, |api| {
            api.get_user().user_id(id).send()
        })
        .await
    }

    /// Changes a user's fields (only admins may).
    pub async fn update_user(&self, id: &str, update: UserUpdate) -> Result<User, Error> {
        if let Some(bad) = update.bad_username {
            return Err(Error::InvalidArgument(bad));
        }
        self.call("updating a user", Safety::Idempotent, |api| {
            api.update_user()
                .user_id(id)
                .body(update.request.clone())
                .send()
        })
        .await
    }

    /// Deletes a user: kept for the audit log unless `hard`.
    pub async fn delete_user(&self, id: &str, hard: bool) -> Result<(), Error> {
        self.call("deleting a user", Safety::Idempotent, |api| {
            api.delete_user().user_id(id).hard(hard).send()
        })
        .await
    }
}
