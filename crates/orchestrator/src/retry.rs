//! Retry timing: exponential backoff with jitter.

use std::time::Duration;

use crate::plan::RetryPolicy;

/// How long to wait before attempt `next_attempt` (2 for the first retry).
///
/// The base doubles per retry from `initial_backoff_ms` (1 s, 2 s, 4 s … by default) and is
/// capped at `max_backoff_ms` (32 s by default). `jitter` in `[0, 1)` spreads the wait over
/// 80–120 % of the base, still capped, so many steps failing together do not retry in
/// lockstep. The caller supplies the randomness, which keeps this function deterministic.
pub fn backoff(policy: &RetryPolicy, next_attempt: u32, jitter: f64) -> Duration {
    let retries_before = next_attempt.saturating_sub(2).min(63);
    let base = policy
        .initial_backoff_ms
        .saturating_mul(1_u64 << retries_before)
        .min(policy.max_backoff_ms);
    let spread = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
    let jittered = (base as f64 * spread).round() as u64;
    Duration::from_millis(jittered.min(policy.max_backoff_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_one_second_and_caps_at_thirty_two() {
        let policy = RetryPolicy::default();
        let waits: Vec<u64> = (2..=9)
            .map(|attempt| backoff(&policy, attempt, 0.5).as_millis() as u64)
            .collect();
        assert_eq!(
            waits,
            [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 32_000, 32_000]
        );
    }

    #[test]
    fn jitter_spreads_within_twenty_percent_and_never_past_the_cap() {
        let policy = RetryPolicy::default();
        assert_eq!(backoff(&policy, 2, 0.0), Duration::from_millis(800));
        assert_eq!(backoff(&policy, 2, 0.999_999), Duration::from_millis(1_200));
        assert_eq!(
            backoff(&policy, 7, 0.999_999),
            Duration::from_millis(32_000)
        );
        assert_eq!(backoff(&policy, 7, 0.0), Duration::from_millis(25_600));
        assert_eq!(
            backoff(&policy, u32::MAX, 0.5),
            Duration::from_millis(32_000)
        );
    }
}
