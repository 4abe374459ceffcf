//! What a plan may name: tools and agents.
//!
//! Tool input schemas are compiled once, when the catalog is built, so validating a plan costs
//! no schema compilation and a broken schema is caught at start-up, not at the first plan.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

/// A tool as the planner and the validator see it.
#[derive(Debug, Clone)]
pub struct ToolSpec {
    pub name: String,
    /// One line for people and for the planner's prompt.
    pub description: String,
    /// JSON Schema (draft 2020-12 unless `$schema` says otherwise) for the step input.
    pub input_schema: Value,
    /// Risk of a step using this tool when the plan gives none, 0.0–1.0.
    pub default_risk: f64,
}

/// Which tools an agent may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolAccess {
    Any,
    Only(Vec<String>),
}

/// A named role ("department") that steps run on behalf of.
#[derive(Debug, Clone)]
pub struct AgentSpec {
    pub name: String,
    pub tools: ToolAccess,
}

impl AgentSpec {
    pub fn new(name: impl Into<String>, tools: ToolAccess) -> Self {
        Self {
            name: name.into(),
            tools,
        }
    }

    pub fn may_use(&self, tool: &str) -> bool {
        match &self.tools {
            ToolAccess::Any => true,
            ToolAccess::Only(allowed) => allowed.iter().any(|t| t == tool),
        }
    }
}

/// A catalog that cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("tool '{tool}' has an invalid input schema: {reason}")]
    InvalidSchema { tool: String, reason: String },
    #[error("tool '{tool}' has default risk {risk}, outside 0.0–1.0")]
    InvalidRisk { tool: String, risk: f64 },
    #[error("{kind} '{name}' is registered twice")]
    Duplicate { kind: &'static str, name: String },
}

pub(crate) struct CompiledTool {
    pub spec: ToolSpec,
    pub validator: jsonschema::Validator,
}

impl fmt::Debug for CompiledTool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompiledTool")
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

/// Registered tools and agents, looked up by name.
#[derive(Debug)]
pub struct Catalog {
    pub(crate) tools: BTreeMap<String, CompiledTool>,
    pub(crate) agents: BTreeMap<String, AgentSpec>,
}

impl Catalog {
    /// Compiles every tool's schema; refuses duplicates and out-of-range risks.
    pub fn new(
        tools: impl IntoIterator<Item = ToolSpec>,
        agents: impl IntoIterator<Item = AgentSpec>,
    ) -> Result<Self, CatalogError> {
        let mut compiled = BTreeMap::new();
        for spec in tools {
            if !(0.0..=1.0).contains(&spec.default_risk) {
                return Err(CatalogError::InvalidRisk {
                    tool: spec.name,
                    risk: spec.default_risk,
                });
            }
            let validator = jsonschema::validator_for(&spec.input_schema).map_err(|e| {
                CatalogError::InvalidSchema {
                    tool: spec.name.clone(),
                    reason: e.to_string(),
                }
            })?;
            let name = spec.name.clone();
            if compiled
                .insert(name.clone(), CompiledTool { spec, validator })
                .is_some()
            {
                return Err(CatalogError::Duplicate { kind: "tool", name });
            }
        }
        let mut by_name = BTreeMap::new();
        for agent in agents {
            let name = agent.name.clone();
            if by_name.insert(name.clone(), agent).is_some() {
                return Err(CatalogError::Duplicate {
                    kind: "agent",
                    name,
                });
            }
        }
        Ok(Self {
            tools: compiled,
            agents: by_name,
        })
    }

    pub fn tool(&self, name: &str) -> Option<&ToolSpec> {
        self.tools.get(name).map(|t| &t.spec)
    }

    pub fn agent(&self, name: &str) -> Option<&AgentSpec> {
        self.agents.get(name)
    }

    /// Tool names in order, for error messages and the planner's enum constraint.
    pub fn tool_names(&self) -> Vec<&str> {
        self.tools.keys().map(String::as_str).collect()
    }

    /// Agent names in order.
    pub fn agent_names(&self) -> Vec<&str> {
        self.agents.keys().map(String::as_str).collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn tool(name: &str, schema: Value, risk: f64) -> ToolSpec {
        ToolSpec {
            name: name.into(),
            description: String::new(),
            input_schema: schema,
            default_risk: risk,
        }
    }

    #[test]
    fn broken_catalogs_are_refused_with_the_tool_named() {
        let bad_schema = Catalog::new([tool("t", json!({"type": 12}), 0.1)], []).unwrap_err();
        assert!(
            bad_schema
                .to_string()
                .starts_with("tool 't' has an invalid input schema"),
            "{bad_schema}"
        );
        let bad_risk = Catalog::new([tool("t", json!({}), 1.5)], []).unwrap_err();
        assert_eq!(
            bad_risk.to_string(),
            "tool 't' has default risk 1.5, outside 0.0–1.0"
        );
        let twice =
            Catalog::new([tool("t", json!({}), 0.0), tool("t", json!({}), 0.0)], []).unwrap_err();
        assert_eq!(twice.to_string(), "tool 't' is registered twice");
    }

    #[test]
    fn agents_are_limited_to_their_tools() {
        let clerk = AgentSpec::new("clerk", ToolAccess::Only(vec!["noop".into()]));
        assert!(clerk.may_use("noop"));
        assert!(!clerk.may_use("http"));
        assert!(AgentSpec::new("ops", ToolAccess::Any).may_use("http"));
    }
}
