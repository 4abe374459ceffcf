//! The planner: a goal in words becomes a validated plan.
//!
//! The model answers under a JSON-schema constraint built from the catalog, so its output
//! always parses as a plan of the right shape:
//!
//! - step `i` has the fixed key `s{i+1}` and may depend only on earlier keys (`prefixItems`,
//!   one schema per position), so every plan the model can write is acyclic and refers to
//!   steps that exist;
//! - `tool` is one of the planner's tools (an `anyOf` branch per tool, each with that tool's
//!   input schema), `agent` one of the agents allowed to use it;
//! - free-form strings, arrays, objects and numbers get bounds, so generation always ends.
//!
//! The orchestrator then validates the plan as it validates any submitted plan (input schemas,
//! limits, templates). An invalid plan is retried with the problems in the prompt, up to
//! `max_attempts`; every prompt and raw answer is kept in the [`PlanningRecord`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use switchyard_orchestrator::{Catalog, Limits, Plan, validate};

use crate::plan_cache::{CacheStats, PlanCache, PlanCacheSettings, normalise};
use switchyard_inference::Host;
use switchyard_inference::InferenceError;
use switchyard_inference::{ChatMessage, ChatRequest, Finished, Piece, Usage};
use switchyard_protocol::api::runs::{PLANNING_ANSWER_CHARS, PlanningProgress, PlanningStage};

/// How the planner works.
#[derive(Debug, Clone)]
pub struct PlannerSettings {
    /// The model to plan with; `None`: the default model.
    pub model: Option<String>,
    /// Tools a plan may use (in catalog order when empty: every tool).
    pub tools: Vec<String>,
    /// The most steps in a plan.
    pub max_steps: usize,
    /// Tries before giving up.
    pub max_attempts: u32,
    /// Tokens for one answer.
    pub max_tokens: usize,
    /// The semantic plan cache; `None` turns it off.
    pub cache: Option<PlanCacheSettings>,
}

impl Default for PlannerSettings {
    fn default() -> Self {
        Self {
            model: None,
            tools: Vec::new(),
            max_steps: 8,
            max_attempts: 3,
            max_tokens: 1024,
            cache: Some(PlanCacheSettings::default()),
        }
    }
}

/// One try: what the model was asked and what it answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanAttempt {
    pub prompt: Vec<ChatMessage>,
    pub raw_output: String,
    /// Why the answer was refused; empty for the accepted one.
    pub problems: Vec<String>,
    pub usage: Option<Usage>,
}

/// How a goal was planned, stored with its run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanningRecord {
    pub goal: String,
    pub model: String,
    /// The model's tries; none when the plan came from the cache.
    pub attempts: Vec<PlanAttempt>,
    /// What the plan cache made of the goal (absent when the cache is off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<CacheUse>,
}

/// The goal as the cache saw it, and whether a cached plan was reused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheUse {
    pub template: String,
    pub params: Vec<(String, String)>,
    pub hit: bool,
    /// The cached template reused, and its similarity to this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f32>,
}

/// Why planning produced no plan.
#[derive(Debug, thiserror::Error)]
pub enum PlanningError {
    #[error(transparent)]
    Inference(#[from] InferenceError),
    #[error("no valid plan after {} attempts: {}", .record.attempts.len(), .problems.join("; "))]
    Invalid {
        /// The last attempt's problems.
        problems: Vec<String>,
        /// Boxed: it holds every prompt and answer, and errors travel by value.
        record: Box<PlanningRecord>,
    },
    #[error("{0}")]
    BadGoal(String),
}

pub use switchyard_protocol::api::runs::MAX_GOAL_CHARS;

/// Plans goals against one catalog. Cheap to clone; clones share the cache.
#[derive(Debug, Clone)]
pub struct Planner {
    host: Host,
    settings: PlannerSettings,
    cache: Option<std::sync::Arc<PlanCache>>,
}

impl Planner {
    pub fn new(host: Host, settings: PlannerSettings) -> Self {
        let cache = settings
            .cache
            .map(|c| std::sync::Arc::new(PlanCache::new(c)));
        Self {
            host,
            settings,
            cache,
        }
    }

    /// The model it plans with; `None`: the default model.
    pub fn model(&self) -> Option<&str> {
        self.settings.model.as_deref()
    }

    /// The plan cache's counters, when it is on.
    pub fn cache_stats(&self) -> Option<CacheStats> {
        self.cache.as_ref().map(|c| c.stats())
    }

    /// A plan for `goal` that passed validation, and how it was made.
    pub async fn plan(
        &self,
        goal: &str,
        catalog: &Catalog,
        limits: &Limits,
    ) -> Result<(Plan, PlanningRecord), PlanningError> {
        self.plan_reporting(goal, catalog, limits, &|_| {}).await
    }

    /// [`Self::plan`], telling `report` how it goes: the cache's answer, each try's answer
    /// as the model streams it, each check and why a try was refused. The last report's
    /// stage is [`PlanningStage::Planned`] or [`PlanningStage::Failed`] (a goal refused
    /// before planning starts, or a model that cannot answer, reports nothing).
    pub async fn plan_reporting(
        &self,
        goal: &str,
        catalog: &Catalog,
        limits: &Limits,
        report: &(dyn Fn(&PlanningProgress) + Send + Sync),
    ) -> Result<(Plan, PlanningRecord), PlanningError> {
        let goal = goal.trim();
        if goal.is_empty() || goal.chars().count() > MAX_GOAL_CHARS {
            return Err(PlanningError::BadGoal(format!(
                "goal must be 1 to {MAX_GOAL_CHARS} characters"
            )));
        }
        let tools = self.tools(catalog)?;
        let schema = plan_schema(
            catalog,
            &tools,
            self.settings.max_steps.min(limits.max_steps),
        );
        let model = self
            .host
            .model(self.settings.model.as_deref())?
            .spec
            .id
            .clone();
        let max_attempts = self.settings.max_attempts.max(1);
        let mut progress = PlanningProgress {
            stage: PlanningStage::Cache,
            model: model.clone(),
            cache_hit: None,
            similarity: None,
            attempt: 0,
            max_attempts,
            tokens: 0,
            answer: String::new(),
            refused: Vec::new(),
            error: None,
        };
        let mut record = PlanningRecord {
            goal: goal.to_owned(),
            model: model.clone(),
            attempts: Vec::new(),
            cache: None,
        };
        let normalised = normalise(goal);
        if let Some(cache) = &self.cache {
            report(&progress);
            let hit = cache.lookup(&normalised);
            let mut used = CacheUse {
                template: normalised.template.clone(),
                params: normalised.params.clone(),
                hit: false,
                matched: None,
                similarity: None,
            };
            // A cached plan is used only if it still validates (the catalog may have changed).
            if let Some(hit) = hit
                && let Ok(plan) = serde_json::from_value::<Plan>(hit.plan)
                && validate(plan.clone(), catalog, limits).is_ok()
            {
                used.hit = true;
                used.matched = Some(hit.matched);
                used.similarity = Some(hit.similarity);
                record.cache = Some(used);
                progress.cache_hit = Some(true);
                progress.similarity = Some(hit.similarity);
                progress.stage = PlanningStage::Planned;
                report(&progress);
                return Ok((plan, record));
            }
            record.cache = Some(used);
            progress.cache_hit = Some(false);
        }
        let mut problems: Vec<String> = Vec::new();
        for attempt in 1..=max_attempts {
            let prompt = prompt(goal, catalog, &tools, &problems);
            let request = ChatRequest {
                model: Some(model.clone()),
                messages: prompt.clone(),
                max_tokens: Some(self.settings.max_tokens.min(self.host.limits().max_tokens)),
                json_schema: Some(schema.clone()),
                ..ChatRequest::default()
            };
            progress.attempt = attempt;
            progress.tokens = 0;
            progress.answer.clear();
            progress.stage = PlanningStage::Writing;
            report(&progress);
            let (raw, finished) = match self.write(request, &mut progress, report).await {
                Ok(answer) => answer,
                Err(e) => {
                    progress.stage = PlanningStage::Failed;
                    progress.error = Some(e.to_string());
                    report(&progress);
                    return Err(e.into());
                }
            };
            progress.tokens = finished.usage.completion_tokens as u32;
            progress.stage = PlanningStage::Checking;
            report(&progress);
            problems = match parse(&raw) {
                Err(problem) => vec![problem],
                Ok(plan) => match validate(plan.clone(), catalog, limits) {
                    Ok(_) => {
                        if let Some(cache) = &self.cache
                            && let Ok(value) = serde_json::to_value(&plan)
                        {
                            cache.store(&normalised, &value);
                        }
                        record.attempts.push(PlanAttempt {
                            prompt,
                            raw_output: raw,
                            problems: Vec::new(),
                            usage: Some(finished.usage),
                        });
                        progress.stage = PlanningStage::Planned;
                        report(&progress);
                        return Ok((plan, record));
                    }
                    Err(found) => found.0.iter().map(ToString::to_string).collect(),
                },
            };
            progress.refused.push(problems.clone());
            record.attempts.push(PlanAttempt {
                prompt,
                raw_output: raw,
                problems: problems.clone(),
                usage: Some(finished.usage),
            });
        }
        progress.stage = PlanningStage::Failed;
        progress.error = Some(format!(
            "no valid plan in {} attempt(s): {}",
            record.attempts.len(),
            problems.join("; ")
        ));
        report(&progress);
        Err(PlanningError::Invalid {
            problems,
            record: Box::new(record),
        })
    }

    /// One try's whole answer, each piece reported as it streams in.
    async fn write(
        &self,
        request: ChatRequest,
        progress: &mut PlanningProgress,
        report: &(dyn Fn(&PlanningProgress) + Send + Sync),
    ) -> Result<(String, Finished), InferenceError> {
        let mut generation = self.host.chat(request).await?;
        let mut raw = String::new();
        while let Some(piece) = generation.next().await {
            match piece? {
                Piece::Text(text) => {
                    raw.push_str(&text);
                    progress.tokens += 1;
                    progress.answer = tail(&raw, PLANNING_ANSWER_CHARS);
                    report(progress);
                }
                Piece::Done(finished) => return Ok((raw, finished)),
            }
        }
        Err(InferenceError::Engine(
            "the engine stopped without finishing".into(),
        ))
    }

    fn tools<'c>(&self, catalog: &'c Catalog) -> Result<Vec<&'c str>, PlanningError> {
        if self.settings.tools.is_empty() {
            return Ok(catalog.tool_names());
        }
        self.settings
            .tools
            .iter()
            .map(|name| {
                catalog.tool(name).map(|t| t.name.as_str()).ok_or_else(|| {
                    PlanningError::BadGoal(format!(
                        "planner_tools names '{name}', which is not a registered tool"
                    ))
                })
            })
            .collect()
    }
}

/// The last `chars` characters of `text`.
fn tail(text: &str, chars: usize) -> String {
    let count = text.chars().count();
    text.chars().skip(count.saturating_sub(chars)).collect()
}

/// The key of step `i` (from 0) in a planned plan.
fn key(i: usize) -> String {
    format!("s{}", i + 1)
}

/// The constraint: `{"steps": [...]}` with one schema per position.
pub fn plan_schema(catalog: &Catalog, tools: &[&str], max_steps: usize) -> Value {
    let max_steps = max_steps.max(1);
    let positions: Vec<Value> = (0..max_steps)
        .map(|i| {
            let earlier: Vec<String> = (0..i).map(key).collect();
            let depends_on = if earlier.is_empty() {
                json!({"type": "array", "maxItems": 0})
            } else {
                json!({"type": "array", "items": {"enum": earlier}, "maxItems": i.min(4)})
            };
            let branches: Vec<Value> = tools
                .iter()
                .filter_map(|name| catalog.tool(name))
                .map(|tool| {
                    let agents: Vec<&str> = catalog
                        .agent_names()
                        .into_iter()
                        .filter(|a| catalog.agent(a).is_some_and(|a| a.may_use(&tool.name)))
                        .collect();
                    json!({
                        "type": "object",
                        "properties": {
                            "key": {"const": key(i)},
                            "tool": {"const": tool.name},
                            "agent": {"enum": agents},
                            "input": bounded(&tool.input_schema),
                            "depends_on": depends_on,
                        },
                        "required": ["key", "tool", "agent", "input", "depends_on"],
                        "additionalProperties": false
                    })
                })
                .collect();
            json!({"anyOf": branches})
        })
        .collect();
    json!({
        "type": "object",
        "properties": {
            "steps": {
                "type": "array",
                "prefixItems": positions,
                "items": false,
                "minItems": 1,
                "maxItems": max_steps
            }
        },
        "required": ["steps"],
        "additionalProperties": false
    })
}

/// A copy of `schema` in which every free-form part has a bound, so an answer always ends:
/// strings at most 200 characters, arrays 8 items, numbers within ±1,000,000, objects with
/// no declared properties hold at most 4 short strings.
fn bounded(schema: &Value) -> Value {
    let Value::Object(map) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (k, v) in map {
        let v = match k.as_str() {
            "properties" | "definitions" | "$defs" | "patternProperties" => match v {
                Value::Object(props) => Value::Object(
                    props
                        .iter()
                        .map(|(name, s)| (name.clone(), bounded(s)))
                        .collect(),
                ),
                other => other.clone(),
            },
            "items" | "additionalProperties" | "not" => bounded(v),
            "anyOf" | "oneOf" | "allOf" | "prefixItems" => match v {
                Value::Array(list) => Value::Array(list.iter().map(bounded).collect()),
                other => other.clone(),
            },
            _ => v.clone(),
        };
        out.insert(k.clone(), v);
    }
    let types: Vec<&str> = match map.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    for t in types {
        match t {
            "string" if !out.contains_key("enum") && !out.contains_key("const") => {
                out.entry("maxLength").or_insert(json!(200));
            }
            "array" => {
                out.entry("maxItems").or_insert(json!(8));
            }
            "integer" | "number" => {
                out.entry("minimum").or_insert(json!(-1_000_000));
                out.entry("maximum").or_insert(json!(1_000_000));
            }
            "object" if !out.contains_key("properties") => {
                out.insert("maxProperties".into(), json!(4));
                out.insert(
                    "additionalProperties".into(),
                    json!({"type": "string", "maxLength": 200}),
                );
            }
            _ => {}
        }
    }
    Value::Object(out)
}

fn prompt(goal: &str, catalog: &Catalog, tools: &[&str], problems: &[String]) -> Vec<ChatMessage> {
    let mut system = String::from(
        "You plan goals for Switchyard, an orchestrator that runs steps with tools. Answer with \
         one JSON object {\"steps\": [...]}. Step i has key \"s<i>\", a tool, an agent allowed \
         to use it, the tool's input, and depends_on: the keys of earlier steps it needs. A \
         step's input may use the output of a step it depends on with \
         {{steps.KEY.output.PATH}}. Use as few steps as the goal needs.\n\nTools:\n",
    );
    for name in tools {
        if let Some(tool) = catalog.tool(name) {
            system.push_str(&format!(
                "- {}: {} Input schema: {}\n",
                tool.name, tool.description, tool.input_schema
            ));
        }
    }
    let mut user = format!("Goal: {goal}");
    if !problems.is_empty() {
        user.push_str("\n\nYour previous plan was refused. Fix these problems:\n");
        for p in problems {
            user.push_str(&format!("- {p}\n"));
        }
    }
    vec![
        ChatMessage::new("system", system),
        ChatMessage::new("user", user),
    ]
}

/// The model's answer as a plan; the error says why it is not one.
fn parse(raw: &str) -> Result<Plan, String> {
    let mut value: Value = serde_json::from_str(raw)
        .map_err(|e| format!("the answer is not complete JSON ({e}); answer more briefly"))?;
    // A repeated dependency means nothing more than one.
    if let Some(steps) = value["steps"].as_array_mut() {
        for step in steps {
            if let Some(deps) = step["depends_on"].as_array_mut() {
                let mut seen = std::collections::HashSet::new();
                deps.retain(|d| seen.insert(d.to_string()));
            }
        }
    }
    serde_json::from_value(value).map_err(|e| format!("the answer is not a plan: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_orchestrator::catalog::{AgentSpec, ToolAccess};
    use switchyard_orchestrator::tools::Tool;
    use switchyard_orchestrator::tools::builtin;

    fn catalog() -> Catalog {
        Catalog::new(
            [builtin::Noop.spec(), builtin::Sleep.spec()],
            [AgentSpec::new("default", ToolAccess::Any)],
        )
        .unwrap()
    }

    #[test]
    fn positions_depend_only_on_earlier_steps() {
        let schema = plan_schema(&catalog(), &["noop", "sleep"], 3);
        let positions = schema["properties"]["steps"]["prefixItems"]
            .as_array()
            .unwrap();
        assert_eq!(positions.len(), 3);
        let first = &positions[0]["anyOf"][0]["properties"];
        assert_eq!(first["key"], json!({"const": "s1"}));
        assert_eq!(first["depends_on"]["maxItems"], 0);
        let third = &positions[2]["anyOf"][1]["properties"];
        assert_eq!(third["tool"], json!({"const": "sleep"}));
        assert_eq!(third["depends_on"]["items"]["enum"], json!(["s1", "s2"]));
        assert_eq!(schema["properties"]["steps"]["items"], json!(false));
    }

    #[test]
    fn free_form_parts_get_bounds_and_declared_ones_keep_theirs() {
        let b = bounded(&json!({"type": "object"}));
        assert_eq!(b["maxProperties"], 4);
        assert_eq!(b["additionalProperties"]["maxLength"], 200);
        let b = bounded(&json!({"type": "object", "properties": {
            "ms": {"type": "integer", "minimum": 0, "maximum": 10},
            "tags": {"type": "array", "items": {"type": "string"}},
            "mode": {"type": "string", "enum": ["a"]}
        }}));
        assert_eq!(b["properties"]["ms"]["maximum"], 10);
        assert_eq!(b["properties"]["tags"]["maxItems"], 8);
        assert_eq!(b["properties"]["tags"]["items"]["maxLength"], 200);
        assert!(b["properties"]["mode"].get("maxLength").is_none());
    }

    #[test]
    fn answers_that_are_not_plans_say_why() {
        assert!(
            parse("{\"steps\": [")
                .unwrap_err()
                .contains("not complete JSON")
        );
        assert!(parse("{\"stops\": []}").unwrap_err().contains("not a plan"));
        let plan = parse(
            r#"{"steps":[{"key":"s1","tool":"noop","agent":"default","input":{},"depends_on":[]},
                {"key":"s2","tool":"noop","agent":"default","input":{},"depends_on":["s1","s1"]}]}"#,
        )
        .unwrap();
        assert_eq!(plan.steps[1].depends_on, vec!["s1".to_owned()]);
    }
}
