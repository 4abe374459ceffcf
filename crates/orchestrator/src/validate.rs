//! Plan validation: every problem at once, each naming its step and field.
//!
//! A planner (person or model) fixes a plan fastest when told everything that is wrong in one
//! answer, so nothing here stops at the first problem. The checks:
//!
//! - the plan has 1 to [`Limits::max_steps`] steps;
//! - keys are well-formed and unique;
//! - agents and tools exist, and the agent may use the tool (the compensation's tool too);
//! - inputs satisfy the tool's JSON Schema (values that are whole templates are checked at
//!   run time, when they are known);
//! - `depends_on` names existing steps, not the step itself, and the graph has no cycle (each
//!   cycle is named, e.g. `a → b → a`);
//! - templates are well-formed and read only steps the step (transitively) depends on; a
//!   compensation may also read its own step's output;
//! - retry, timeout and risk are in range, and inputs are within [`Limits::max_input_bytes`].

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::catalog::{Catalog, CompiledTool};
use crate::graph;
use crate::plan::{Plan, StepSpec};
use crate::template;

/// Bounds on what one plan may ask for.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_steps: usize,
    /// Serialized size of one step's input (and of its compensation's).
    pub max_input_bytes: usize,
    pub max_attempts: u32,
    pub max_backoff_ms: u64,
    pub max_timeout_s: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_steps: 500,
            max_input_bytes: 256 * 1024,
            max_attempts: 100,
            max_backoff_ms: 3_600_000,
            max_timeout_s: 86_400,
        }
    }
}

/// One thing wrong with a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanProblem {
    /// Position of the step in `steps`, if the problem belongs to one.
    pub index: Option<usize>,
    /// The step's key as written (may itself be the problem).
    pub step: Option<String>,
    /// The field, e.g. `depends_on`, `input/url`, `compensation.tool`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for PlanProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.index, &self.step) {
            (Some(i), Some(key)) if !key.is_empty() => {
                write!(f, "steps[{i}] ({key}).{}: {}", self.field, self.message)
            }
            (Some(i), _) => write!(f, "steps[{i}].{}: {}", self.field, self.message),
            _ => write!(f, "{}: {}", self.field, self.message),
        }
    }
}

/// Everything wrong with a plan, in step order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(transparent)]
pub struct PlanProblems(pub Vec<PlanProblem>);

impl fmt::Display for PlanProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the plan has {} problem(s): ", self.0.len())?;
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

/// A plan that passed validation, with what the scheduler needs precomputed.
#[derive(Debug, Clone)]
pub struct ValidPlan {
    pub plan: Plan,
    /// Step indexes, dependencies first.
    pub order: Vec<usize>,
    /// `deps[i]`: indexes of the steps step `i` depends on.
    pub deps: Vec<Vec<usize>>,
    /// Each step's risk: its own, or its tool's default.
    pub risks: Vec<f64>,
}

/// Checks `plan` against `catalog` and `limits`.
pub fn validate(plan: Plan, catalog: &Catalog, limits: &Limits) -> Result<ValidPlan, PlanProblems> {
    let mut problems = Problems::default();
    if plan.steps.is_empty() {
        problems.plan("steps", "a plan needs at least one step".into());
    }
    if plan.steps.len() > limits.max_steps {
        problems.plan(
            "steps",
            format!(
                "{} steps exceed the limit of {}",
                plan.steps.len(),
                limits.max_steps
            ),
        );
    }

    // Keys first: everything else refers to steps by key.
    let mut index_of: HashMap<&str, usize> = HashMap::new();
    for (i, step) in plan.steps.iter().enumerate() {
        if let Err(message) = check_key(&step.key) {
            problems.step(i, step, "key", message);
        }
        if let Some(&first) = index_of.get(step.key.as_str()) {
            problems.step(
                i,
                step,
                "key",
                format!("duplicate key (also steps[{first}])"),
            );
        } else {
            index_of.insert(&step.key, i);
        }
    }

    let mut deps = vec![Vec::new(); plan.steps.len()];
    for (i, step) in plan.steps.iter().enumerate() {
        for dep in &step.depends_on {
            match index_of.get(dep.as_str()) {
                _ if *dep == step.key => problems.step(
                    i,
                    step,
                    "depends_on",
                    "a step cannot depend on itself".into(),
                ),
                Some(&d) => deps[i].push(d),
                None => problems.step(i, step, "depends_on", format!("unknown step '{dep}'")),
            }
        }
    }
    let order = match graph::topological_order(&deps) {
        Ok(order) => order,
        Err(cycles) => {
            for cycle in cycles {
                let first = cycle[0];
                let mut names: Vec<&str> =
                    cycle.iter().map(|&s| plan.steps[s].key.as_str()).collect();
                names.push(&plan.steps[first].key);
                problems.step(
                    first,
                    &plan.steps[first],
                    "depends_on",
                    format!("cycle: {}", names.join(" → ")),
                );
            }
            Vec::new()
        }
    };

    let mut risks = Vec::with_capacity(plan.steps.len());
    for (i, step) in plan.steps.iter().enumerate() {
        check_step(i, step, catalog, limits, &mut problems);
        risks.push(
            step.risk
                .or_else(|| catalog.tool(&step.tool).map(|t| t.default_risk))
                .unwrap_or(1.0),
        );
        // Templates may read only upstream steps.
        let upstream: BTreeSet<&str> = graph::ancestors(&deps, i)
            .into_iter()
            .filter(|&a| a != i)
            .map(|a| plan.steps[a].key.as_str())
            .collect();
        let verbatim = catalog
            .tool(&step.tool)
            .map(|t| template::verbatim_fields(&t.input_schema))
            .unwrap_or_default();
        let (templated, _) = template::split_verbatim(&step.input, &verbatim);
        check_templates(
            i,
            step,
            "input",
            &templated,
            &upstream,
            None,
            &index_of,
            &mut problems,
        );
        if let Some(comp) = &step.compensation {
            check_templates(
                i,
                step,
                "compensation.input",
                &comp.input,
                &upstream,
                Some(&step.key),
                &index_of,
                &mut problems,
            );
        }
    }

    if problems.0.is_empty() {
        Ok(ValidPlan {
            plan,
            order,
            deps,
            risks,
        })
    } else {
        problems.0.sort_by_key(|p| p.index.map_or(0, |i| i + 1));
        Err(PlanProblems(problems.0))
    }
}

#[derive(Default)]
struct Problems(Vec<PlanProblem>);

impl Problems {
    fn plan(&mut self, field: &str, message: String) {
        self.0.push(PlanProblem {
            index: None,
            step: None,
            field: field.to_owned(),
            message,
        });
    }

    fn step(&mut self, index: usize, step: &StepSpec, field: &str, message: String) {
        self.0.push(PlanProblem {
            index: Some(index),
            step: Some(step.key.clone()),
            field: field.to_owned(),
            message,
        });
    }
}

fn check_key(key: &str) -> Result<(), String> {
    let valid_chars = key
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if key.is_empty() || key.len() > 64 || !valid_chars {
        return Err(format!(
            "'{key}' must be 1–64 characters of a–z, 0–9, '_' and '-'"
        ));
    }
    Ok(())
}

fn check_step(
    i: usize,
    step: &StepSpec,
    catalog: &Catalog,
    limits: &Limits,
    problems: &mut Problems,
) {
    let agent = catalog.agent(&step.agent);
    if agent.is_none() {
        problems.step(
            i,
            step,
            "agent",
            format!(
                "unknown agent '{}' (known: {})",
                step.agent,
                catalog.agent_names().join(", ")
            ),
        );
    }
    let mut check_tool = |field: &str, input_field: &str, tool: &str, input: &Value| {
        match catalog.tools.get(tool) {
            None => problems.step(
                i,
                step,
                field,
                format!(
                    "unknown tool '{tool}' (known: {})",
                    catalog.tool_names().join(", ")
                ),
            ),
            Some(compiled) => {
                if let Some(agent) = agent
                    && !agent.may_use(tool)
                {
                    problems.step(
                        i,
                        step,
                        field,
                        format!("agent '{}' may not use tool '{tool}'", agent.name),
                    );
                }
                for message in schema_errors(compiled, input) {
                    problems.step(
                        i,
                        step,
                        &message.0.replace("{field}", input_field),
                        message.1,
                    );
                }
            }
        }
        let size = serde_json::to_string(input).map_or(0, |s| s.len());
        if size > limits.max_input_bytes {
            problems.step(
                i,
                step,
                input_field,
                format!(
                    "{size} bytes exceed the limit of {} bytes",
                    limits.max_input_bytes
                ),
            );
        }
    };
    check_tool("tool", "input", &step.tool, &step.input);
    if let Some(comp) = &step.compensation {
        check_tool(
            "compensation.tool",
            "compensation.input",
            &comp.tool,
            &comp.input,
        );
    }

    let retry = &step.retry;
    if retry.max_attempts == 0 || retry.max_attempts > limits.max_attempts {
        problems.step(
            i,
            step,
            "retry.max_attempts",
            format!(
                "{} is outside 1–{}",
                retry.max_attempts, limits.max_attempts
            ),
        );
    }
    if retry.max_backoff_ms > limits.max_backoff_ms {
        problems.step(
            i,
            step,
            "retry.max_backoff_ms",
            format!(
                "{} exceeds the limit of {}",
                retry.max_backoff_ms, limits.max_backoff_ms
            ),
        );
    }
    if retry.initial_backoff_ms > retry.max_backoff_ms {
        problems.step(
            i,
            step,
            "retry.initial_backoff_ms",
            format!(
                "{} is larger than max_backoff_ms ({})",
                retry.initial_backoff_ms, retry.max_backoff_ms
            ),
        );
    }
    if step.timeout_s == 0 || step.timeout_s > limits.max_timeout_s {
        problems.step(
            i,
            step,
            "timeout_s",
            format!("{} is outside 1–{}", step.timeout_s, limits.max_timeout_s),
        );
    }
    if let Some(risk) = step.risk
        && !(0.0..=1.0).contains(&risk)
    {
        problems.step(i, step, "risk", format!("{risk} is outside 0.0–1.0"));
    }
}

/// `(field template, message)` for each schema violation, skipping values that are templates
/// (their type is only known at run time).
fn schema_errors(tool: &CompiledTool, input: &Value) -> Vec<(String, String)> {
    tool.validator
        .iter_errors(input)
        .filter(|error| {
            let at = input.pointer(error.instance_path().as_str());
            !matches!(at, Some(Value::String(s)) if s.contains("{{"))
        })
        .map(|error| {
            let path = error.instance_path().as_str().to_owned();
            (format!("{{field}}{path}"), error.masked().to_string())
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn check_templates(
    i: usize,
    step: &StepSpec,
    field: &str,
    value: &Value,
    upstream: &BTreeSet<&str>,
    own_output: Option<&str>,
    index_of: &HashMap<&str, usize>,
    problems: &mut Problems,
) {
    let (refs, errors) = template::references(value);
    for error in errors {
        problems.step(
            i,
            step,
            &format!("{field}{}", error.location),
            error.message,
        );
    }
    for r in refs {
        let at = format!("{field}{}", r.location);
        if own_output == Some(r.step.as_str()) || upstream.contains(r.step.as_str()) {
            continue;
        }
        let message = if r.step == step.key {
            "a step cannot read its own output".to_owned()
        } else if index_of.contains_key(r.step.as_str()) {
            format!(
                "reads step '{}', which it does not depend on (add it to depends_on)",
                r.step
            )
        } else {
            format!("reads unknown step '{}'", r.step)
        };
        problems.step(i, step, &at, message);
    }
}
