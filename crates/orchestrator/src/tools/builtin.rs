//! The simple built-in tools.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Tool, ToolContext, ToolError, ToolFuture};
use crate::catalog::ToolSpec;

/// Does nothing and returns its input: a placeholder step, and the workhorse of benchmarks.
#[derive(Debug, Default)]
pub struct Noop;

impl Tool for Noop {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "noop".into(),
            description: "Does nothing; returns its input as output.".into(),
            input_schema: json!({"type": "object"}),
            default_risk: 0.0,
        }
    }

    fn run<'a>(&'a self, _ctx: &'a ToolContext, input: Value) -> ToolFuture<'a> {
        Box::pin(async move { Ok(input) })
    }
}

/// Waits `ms` milliseconds, or until the run is cancelled.
#[derive(Debug, Default)]
pub struct Sleep;

/// The longest sleep accepted (one hour).
pub const MAX_SLEEP_MS: u64 = 3_600_000;

impl Tool for Sleep {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "sleep".into(),
            description: "Waits for `ms` milliseconds.".into(),
            input_schema: json!({
                "type": "object",
                "required": ["ms"],
                "properties": {"ms": {"type": "integer", "minimum": 0, "maximum": MAX_SLEEP_MS}},
                "additionalProperties": false
            }),
            default_risk: 0.0,
        }
    }

    fn run<'a>(&'a self, ctx: &'a ToolContext, input: Value) -> ToolFuture<'a> {
        Box::pin(async move {
            let ms = input["ms"]
                .as_u64()
                .ok_or_else(|| ToolError::permanent("input.ms must be a whole number"))?;
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(ms)) => Ok(json!({"slept_ms": ms})),
                () = ctx.cancel.cancelled() => Err(ToolError::Cancelled),
            }
        })
    }
}

/// Fails on purpose: for tests and demos of retries and compensation. With
/// `succeed_from_attempt: N` it fails attempts before N and then succeeds.
#[derive(Debug, Default)]
pub struct Fail;

impl Tool for Fail {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "fail".into(),
            description: "Fails with `message`; retryable unless `retryable` is false.".into(),
            input_schema: json!({
                "type": "object",
                "properties": {
                    "message": {"type": "string"},
                    "retryable": {"type": "boolean"},
                    "succeed_from_attempt": {"type": "integer", "minimum": 1}
                },
                "additionalProperties": false
            }),
            default_risk: 0.0,
        }
    }

    fn run<'a>(&'a self, ctx: &'a ToolContext, input: Value) -> ToolFuture<'a> {
        Box::pin(async move {
            if let Some(from) = input["succeed_from_attempt"].as_u64()
                && u64::from(ctx.attempt) >= from
            {
                return Ok(json!({"attempt": ctx.attempt}));
            }
            let message = input["message"]
                .as_str()
                .unwrap_or("failed on purpose")
                .to_owned();
            Err(if input["retryable"].as_bool() == Some(false) {
                ToolError::Permanent { message }
            } else {
                ToolError::Retryable {
                    message,
                    retry_after: None,
                }
            })
        })
    }
}

/// A pure gate: its risk (1.0) makes the step wait for a person; once approved it passes.
#[derive(Debug, Default)]
pub struct Approval;

impl Tool for Approval {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "approval".into(),
            description: "Waits for a person to approve; `summary` says what is being approved."
                .into(),
            input_schema: json!({
                "type": "object",
                "properties": {"summary": {"type": "string", "maxLength": 2000}},
                "additionalProperties": false
            }),
            default_risk: 1.0,
        }
    }

    fn run<'a>(&'a self, _ctx: &'a ToolContext, _input: Value) -> ToolFuture<'a> {
        Box::pin(async move { Ok(json!({"approved": true})) })
    }
}

#[cfg(test)]
mod tests {
    use tokio_util::sync::CancellationToken;

    use super::*;

    fn ctx(attempt: u32) -> ToolContext {
        ToolContext::new("r", "s", attempt, CancellationToken::new())
    }

    #[tokio::test]
    async fn noop_echoes_and_approval_passes() {
        let c = ctx(1);
        assert_eq!(Noop.run(&c, json!({"a": 1})).await, Ok(json!({"a": 1})));
        assert_eq!(
            Approval.run(&c, json!({})).await,
            Ok(json!({"approved": true}))
        );
        assert_eq!(Approval.spec().default_risk, 1.0);
    }

    #[tokio::test(start_paused = true)]
    async fn sleep_waits_and_stops_when_cancelled() {
        let c = ctx(1);
        let started = tokio::time::Instant::now();
        assert_eq!(
            Sleep.run(&c, json!({"ms": 1500})).await,
            Ok(json!({"slept_ms": 1500}))
        );
        assert_eq!(started.elapsed(), Duration::from_millis(1500));

        let cancel = c.cancel.clone();
        let started = tokio::time::Instant::now();
        let canceller = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            cancel.cancel();
        });
        assert_eq!(
            Sleep.run(&c, json!({"ms": 60_000})).await,
            Err(ToolError::Cancelled)
        );
        assert_eq!(started.elapsed(), Duration::from_millis(200));
        canceller.await.unwrap();
    }

    #[tokio::test]
    async fn fail_fails_as_asked() {
        let retry = Fail
            .run(&ctx(1), json!({"message": "boom"}))
            .await
            .unwrap_err();
        assert!(retry.is_retryable());
        assert_eq!(retry.to_string(), "boom");
        let permanent = Fail
            .run(&ctx(1), json!({"retryable": false}))
            .await
            .unwrap_err();
        assert_eq!(permanent, ToolError::permanent("failed on purpose"));
        let input = json!({"succeed_from_attempt": 3});
        assert!(Fail.run(&ctx(2), input.clone()).await.is_err());
        assert_eq!(Fail.run(&ctx(3), input).await, Ok(json!({"attempt": 3})));
    }
}
