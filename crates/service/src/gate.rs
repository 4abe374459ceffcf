//! Tools behind kill switches: the `http` tool stops when `http_tool` is switched off,
//! `subrun` (which starts runs) when `new_runs` is, and `llm` when `inference` is. A
//! switched-off call fails the attempt for good with the switch's reason; a switch that cannot
//! be read makes it retry.

use std::sync::Arc;

use serde_json::Value;
use switchyard_auth::kill::{Capability, KillSwitches, Refused};
use switchyard_orchestrator::catalog::ToolSpec;
use switchyard_orchestrator::tools::{Tool, ToolContext, ToolError, ToolFuture};

/// A tool that asks a kill switch before each attempt.
pub struct Gated {
    inner: Arc<dyn Tool>,
    capability: Capability,
    switches: KillSwitches,
}

impl Tool for Gated {
    fn spec(&self) -> ToolSpec {
        self.inner.spec()
    }

    fn run<'a>(&'a self, ctx: &'a ToolContext, input: Value) -> ToolFuture<'a> {
        Box::pin(async move {
            match self.switches.check(self.capability).await {
                Ok(()) => self.inner.run(ctx, input).await,
                Err(refused @ Refused::Off { .. }) => Err(ToolError::Permanent {
                    message: refused.to_string(),
                }),
                Err(unknown) => Err(ToolError::retryable(unknown.to_string())),
            }
        })
    }
}

/// Which switch guards a tool, by name.
fn capability_for(tool: &str) -> Option<Capability> {
    match tool {
        "http" => Some(Capability::HttpTool),
        "subrun" => Some(Capability::NewRuns),
        "llm" => Some(Capability::Inference),
        _ => None,
    }
}

/// `tools`, with the ones a switch guards wrapped.
pub fn gate(tools: Vec<Arc<dyn Tool>>, switches: &KillSwitches) -> Vec<Arc<dyn Tool>> {
    tools
        .into_iter()
        .map(|tool| match capability_for(&tool.spec().name) {
            Some(capability) => Arc::new(Gated {
                inner: tool,
                capability,
                switches: switches.clone(),
            }) as Arc<dyn Tool>,
            None => tool,
        })
        .collect()
}
