//! What a tool gets besides its input.

use tokio_util::sync::CancellationToken;

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
}

impl ToolContext {
    pub fn new(run_id: &str, step: &str, attempt: u32, cancel: CancellationToken) -> Self {
        Self {
            run_id: run_id.to_owned(),
            step: step.to_owned(),
            attempt,
            idempotency_key: format!("{run_id}:{step}:{attempt}"),
            cancel,
        }
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
