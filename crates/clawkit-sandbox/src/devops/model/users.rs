//! A user account (用户), and its answers: the spec's `User` and the `CreatedUser` of a 201.

use openclaw_devops_api::types::{self, Role, UserStatus};

use crate::kit::clock::utc_datetime;

/// The password every seeded user logs in with (`POST /auth/token`, `password` grant).
pub const USER_PASSWORD: &str = "sandbox-secret";

/// One user account.
#[derive(Debug, Clone)]
pub(crate) struct User {
    /// `usr_…`.
    pub(crate) id: String,
    /// 3-20 letters, digits, underscores; the account of its tokens.
    pub(crate) username: String,
    /// Unique.
    pub(crate) email: String,
    /// 真实姓名.
    pub(crate) full_name: String,
    /// Avatar URL.
    pub(crate) avatar: Option<String>,
    /// 所属部门.
    pub(crate) department: Option<String>,
    /// Unix ms of the last password login.
    pub(crate) last_login_ms: Option<i64>,
    /// RBAC role.
    pub(crate) role: Role,
    /// `active`, `inactive`, `suspended` or `pending_verification`.
    pub(crate) status: UserStatus,
    /// Unix ms.
    pub(crate) created_ms: i64,
    /// Soft-deleted: gone from every read, kept for the audit log.
    pub(crate) deleted: bool,
    /// The password of the `password` grant.
    pub(crate) password: String,
}

impl User {
    /// Whether it may log in (and refresh its tokens): not `inactive` or `suspended`.
    pub(crate) fn enabled(&self) -> bool {
        !matches!(self.status, UserStatus::Inactive | UserStatus::Suspended)
    }

    /// The `User` schema.
    pub(crate) fn wire(&self) -> types::User {
        types::User {
            id: self.id.clone(),
            username: self.username.clone(),
            email: self.email.clone(),
            full_name: self.full_name.clone(),
            role: self.role,
            status: self.status,
            avatar: self.avatar.clone(),
            department: self.department.clone(),
            created_at: utc_datetime(self.created_ms),
            last_login_at: self.last_login_ms.map(utc_datetime),
        }
    }

    /// The `CreatedUser` schema of the seed's 201.
    pub(crate) fn created(&self) -> types::CreatedUser {
        types::CreatedUser {
            id: self.id.clone(),
            username: self.username.clone(),
            email: self.email.clone(),
            full_name: self.full_name.clone(),
            role: self.role,
            status: self.status,
            department: self.department.clone(),
            created_at: utc_datetime(self.created_ms),
            verification_email_sent: true,
        }
    }
}
