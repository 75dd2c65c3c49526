//! The seven roles of the RBAC model (权限模型, the spec's `Role`) and which role may write what,
//! as the spec's info.description reads the seed: every role may read; `admin` may do
//! everything. Also who a token speaks for: the [`Caller`] of an access token, the [`Grant`] of a
//! refresh token.

use openclaw_devops_api::types::Role;
use serde_json::{Value, json};

use super::error::{ApiError, details};

/// Every role, in the seed's order.
pub(crate) const ROLES: [Role; 7] = [
    Role::Admin,
    Role::ProductManager,
    Role::Architect,
    Role::Developer,
    Role::Tester,
    Role::Devops,
    Role::Viewer,
];

/// Every role's wire name, in the seed's order.
pub(crate) const ROLE_NAMES: [&str; 7] = [
    "admin",
    "product_manager",
    "architect",
    "developer",
    "tester",
    "devops",
    "viewer",
];

/// The token `scope` of a role: `read write admin`, `read write` or `read`.
pub(crate) fn scope(role: Role) -> &'static str {
    match role {
        Role::Admin => "read write admin",
        Role::Viewer => "read",
        _ => "read write",
    }
}

/// Who is calling: from a verified access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Caller {
    /// The user id (`sub`).
    pub(crate) user_id: String,
    /// The account (`name`): `sandbox` for the client credentials, else the username. Rate
    /// limits and webhook subscriptions are per account.
    pub(crate) account: String,
    /// The role.
    pub(crate) role: Role,
}

/// What a refresh token grants, once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grant {
    /// The account.
    pub(crate) account: String,
    /// The user id.
    pub(crate) user_id: String,
    /// The role when issued (a user's current role is read again on refresh).
    pub(crate) role: Role,
    /// Issued to the client credentials rather than a user's password.
    pub(crate) client: bool,
}

/// Who may manage users (POST/PUT/DELETE /users).
pub(crate) const USERS_WRITE: &[Role] = &[];
/// Who may create projects.
pub(crate) const PROJECTS_WRITE: &[Role] = &[Role::ProductManager];
/// Who may create tasks and move their status.
pub(crate) const TASKS_WRITE: &[Role] = &[
    Role::ProductManager,
    Role::Architect,
    Role::Developer,
    Role::Tester,
];
/// Who may activate agents: everyone but `viewer`.
pub(crate) const AGENTS_RUN: &[Role] = &[
    Role::ProductManager,
    Role::Architect,
    Role::Developer,
    Role::Tester,
    Role::Devops,
];
/// Who may trigger pipelines.
pub(crate) const PIPELINES_RUN: &[Role] = &[Role::Devops, Role::Developer];
/// Who may deploy and roll back.
pub(crate) const DEPLOY: &[Role] = &[Role::Devops];
/// Who may run test suites.
pub(crate) const TESTS_RUN: &[Role] = &[Role::Tester, Role::Developer, Role::Devops];
/// Who may create and delete webhooks.
pub(crate) const WEBHOOKS_WRITE: &[Role] = &[Role::Devops];

impl Caller {
    /// Ok when the caller is `admin` or has one of `roles`; else 403 `FORBIDDEN` with
    /// `details.requiredRole` (when only admin may) or `details.requiredRoles`, and
    /// `details.currentRole`.
    pub(crate) fn may(&self, roles: &[Role]) -> Result<(), ApiError> {
        if self.role == Role::Admin || roles.contains(&self.role) {
            return Ok(());
        }
        let current = json!(self.role);
        let refused = if roles.is_empty() {
            details([
                ("requiredRole", json!(Role::Admin)),
                ("currentRole", current),
            ])
        } else {
            let required: Vec<Value> = std::iter::once(Role::Admin)
                .chain(roles.iter().copied())
                .map(|r| json!(r))
                .collect();
            details([
                ("requiredRoles", Value::Array(required)),
                ("currentRole", current),
            ])
        };
        Err(ApiError::forbidden(refused))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Role) -> Caller {
        Caller {
            user_id: "usr_x".into(),
            account: "x".into(),
            role,
        }
    }

    #[test]
    fn admin_may_everything_and_the_rest_their_area() {
        for set in [USERS_WRITE, PROJECTS_WRITE, DEPLOY, WEBHOOKS_WRITE] {
            assert!(caller(Role::Admin).may(set).is_ok());
        }
        assert!(caller(Role::Tester).may(DEPLOY).is_err());
        assert!(caller(Role::Viewer).may(AGENTS_RUN).is_err());
        assert!(caller(Role::Developer).may(PIPELINES_RUN).is_ok());
        let refused = caller(Role::Developer).may(USERS_WRITE).unwrap_err();
        assert_eq!(refused.status, 403);
        assert_eq!(refused.details["requiredRole"], "admin");
        assert_eq!(refused.details["currentRole"], "developer");
        let refused = caller(Role::Viewer).may(PROJECTS_WRITE).unwrap_err();
        assert_eq!(
            refused.details["requiredRoles"],
            json!(["admin", "product_manager"])
        );
        assert_eq!("devops".parse::<Role>().ok(), Some(Role::Devops));
        assert_eq!(
            ROLE_NAMES.map(|n| n.parse::<Role>().ok().map(|r| r.to_string())),
            ROLE_NAMES.map(|n| Some(n.to_string()))
        );
        assert_eq!(ROLES.map(|r| r.to_string()), ROLE_NAMES.map(str::to_string));
    }
}
