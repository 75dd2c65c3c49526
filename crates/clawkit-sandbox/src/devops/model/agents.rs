//! AI agents (Agents): an activation on a task runs six steps over its job time, then has a
//! result. Every agent type has its own step names; the product agent's are the seed's (需求解析 …
//! 文档格式化) and it writes a PRD from `input.requirement`. Answers: the spec's
//! `AgentActivation`, `AgentProgress` and `AgentResult`.

use openclaw_devops_api::types::{
    AgentActivation, AgentLogEntry, AgentMetrics, AgentProgress, AgentResult, AgentStep, AgentType,
};
use serde_json::{Map, Value, json};

use super::wire::keeping;
use crate::kit::clock::utc_datetime;
use crate::kit::ids::hash_str;

/// Agent 类型, as the path names them.
pub(crate) const AGENT_TYPES: [&str; 8] = [
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
fn steps(agent_type: AgentType) -> [&'static str; 6] {
    match agent_type {
        AgentType::Product => [
            "需求解析",
            "用户故事生成",
            "功能拆解",
            "优先级排序",
            "生成验收标准",
            "文档格式化",
        ],
        AgentType::Architecture => [
            "需求分析",
            "技术选型",
            "架构设计",
            "接口定义",
            "风险评估",
            "文档输出",
        ],
        AgentType::Api => [
            "需求解析",
            "资源建模",
            "接口设计",
            "生成 OpenAPI 规范",
            "示例生成",
            "文档格式化",
        ],
        AgentType::Backend => [
            "需求解析",
            "代码生成",
            "单元测试",
            "静态检查",
            "代码评审",
            "提交合并请求",
        ],
        AgentType::Frontend => [
            "需求解析",
            "组件设计",
            "页面实现",
            "样式适配",
            "单元测试",
            "提交合并请求",
        ],
        AgentType::Test => [
            "需求解析",
            "用例设计",
            "脚本生成",
            "执行测试",
            "结果分析",
            "生成报告",
        ],
        AgentType::Devops => [
            "环境检查",
            "流水线配置",
            "镜像构建",
            "部署编排",
            "健康检查",
            "生成报告",
        ],
        AgentType::Qa => [
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
pub(crate) fn abbreviation(agent_type: AgentType) -> &'static str {
    match agent_type {
        AgentType::Product => "prod",
        AgentType::Architecture => "arch",
        AgentType::Api => "api",
        AgentType::Backend => "be",
        AgentType::Frontend => "fe",
        AgentType::Test => "test",
        AgentType::Devops => "ops",
        AgentType::Qa => "qa",
    }
}

/// A result given rather than computed (the seed's finished activation).
#[derive(Debug, Clone)]
pub(crate) struct FixedResult {
    /// `output`.
    pub(crate) output: Value,
    /// `metrics.executionTime`.
    pub(crate) execution_time: i64,
    /// `metrics.tokensUsed`.
    pub(crate) tokens_used: i64,
}

/// One activation of an agent.
#[derive(Debug, Clone)]
pub(crate) struct Activation {
    /// `act_…`.
    pub(crate) id: String,
    /// Its agent.
    pub(crate) agent_type: AgentType,
    /// The task it works on.
    pub(crate) task_id: String,
    /// `input`.
    pub(crate) input: Map<String, Value>,
    /// `config`.
    pub(crate) config: Map<String, Value>,
    /// `notifyOnComplete`: announce `agent.completed` to webhooks.
    pub(crate) notify: bool,
    /// Unix ms.
    pub(crate) started_ms: i64,
    /// Time from start to completion.
    pub(crate) job_ms: i64,
    /// The seed's result, for the seeded activation.
    pub(crate) fixed: Option<FixedResult>,
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

/// Whole seconds in `ms` milliseconds, rounded up (a started second counts).
fn ceil_secs(ms: i64) -> i64 {
    (ms.max(0) + 999) / 1000
}

impl Activation {
    /// Whether it has finished at `now`.
    pub(crate) fn completed(&self, now: i64) -> bool {
        now >= self.started_ms + self.job_ms
    }

    /// When it finishes.
    pub(crate) fn completed_ms(&self) -> i64 {
        self.started_ms + self.job_ms
    }

    fn input_text(&self, name: &str) -> Option<&str> {
        self.input.get(name).and_then(Value::as_str)
    }

    fn requirement(&self) -> (String, Vec<String>) {
        read_requirement(self.input_text("requirement").unwrap_or_default())
    }

    fn user_stories(&self) -> Vec<String> {
        let (module, features) = self.requirement();
        features
            .iter()
            .map(|f| format!("作为用户,我希望使用{f},以便更方便地访问{module}"))
            .collect()
    }

    /// The 202 answer of `POST /agents/{agentType}/activate`.
    pub(crate) fn accepted(&self) -> AgentActivation {
        AgentActivation {
            activation_id: self.id.clone(),
            agent_type: self.agent_type,
            task_id: self.task_id.clone(),
            status: "processing".into(),
            estimated_completion_time: Some(utc_datetime(self.completed_ms())),
            progress_url: Some(format!("/agents/activations/{}/progress", self.id)),
        }
    }

    /// Where step `i` starts and ends, in ms after the start.
    fn step_span(&self, i: usize) -> (i64, i64) {
        (self.job_ms * i as i64 / 6, self.job_ms * (i as i64 + 1) / 6)
    }

    /// The message logged when step `i` starts (`finished` false) or finishes.
    fn log_message(&self, i: usize, finished: bool) -> String {
        let name = steps(self.agent_type)[i];
        match (self.agent_type, i, finished) {
            (AgentType::Product, 0, false) => "开始需求分析".into(),
            (AgentType::Product, 1, true) => {
                format!("已生成 {} 个用户故事", self.user_stories().len())
            }
            (_, _, false) => format!("开始{name}"),
            (_, _, true) => format!("{name}完成"),
        }
    }

    /// A line of its log, at `offset_ms` after the start.
    fn log(&self, offset_ms: i64, i: usize, finished: bool) -> AgentLogEntry {
        AgentLogEntry {
            timestamp: utc_datetime(self.started_ms + offset_ms),
            level: "info".into(),
            message: self.log_message(i, finished),
        }
    }

    /// `AgentProgress` at `now`.
    pub(crate) fn progress(&self, now: i64) -> AgentProgress {
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
                current = Some(name.to_string());
                let span = (to - from).max(1);
                ("in_progress", (elapsed - from) * 100 / span)
            } else {
                ("pending", 0)
            };
            step_list.push(AgentStep {
                name: name.to_string(),
                status: status.into(),
                progress: Some(progress),
            });
            if status != "pending" {
                logs.push(self.log(from, i, false));
            }
            if status == "completed" {
                logs.push(self.log(to, i, true));
            }
        }
        let mut intermediate = Map::new();
        if self.agent_type == AgentType::Product {
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
        AgentProgress {
            activation_id: self.id.clone(),
            agent_type: self.agent_type,
            status: if done { "completed" } else { "processing" }.into(),
            progress: if done {
                100
            } else {
                elapsed * 100 / self.job_ms.max(1)
            },
            current_step: current,
            steps: step_list,
            intermediate_results: intermediate,
            logs,
        }
    }

    /// `AgentProgress` at `now` as JSON (its lists and `intermediateResults` even when empty).
    pub(crate) fn progress_json(&self, now: i64) -> Value {
        keeping(
            &self.progress(now),
            &[
                ("steps", json!([])),
                ("intermediateResults", json!({})),
                ("logs", json!([])),
            ],
        )
    }

    /// The agent's output, computed from its input.
    fn output(&self) -> Value {
        let (module, features) = self.requirement();
        let attachment = |name: &str, file: &str| json!({"name": name, "url": format!("https://cdn.example.com/outputs/{}/{file}", self.id)});
        let context = self
            .input_text("context")
            .map(|c| format!("\n\n背景:{c}"))
            .unwrap_or_default();
        let bullet = |items: &[String]| {
            items
                .iter()
                .map(|i| format!("- {i}"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        if self.agent_type == AgentType::Product {
            let stories = self.user_stories();
            let criteria: Vec<String> = features
                .iter()
                .map(|f| format!("{f}:输入有效信息后 2 秒内完成,失败时给出明确提示"))
                .collect();
            let requirement = self.input_text("requirement").unwrap_or("");
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
            let kind = self.agent_type;
            let names: Vec<String> = steps(kind).iter().map(|s| format!("{s}:完成")).collect();
            json!({
                "document": format!("# {module} — {kind} agent 输出{context}\n\n## 执行步骤\n{}\n\n## 涉及功能\n{}\n", bullet(&names), bullet(&features)),
                "summary": format!("{kind} agent 已完成 {module} 的处理,共 {} 项功能", features.len()),
                "attachments": [attachment(&format!("{kind}-report.md"), "report.md")],
            })
        }
    }

    /// `AgentResult` at `now`: only the status while it is still processing.
    pub(crate) fn result(&self, now: i64, seed: u64) -> AgentResult {
        if !self.completed(now) {
            return AgentResult {
                activation_id: self.id.clone(),
                status: "processing".into(),
                output: Map::new(),
                metrics: None,
                completed_at: None,
            };
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
        AgentResult {
            activation_id: self.id.clone(),
            status: "completed".into(),
            output: match output {
                Value::Object(map) => map,
                _ => Map::new(),
            },
            metrics: Some(AgentMetrics {
                execution_time: Some(execution_time),
                tokens_used: Some(tokens_used),
                model: Some(model.to_string()),
            }),
            completed_at: Some(utc_datetime(self.completed_ms())),
        }
    }
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
            agent_type: AgentType::Product,
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
        let result = |now| serde_json::to_value(a.result(now, 1)).unwrap_or_default();
        assert_eq!(result(5_999)["status"], "processing");
        assert_eq!(result(6_000)["metrics"]["executionTime"], 6);
        // Before the second step is done, the product agent has no intermediate results yet.
        assert_eq!(a.progress_json(100)["intermediateResults"], json!({}));
    }
}
