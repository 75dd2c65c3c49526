//! The seven roles of the RBAC model (权限模型) and which role may write what, as the spec's
//! info.description reads the seed: every role may read; `admin` may do everything.

use serde_json::{Value, json};

use super::envelope::{ApiError, details};

/// An RBAC role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Role {
    /// 所有 API 的完全访问权限.
    Admin,
    /// PRD、需求、项目管理.
    ProductManager,
    /// 技术方案、架构设计.
    Architect,
    /// 代码、任务、测试.
    Developer,
    /// 测试用例、测试报告.
    Tester,
    /// 部署、流水线、监控.
    Devops,
    /// 只读.
    Viewer,
}

impl Role {
    /// Every role, in the seed's order.
    pub(super) const ALL: [Role; 7] = [
        Role::Admin,
        Role::ProductManager,
        Role::Architect,
        Role::Developer,
        Role::Tester,
        Role::Devops,
        Role::Viewer,
    ];

    /// Every role's name, in the seed's order (the spec's `Role` enum).
    pub(super) const NAMES: [&'static str; 7] = [
        "admin",
        "product_manager",
        "architect",
        "developer",
        "tester",
        "devops",
        "viewer",
    ];

    /// The wire name.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::ProductManager => "product_manager",
            Role::Architect => "architect",
            Role::Developer => "developer",
            Role::Tester => "tester",
            Role::Devops => "devops",
            Role::Viewer => "viewer",
        }
    }

    /// The role named `name`.
    pub(super) fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// The token `scope`: `read write admin`, `read write` or `read`.
    pub(super) fn scope(self) -> &'static str {
        match self {
            Role::Admin => "read write admin",
            Role::Viewer => "read",
            _ => "read write",
        }
    }
}

/// Who is calling: from a verified access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Caller {
    /// The user id (`sub`).
    pub(super) user_id: String,
    /// The account (`name`): `sandbox` for the client credentials, else the username. Rate
    /// limits and webhook subscriptions are per account.
    pub(super) account: String,
    /// The role.
    pub(super) role: Role,
}

/// Who may manage users (POST/PUT/DELETE /users).
pub(super) const USERS_WRITE: &[Role] = &[];
/// Who may create projects.
pub(super) const PROJECTS_WRITE: &[Role] = &[Role::ProductManager];
/// Who may create tasks and move their status.
pub(super) const TASKS_WRITE: &[Role] = &[
    Role::ProductManager,
    Role::Architect,
    Role::Developer,
    Role::Tester,
];
/// Who may activate agents: everyone but `viewer`.
pub(super) const AGENTS_RUN: &[Role] = &[
    Role::ProductManager,
    Role::Architect,
    Role::Developer,
    Role::Tester,
    Role::Devops,
];
/// Who may trigger pipelines.
pub(super) const PIPELINES_RUN: &[Role] = &[Role::Devops, Role::Developer];
/// Who may deploy and roll back.
pub(super) const DEPLOY: &[Role] = &[Role::Devops];
/// Who may run test suites.
pub(super) const TESTS_RUN: &[Role] = &[Role::Tester, Role::Developer, Role::Devops];
/// Who may create and delete webhooks.
pub(super) const WEBHOOKS_WRITE: &[Role] = &[Role::Devops];

impl Caller {
    /// Ok when the caller is `admin` or has one of `roles`; else 403 `FORBIDDEN` with
    /// `details.requiredRole` (when only admin may) or `details.requiredRoles`, and
    /// `details.currentRole`.
    pub(super) fn may(&self, roles: &[Role]) -> Result<(), ApiError> {
        if self.role == Role::Admin || roles.contains(&self.role) {
            return Ok(());
        }
        let current = json!(self.role.as_str());
        let refused = if roles.is_empty() {
            details([("requiredRole", json!("admin")), ("currentRole", current)])
        } else {
            let required: Vec<Value> = std::iter::once(Role::Admin)
                .chain(roles.iter().copied())
                .map(|r| json!(r.as_str()))
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
        assert_eq!(Role::parse("devops"), Some(Role::Devops));
        assert_eq!(
            Role::NAMES.map(|n| Role::parse(n).map(Role::as_str)),
            Role::NAMES.map(Some)
        );
    }
}
