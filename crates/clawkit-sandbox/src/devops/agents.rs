//! AI agents (Agents API): activating an agent on a task, its progress through six steps over
//! the configured job time, and its result. Every agent type has its own step names; the product
//! agent's are the seed's (需求解析 … 文档格式化) and it writes a PRD from `input.requirement`.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::Devops;
use super::envelope::{ApiError, json_answer};
use super::rbac::{AGENTS_RUN, Caller};
use super::request::{PathId, body, finish};
use crate::kit::clock::{code, unix_millis, utc};
use crate::kit::ids::hash_str;

/// Agent 类型.
pub(super) const AGENT_TYPES: [&str; 8] = [
    "product",
    "architecture",
    "api",
    "backend",
    "frontend",
    "test",
    "devops",
    "qa",
];

/// The six steps of an agent type.
fn steps(agent_type: &str) -> [&'static str; 6] {
    match agent_type {
        "product" => [
            "需求解析",
            "用户故事生成",
            "功能拆解",
            "优先级排序",
            "生成验收标准",
            "文档格式化",
        ],
        "architecture" => [
            "需求分析",
            "技术选型",
            "架构设计",
            "接口定义",
            "风险评估",
            "文档输出",
        ],
        "api" => [
            "需求解析",
            "资源建模",
            "接口设计",
            "生成 OpenAPI 规范",
            "示例生成",
            "文档格式化",
        ],
        "backend" => [
            "需求解析",
            "代码生成",
            "单元测试",
            "静态检查",
            "代码评审",
            "提交合并请求",
        ],
        "frontend" => [
            "需求解析",
            "组件设计",
            "页面实现",
            "样式适配",
            "单元测试",
            "提交合并请求",
        ],
        "test" => [
            "需求解析",
            "用例设计",
            "脚本生成",
            "执行测试",
            "结果分析",
            "生成报告",
        ],
        "devops" => [
            "环境检查",
            "流水线配置",
            "镜像构建",
            "部署编排",
            "健康检查",
            "生成报告",
        ],
        _ => [
            "需求解析",
            "代码审查",
            "质量度量",
            "安全扫描",
            "问题汇总",
            "生成报告",
        ],
    }
}

/// The id prefix of an agent type (`act_prod…` for product).
fn abbreviation(agent_type: &str) -> &'static str {
    match agent_type {
        "product" => "prod",
        "architecture" => "arch",
        "api" => "api",
        "backend" => "be",
        "frontend" => "fe",
        "test" => "test",
        "devops" => "ops",
        _ => "qa",
    }
}

/// Whole seconds in `ms` milliseconds, rounded up (a started second counts).
fn ceil_secs(ms: i64) -> i64 {
    (ms.max(0) + 999) / 1000
}

/// A result given rather than computed (the seed's finished activation).
#[derive(Debug, Clone)]
pub(super) struct FixedResult {
    /// `output`.
    pub(super) output: Value,
    /// `metrics.executionTime`.
    pub(super) execution_time: i64,
    /// `metrics.tokensUsed`.
    pub(super) tokens_used: i64,
}

/// One activation of an agent.
#[derive(Debug, Clone)]
pub(super) struct Activation {
    /// `act_…`.
    pub(super) id: String,
    /// One of [`AGENT_TYPES`].
    pub(super) agent_type: &'static str,
    /// The task it works on.
    pub(super) task_id: String,
    /// `input`.
    pub(super) input: Map<String, Value>,
    /// `config`.
    pub(super) config: Map<String, Value>,
    /// `notifyOnComplete`: announce `agent.completed` to webhooks.
    pub(super) notify: bool,
    /// Unix ms.
    pub(super) started_ms: i64,
    /// Time from start to completion.
    pub(super) job_ms: i64,
    /// The seed's result, for the seeded activation.
    pub(super) fixed: Option<FixedResult>,
}

/// What a requirement text asks for: the module (before `支持`) and the features (after it,
/// split at 、 and commas).
fn read_requirement(text: &str) -> (String, Vec<String>) {
    let (head, tail) = match text.rfind("支持") {
        Some(at) => (&text[..at], &text[at + "支持".len()..]),
        None => (text, text),
    };
    let module = head
        .split([',', ',', '。', ';', ';'])
        .map(str::trim)
        .find(|s| !s.is_empty())
        .map(|s| s.trim_start_matches("实现").trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "需求".to_string());
    let mut features: Vec<String> = tail
        .split(['、', ',', ',', ';', ';', '。'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .take(8)
        .map(str::to_string)
        .collect();
    if features.is_empty() {
        features.push("核心功能".into());
    }
    (module, features)
}

impl Activation {
    /// Whether it has finished at `now`.
    pub(super) fn completed(&self, now: i64) -> bool {
        now >= self.started_ms + self.job_ms
    }

    fn completed_ms(&self) -> i64 {
        self.started_ms + self.job_ms
    }

    fn requirement(&self) -> (String, Vec<String>) {
        let text = self
            .input
            .get("requirement")
            .and_then(Value::as_str)
            .unwrap_or_default();
        read_requirement(text)
    }

    fn user_stories(&self) -> Vec<String> {
        let (module, features) = self.requirement();
        features
            .iter()
            .map(|f| format!("作为用户,我希望使用{f},以便更方便地访问{module}"))
            .collect()
    }

    /// The 202 answer of `POST /agents/{agentType}/activate`.
    fn accepted_json(&self) -> Value {
        json!({
            "activationId": self.id,
            "agentType": self.agent_type,
            "taskId": self.task_id,
            "status": "processing",
            "estimatedCompletionTime": utc(self.completed_ms()),
            "progressUrl": format!("/agents/activations/{}/progress", self.id),
        })
    }

    /// Where step `i` starts and ends, in ms after the start.
    fn step_span(&self, i: usize) -> (i64, i64) {
        (self.job_ms * i as i64 / 6, self.job_ms * (i as i64 + 1) / 6)
    }

    /// The message logged when step `i` starts (`finished` false) or finishes.
    fn log_message(&self, i: usize, finished: bool) -> String {
        let name = steps(self.agent_type)[i];
        match (self.agent_type, i, finished) {
            ("product", 0, false) => "开始需求分析".into(),
            ("product", 1, true) => format!("已生成 {} 个用户故事", self.user_stories().len()),
            (_, _, false) => format!("开始{name}"),
            (_, _, true) => format!("{name}完成"),
        }
    }

    /// `AgentProgress` at `now`.
    fn progress_json(&self, now: i64) -> Value {
        let elapsed = (now - self.started_ms).clamp(0, self.job_ms);
        let done = self.completed(now);
        let names = steps(self.agent_type);
        let mut current = None;
        let mut step_list = Vec::new();
        let mut logs = Vec::new();
        let mut finished_steps = 0;
        for (i, name) in names.iter().enumerate() {
            let (from, to) = self.step_span(i);
            let (status, progress) = if done || elapsed >= to {
                finished_steps += 1;
                ("completed", 100)
            } else if elapsed >= from {
                current = Some(*name);
                let span = (to - from).max(1);
                ("in_progress", (elapsed - from) * 100 / span)
            } else {
                ("pending", 0)
            };
            step_list.push(json!({"name": name, "status": status, "progress": progress}));
            if status != "pending" {
                logs.push(json!({"timestamp": utc(self.started_ms + from), "level": "info", "message": self.log_message(i, false)}));
            }
            if status == "completed" {
                logs.push(json!({"timestamp": utc(self.started_ms + to), "level": "info", "message": self.log_message(i, true)}));
            }
        }
        let progress = if done {
            100
        } else {
            elapsed * 100 / self.job_ms.max(1)
        };
        let mut intermediate = Map::new();
        if self.agent_type == "product" {
            if finished_steps >= 2 {
                intermediate.insert("userStories".into(), json!(self.user_stories()));
            }
            if finished_steps >= 3 {
                intermediate.insert("featureList".into(), json!(self.requirement().1));
            }
        } else {
            intermediate.insert(
                "completedSteps".into(),
                json!(names[..finished_steps].to_vec()),
            );
        }
        let mut out = json!({
            "activationId": self.id,
            "agentType": self.agent_type,
            "status": if done { "completed" } else { "processing" },
            "progress": progress,
        });
        if let Some(step) = current {
            out["currentStep"] = json!(step);
        }
        out["steps"] = Value::Array(step_list);
        out["intermediateResults"] = Value::Object(intermediate);
        out["logs"] = Value::Array(logs);
        out
    }

    /// The agent's output, computed from its input.
    fn output(&self) -> Value {
        let (module, features) = self.requirement();
        let attachment = |name: &str, file: &str| json!({"name": name, "url": format!("https://cdn.example.com/outputs/{}/{file}", self.id)});
        let context = self
            .input
            .get("context")
            .and_then(Value::as_str)
            .map(|c| format!("\n\n背景:{c}"))
            .unwrap_or_default();
        let bullet = |items: &[String]| {
            items
                .iter()
                .map(|i| format!("- {i}"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        if self.agent_type == "product" {
            let stories = self.user_stories();
            let criteria: Vec<String> = features
                .iter()
                .map(|f| format!("{f}:输入有效信息后 2 秒内完成,失败时给出明确提示"))
                .collect();
            let requirement = self
                .input
                .get("requirement")
                .and_then(Value::as_str)
                .unwrap_or("");
            let prd = format!(
                "# {module} PRD\n\n## 1. 产品概述\n{requirement}{context}\n\n## 2. 功能列表\n{}\n\n## 3. 用户故事\n{}\n\n## 4. 验收标准\n{}\n",
                bullet(&features),
                bullet(&stories),
                bullet(&criteria)
            );
            json!({
                "prdDocument": prd,
                "userStories": stories,
                "acceptanceCriteria": criteria,
                "attachments": [attachment("user-story-map.png", "story-map.png")],
            })
        } else {
            let names: Vec<String> = steps(self.agent_type)
                .iter()
                .map(|s| format!("{s}:完成"))
                .collect();
            json!({
                "document": format!("# {module} — {} agent 输出{context}\n\n## 执行步骤\n{}\n\n## 涉及功能\n{}\n", self.agent_type, bullet(&names), bullet(&features)),
                "summary": format!("{} agent 已完成 {} 的处理,共 {} 项功能", self.agent_type, module, features.len()),
                "attachments": [attachment(&format!("{}-report.md", self.agent_type), "report.md")],
            })
        }
    }

    /// `AgentResult` at `now`: only the status while it is still processing.
    pub(super) fn result_json(&self, now: i64, seed: u64) -> Value {
        if !self.completed(now) {
            return json!({"activationId": self.id, "status": "processing"});
        }
        let (output, execution_time, tokens_used) = match &self.fixed {
            Some(f) => (f.output.clone(), f.execution_time, f.tokens_used),
            None => (
                self.output(),
                ceil_secs(self.job_ms),
                5_000 + (hash_str(seed, &self.id) % 20_000) as i64,
            ),
        };
        let model = self
            .config
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or("claude-sonnet-4");
        json!({
            "activationId": self.id,
            "status": "completed",
            "output": output,
            "metrics": {"executionTime": execution_time, "tokensUsed": tokens_used, "model": model},
            "completedAt": utc(self.completed_ms()),
        })
    }
}

/// `POST /agents/{agentType}/activate`: 202 `AgentActivation`.
pub(super) async fn activate(
    State(d): State<Arc<Devops>>,
    Extension(caller): Extension<Caller>,
    PathId(agent_type): PathId,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    caller.may(AGENTS_RUN)?;
    let Some(agent_type) = AGENT_TYPES.iter().find(|t| **t == agent_type) else {
        return Err(ApiError::parameter(
            "agentType",
            format!("取值无效,应为 {} 之一", AGENT_TYPES.join(", ")),
        ));
    };
    let mut body = body(&bytes)?;
    let task_id = body.string("taskId", true);
    let input = body.object("input", true);
    let config = body.object("config", false);
    let notify = body.boolean("notifyOnComplete").unwrap_or(true);
    finish(body)?;
    let (Some(task_id), Some(input)) = (task_id, input) else {
        return Err(ApiError::body("缺少必填字段"));
    };
    let activation = {
        let mut inner = d.lock();
        if !inner.tasks.iter().any(|t| t.id == task_id) {
            return Err(ApiError::not_found("task", &task_id));
        }
        let now = unix_millis();
        let prefix = format!("act_{}{}", abbreviation(agent_type), code(now, 0, "%Y%m%d"));
        let mut n = 1 + inner
            .activations
            .iter()
            .filter(|a| a.id.starts_with(&prefix))
            .count();
        while inner
            .activations
            .iter()
            .any(|a| a.id == format!("{prefix}{n:02}"))
        {
            n += 1;
        }
        let activation = Activation {
            id: format!("{prefix}{n:02}"),
            agent_type,
            task_id,
            input,
            config: config.unwrap_or_default(),
            notify,
            started_ms: now,
            job_ms: d.job_ms(),
            fixed: None,
        };
        inner.activations.push(activation.clone());
        activation
    };
    if activation.notify {
        let id = activation.id.clone();
        d.at(activation.completed_ms(), move |d, now| {
            let inner = d.lock();
            let a = inner.activations.iter().find(|a| a.id == id)?;
            Some(("agent.completed", a.result_json(now, d.config.seed)))
        });
    }
    Ok(json_answer(
        StatusCode::ACCEPTED,
        activation.accepted_json(),
    ))
}

/// The activation `id`, or 404.
fn find(d: &Devops, id: &str) -> Result<Activation, ApiError> {
    d.lock()
        .activations
        .iter()
        .find(|a| a.id == id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("activation", id))
}

/// `GET /agents/activations/{activationId}/progress`.
pub(super) async fn progress(
    State(d): State<Arc<Devops>>,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    let activation = find(&d, &id)?;
    Ok(axum::Json(activation.progress_json(unix_millis())).into_response())
}

/// `GET /agents/activations/{activationId}/result`.
pub(super) async fn result(
    State(d): State<Arc<Devops>>,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    let activation = find(&d, &id)?;
    Ok(axum::Json(activation.result_json(unix_millis(), d.config.seed)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeds_requirement_reads_as_a_module_and_three_features() {
        let (module, features) =
            read_requirement("实现用户中心模块,支持手机号登录、邮箱登录、第三方登录");
        assert_eq!(module, "用户中心模块");
        assert_eq!(features, ["手机号登录", "邮箱登录", "第三方登录"]);
        assert_eq!(read_requirement("").1, ["核心功能"]);
        assert_eq!((ceil_secs(1001), ceil_secs(6_000)), (2, 6));
    }

    #[test]
    fn progress_walks_the_six_steps() {
        let a = Activation {
            id: "act_prod2026031499".into(),
            agent_type: "product",
            task_id: "task_ecom001".into(),
            input: Map::new(),
            config: Map::new(),
            notify: true,
            started_ms: 0,
            job_ms: 6_000,
            fixed: None,
        };
        let p = a.progress_json(4_500);
        assert_eq!(p["status"], "processing");
        assert_eq!(p["progress"], 75);
        assert_eq!(p["currentStep"], "生成验收标准");
        assert_eq!(
            p["steps"][4],
            json!({"name": "生成验收标准", "status": "in_progress", "progress": 50})
        );
        assert_eq!(p["steps"][5]["status"], "pending");
        assert_eq!(p["logs"][0]["message"], "开始需求分析");
        assert_eq!(p["logs"].as_array().map(Vec::len), Some(9));
        let done = a.progress_json(6_000);
        assert_eq!(
            (done["status"].as_str(), done["progress"].as_i64()),
            (Some("completed"), Some(100))
        );
        assert!(done.get("currentStep").is_none());
        assert_eq!(a.result_json(5_999, 1)["status"], "processing");
        assert_eq!(a.result_json(6_000, 1)["metrics"]["executionTime"], 6);
    }
}
