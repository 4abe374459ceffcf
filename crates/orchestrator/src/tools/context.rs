//! What a tool gets besides its input.

use tokio_util::sync::CancellationToken;

use crate::engine::Engine;

/// One attempt's context.
#[derive(Debug, Clone)]
pub struct ToolContext {
    pub run_id: String,
    pub step: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// `run:step:attempt`: unique per attempt, the same if an attempt is replayed after a
    /// crash. Pass it to external systems as their idempotency key.
    pub idempotency_key: String,
    /// Fires when the run is cancelled or the attempt times out.
    pub cancel: CancellationToken,
    /// The engine running this attempt, for tools that start or read runs (`subrun`);
    /// `None` when a tool is called outside an engine (its own tests).
    pub engine: Option<Engine>,
}

impl ToolContext {
    pub fn new(run_id: &str, step: &str, attempt: u32, cancel: CancellationToken) -> Self {
        Self {
            run_id: run_id.to_owned(),
            step: step.to_owned(),
            attempt,
            idempotency_key: format!("{run_id}:{step}:{attempt}"),
            cancel,
            engine: None,
        }
    }

    /// The same context, run by `engine`.
    pub fn with_engine(mut self, engine: Engine) -> Self {
        self.engine = Some(engine);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_idempotency_key_names_run_step_and_attempt() {
        let ctx = ToolContext::new("0192a", "fetch", 3, CancellationToken::new());
        assert_eq!(ctx.idempotency_key, "0192a:fetch:3");
    }
}
