//! Seed data: the resources at start, every object the seed and the spec's examples name (so
//! their curl examples work as written), the seven role users, and generated users up to the
//! configured count (deterministic from the sandbox seed).

use openclaw_devops_api::types::{
    AgentType, DeploymentStrategy, ProjectMemberRole, ProjectVisibility, Role, TaskPriority,
    TaskType, UserStatus, WebhookEventType,
};
use serde_json::{Map, Value, json};

use super::model::agents::{Activation, FixedResult};
use super::model::builds::{Build, Pipeline};
use super::model::deployments::Deployment;
use super::model::projects::{Project, Task};
use super::model::test_runs::{Failure, Suite, TestRun};
use super::model::users::{USER_PASSWORD, User};
use super::model::webhooks::Webhook;
use super::rbac::ROLES;
use super::state::{Config, Inner};
use crate::kit::clock;
use crate::kit::ids::{hash_str, mix};

/// Unix ms of a UTC date and time.
fn at(year: i32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> i64 {
    clock::at(0, (year, month, day), (hour, minute, second))
}

/// 张三, the seed's developer.
const ZHANGSAN: &str = "usr_abc123def456";
/// 李四, the seed's product manager.
const LISI: &str = "usr_xyz789ghi012";

/// Everything at start.
pub(crate) fn resources(config: &Config) -> Inner {
    Inner {
        users: users(config),
        projects: vec![ecom_project()],
        tasks: vec![ecom_task()],
        activations: vec![product_activation()],
        pipelines: vec![
            Pipeline {
                id: "pipe_ecom_main".into(),
                fails_tests: false,
            },
            Pipeline {
                id: "pipe_ecom_flaky".into(),
                fails_tests: true,
            },
        ],
        builds: vec![seed_build()],
        deployments: vec![seed_deployment()],
        suites: suites(),
        runs: vec![seed_run()],
        webhooks: vec![Webhook {
            id: "wh_20260314_0001".into(),
            url: "https://hooks.example.com/openclaw/events".into(),
            events: vec![
                WebhookEventType::BuildCompleted,
                WebhookEventType::DeploymentSuccess,
            ],
            secret: None,
            active: true,
            created_ms: at(2026, 3, 14, 12, 20, 0),
        }],
        ..Inner::default()
    }
}

/// A user with the seeded password.
#[allow(clippy::too_many_arguments)]
fn user(
    id: &str,
    username: &str,
    full_name: &str,
    role: Role,
    status: UserStatus,
    department: &str,
    created_ms: i64,
    last_login_ms: Option<i64>,
    avatar: bool,
) -> User {
    User {
        id: id.to_string(),
        username: username.to_string(),
        email: format!("{username}@example.com"),
        full_name: full_name.to_string(),
        role,
        status,
        avatar: avatar.then(|| format!("https://cdn.example.com/avatars/{id}.jpg")),
        department: Some(department.to_string()),
        created_ms,
        last_login_ms,
        password: USER_PASSWORD.to_string(),
        deleted: false,
    }
}

/// Surnames with their pinyin.
const SURNAMES: [(&str, &str); 20] = [
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("赵", "zhao"),
    ("黄", "huang"),
    ("周", "zhou"),
    ("吴", "wu"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("胡", "hu"),
    ("朱", "zhu"),
    ("高", "gao"),
    ("林", "lin"),
    ("何", "he"),
    ("郭", "guo"),
    ("马", "ma"),
    ("罗", "luo"),
];

/// Given names with their pinyin.
const GIVEN: [(&str, &str); 24] = [
    ("伟", "wei"),
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽", "li"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("艳", "yan"),
    ("杰", "jie"),
    ("娟", "juan"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("秀英", "xiuying"),
    ("霞", "xia"),
    ("平", "ping"),
    ("刚", "gang"),
    ("桂英", "guiying"),
    ("浩", "hao"),
    ("婷", "ting"),
];

/// Departments (the seed's three first).
const DEPARTMENTS: [&str; 8] = [
    "研发中心",
    "产品部",
    "质量保障部",
    "架构组",
    "运维部",
    "审计部",
    "信息技术部",
    "数据平台部",
];

/// A role's usual department.
fn department_of(role: Role) -> &'static str {
    match role {
        Role::Developer => "研发中心",
        Role::ProductManager => "产品部",
        Role::Tester => "质量保障部",
        Role::Architect => "架构组",
        Role::Devops => "运维部",
        Role::Viewer => "审计部",
        Role::Admin => "信息技术部",
    }
}

/// The seed's two users, the role users and generated users: `config.users` in all (at least
/// the nine named ones).
fn users(config: &Config) -> Vec<User> {
    let mut out = vec![
        user(
            ZHANGSAN,
            "zhangsan",
            "张三",
            Role::Developer,
            UserStatus::Active,
            "研发中心",
            at(2026, 1, 15, 8, 30, 0),
            Some(at(2026, 3, 14, 9, 15, 0)),
            true,
        ),
        user(
            LISI,
            "lisi",
            "李四",
            Role::ProductManager,
            UserStatus::Active,
            "产品部",
            at(2026, 2, 1, 10, 0, 0),
            Some(at(2026, 3, 13, 18, 45, 0)),
            true,
        ),
    ];
    let role_names = [
        "系统管理员",
        "产品经理",
        "架构师",
        "开发工程师",
        "测试工程师",
        "DevOps 工程师",
        "观察员",
    ];
    for (i, (role, name)) in ROLES.iter().zip(role_names).enumerate() {
        out.push(user(
            &format!("usr_role_{role}"),
            &role.to_string(),
            name,
            *role,
            UserStatus::Active,
            department_of(*role),
            at(2025, 6, 1, 9, 0, 0) + i as i64 * 60_000,
            None,
            false,
        ));
    }
    let generated = config.users.saturating_sub(out.len());
    let first = at(2024, 3, 1, 0, 0, 0);
    let last = at(2026, 1, 10, 0, 0, 0);
    let step = (last - first) / generated.max(1) as i64;
    let seen_login = at(2026, 3, 14, 0, 0, 0);
    for i in 0..generated {
        let h = mix(hash_str(config.seed, "devops-user") ^ mix(i as u64));
        let (surname, sp) = SURNAMES[(h % 20) as usize];
        let (given, gp) = GIVEN[((h >> 8) % 24) as usize];
        let role = match (h >> 16) % 100 {
            0..35 => Role::Developer,
            35..50 => Role::Tester,
            50..62 => Role::ProductManager,
            62..72 => Role::Architect,
            72..82 => Role::Devops,
            82..94 => Role::Viewer,
            _ => Role::Admin,
        };
        let status = match (h >> 24) % 100 {
            0..80 => UserStatus::Active,
            80..88 => UserStatus::Inactive,
            88..95 => UserStatus::Suspended,
            _ => UserStatus::PendingVerification,
        };
        let department = if (h >> 32).is_multiple_of(5) {
            DEPARTMENTS[((h >> 36) % 8) as usize]
        } else {
            department_of(role)
        };
        // Strictly increasing: each user in its own slot, jittered within its first half.
        let created =
            first + i as i64 * step + ((h >> 40) as i64 % (step / 2).max(1)) / 1000 * 1000;
        let last_login = (status != UserStatus::PendingVerification
            && !(h >> 48).is_multiple_of(10))
        .then(|| created + (mix(h) as i64).rem_euclid((seen_login - created).max(1)) / 1000 * 1000);
        let mut id = format!("usr_{:012x}", mix(h ^ 0x5eed) & 0xffff_ffff_ffff);
        while out.iter().any(|u| u.id == id) {
            id = format!("usr_{:012x}", mix(hash_str(h, &id)) & 0xffff_ffff_ffff);
        }
        out.push(user(
            &id,
            &format!("{sp}{gp}{:03}", i + 1),
            &format!("{surname}{given}"),
            role,
            status,
            department,
            created,
            last_login,
            (h >> 52) % 10 < 7,
        ));
    }
    out
}

/// The seed's project ECOM (its create example).
fn ecom_project() -> Project {
    Project {
        id: "prj_ecom2026031401".into(),
        name: "电商后台管理系统".into(),
        key: "ECOM".into(),
        description: Some("新一代电商后台管理平台".into()),
        owner_id: ZHANGSAN.into(),
        status: "active".into(),
        visibility: ProjectVisibility::Internal,
        members: vec![
            (ZHANGSAN.into(), ProjectMemberRole::Owner),
            (LISI.into(), ProjectMemberRole::Member),
        ],
        created_ms: at(2026, 3, 14, 11, 0, 0),
        next_task: 2,
    }
}

/// The seed's task ECOM-1.
fn ecom_task() -> Task {
    let created = at(2026, 3, 14, 11, 30, 0);
    Task {
        id: "task_ecom001".into(),
        key: "ECOM-1".into(),
        project_id: "prj_ecom2026031401".into(),
        kind: TaskType::Story,
        title: "用户登录功能实现".into(),
        description: Some("实现基于 JWT 的用户登录认证功能".into()),
        status: 0,
        assignee_id: Some(ZHANGSAN.into()),
        reporter_id: LISI.into(),
        priority: TaskPriority::High,
        story_points: Some(5.into()),
        parent_task_id: None,
        labels: vec!["backend".into(), "authentication".into()],
        created_ms: created,
        updated_ms: created,
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The seed's product-agent activation, finished at 11:52 with the seed's result.
fn product_activation() -> Activation {
    let started = at(2026, 3, 14, 11, 35, 0);
    Activation {
        id: "act_prod2026031401".into(),
        agent_type: AgentType::Product,
        task_id: "task_ecom001".into(),
        input: object(json!({
            "requirement": "实现用户中心模块,支持手机号登录、邮箱登录、第三方登录",
            "context": "电商后台管理系统 v1.0",
        })),
        config: object(
            json!({"model": "claude-sonnet-4", "temperature": 0.7, "outputFormat": "markdown"}),
        ),
        notify: true,
        started_ms: started,
        job_ms: at(2026, 3, 14, 11, 52, 0) - started,
        fixed: Some(FixedResult {
            output: json!({
                "prdDocument": "# 用户中心模块 PRD\n\n## 1. 产品概述\n...",
                "userStories": [
                    "作为用户,我希望使用手机号和验证码登录,以便无需记住密码",
                    "作为用户,我希望绑定微信账号登录,以便一键进入系统",
                ],
                "acceptanceCriteria": [
                    "输入正确的手机号和验证码后 2 秒内完成登录",
                    "验证码 5 分钟内有效,连续输错 5 次锁定 15 分钟",
                ],
                "attachments": [{
                    "name": "user-story-map.png",
                    "url": "https://cdn.example.com/outputs/act_prod2026031401/story-map.png",
                }],
            }),
            execution_time: 1847,
            tokens_used: 15234,
        }),
    }
}

/// The seed's build `build_20260314_120501` of `pipe_ecom_main`, triggered by 张三 at 12:05:01 and
/// finished `success` at 12:15:29 (the webhook example's time).
fn seed_build() -> Build {
    Build {
        id: "build_20260314_120501".into(),
        pipeline_id: "pipe_ecom_main".into(),
        triggered_by: ZHANGSAN.into(),
        triggered_ms: at(2026, 3, 14, 12, 5, 1),
        queued_for_ms: 119_000,
        stage_ms: [15_000, 180_000, 240_000, 74_000],
        skip_tests: false,
        fails: false,
        artifact_size: 45_678_912,
    }
}

/// The spec's production deployment of 1.4.0, succeeded.
fn seed_deployment() -> Deployment {
    Deployment {
        id: "dep_20260314_130001".into(),
        application_id: "app_ecom_backend".into(),
        environment: "prod".into(),
        version: "1.4.0".into(),
        previous_version: Some("1.3.2".into()),
        strategy: DeploymentStrategy::Canary,
        approvals: vec![ZHANGSAN.into(), LISI.into()],
        created_by: ZHANGSAN.into(),
        created_ms: at(2026, 3, 14, 13, 0, 1),
        rollback_of: None,
        reason: None,
        approval_ms: 60_000,
        queue_ms: 30_000,
        rollout_ms: 240_000,
    }
}

/// The login end-to-end suite (ends failed, like the spec's report) and a smoke suite (passes).
fn suites() -> Vec<Suite> {
    vec![
        Suite {
            id: "suite_ecom_login_e2e".into(),
            total: 48,
            skipped: vec![30],
            failures: vec![
                Failure {
                    name: "手机号登录 - 验证码过期后提示重新获取",
                    at: 17,
                    duration_ms: 8421,
                    message: "expect(locator).toHaveText: 未找到提示文案 \"验证码已过期\"",
                },
                Failure {
                    name: "第三方登录 - 微信授权回调",
                    at: 40,
                    duration_ms: 30_000,
                    message: "Timeout 30000ms exceeded",
                },
            ],
        },
        Suite {
            id: "suite_ecom_smoke".into(),
            total: 12,
            skipped: Vec::new(),
            failures: Vec::new(),
        },
    ]
}

/// The spec's finished run of the login suite.
fn seed_run() -> TestRun {
    let queued = at(2026, 3, 14, 14, 0, 0);
    TestRun {
        id: "run_20260314_140000".into(),
        suite: suites().swap_remove(0),
        environment: Some("staging".into()),
        browsers: vec!["chromium".into(), "firefox".into()],
        parallel: 4,
        triggered_by: ZHANGSAN.into(),
        queued_ms: queued,
        queue_ms: 12_000,
        run_ms: 312_000,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_as_many_as_asked_distinct_and_deterministic() {
        let config = Config {
            users: 1_000,
            ..Config::default()
        };
        let a = users(&config);
        assert_eq!(a.len(), 1_000);
        let mut ids: Vec<&str> = a.iter().map(|u| u.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 1_000);
        let mut names: Vec<&str> = a.iter().map(|u| u.username.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 1_000);
        let mut created: Vec<i64> = a.iter().map(|u| u.created_ms).collect();
        created.sort_unstable();
        created.dedup();
        assert_eq!(created.len(), 1_000);
        assert!(a.iter().all(|u| (3..=20).contains(&u.username.len())));
        let b = users(&config);
        assert_eq!(a[500].id, b[500].id);
        assert_eq!(users(&Config::default()).len(), 156);
        assert_eq!(
            users(&Config {
                users: 3,
                ..Config::default()
            })
            .len(),
            9
        );
    }
}
