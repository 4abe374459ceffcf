//! Run and step statuses, as stored and as shown.
//!
//! ```text
//! run:  queued → running ⇄ paused
//!                running ⇄ awaiting_approval
//!                running → succeeded
//!                running → compensating → failed      (compensations run in reverse order)
//!                running → failed                     (nothing to compensate)
//!       any non-final → cancelled
//! step: pending → ready → leased → succeeded → compensated
//!       pending → awaiting_approval → ready            (approved)
//!                                   → failed           (rejected)
//!       leased → ready (retry after backoff, or lease expired) | failed
//!       pending/ready/awaiting_approval → skipped      (the run ended first)
//! ```

use serde::{Deserialize, Serialize};

macro_rules! status_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// The lowercase name stored in the database and sent over the wire.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// Parses [`Self::as_str`]'s output.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

status_enum!(
    /// Where a run is in its life.
    RunStatus {
        Queued => "queued",
        Running => "running",
        Paused => "paused",
        AwaitingApproval => "awaiting_approval",
        Compensating => "compensating",
        Succeeded => "succeeded",
        Failed => "failed",
        Cancelled => "cancelled",
    }
);

status_enum!(
    /// Where a step is in its life.
    StepStatus {
        Pending => "pending",
        Ready => "ready",
        Leased => "leased",
        AwaitingApproval => "awaiting_approval",
        Succeeded => "succeeded",
        Failed => "failed",
        Skipped => "skipped",
        Compensated => "compensated",
    }
);

impl RunStatus {
    /// No event can follow.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}

impl StepStatus {
    /// The step will not run (again) in this run.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Succeeded | Self::Failed | Self::Skipped | Self::Compensated
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for status in [
            RunStatus::Queued,
            RunStatus::AwaitingApproval,
            RunStatus::Cancelled,
        ] {
            assert_eq!(RunStatus::parse(status.as_str()), Some(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.as_str())
            );
        }
        assert_eq!(
            StepStatus::parse("compensated"),
            Some(StepStatus::Compensated)
        );
        assert_eq!(StepStatus::parse("Leased"), None);
    }
}
