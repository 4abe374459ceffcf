//! The orchestrator panel's modes and limits.

use serde::{Deserialize, Serialize};

/// Longest prompt, in characters (Unicode scalar values), that the panel accepts and the API
/// will accept. One constant so the counter in the browser and the check on the server agree.
pub const MAX_PROMPT_CHARS: usize = 10_000;

/// What the orchestrator panel does with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ChatMode {
    /// Ask questions about runs, agents and events.
    Query,
    /// Ingest or inspect data.
    Data,
    /// State a goal to be planned into a run.
    #[default]
    Task,
    /// Free conversation with the local model.
    Chat,
}

impl ChatMode {
    /// Every mode, in the order the panel shows them.
    pub const ALL: [ChatMode; 4] = [Self::Query, Self::Data, Self::Task, Self::Chat];

    /// The lowercase id used on the wire and in `localStorage`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Query => "query",
            Self::Data => "data",
            Self::Task => "task",
            Self::Chat => "chat",
        }
    }

    /// Parses the id written by [`ChatMode::as_str`].
    pub fn parse(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|mode| mode.as_str() == id)
    }

    /// Capitalised label for buttons.
    pub fn label(self) -> &'static str {
        match self {
            Self::Query => "Query",
            Self::Data => "Data",
            Self::Task => "Task",
            Self::Chat => "Chat",
        }
    }

    /// Placeholder text for the input in this mode.
    pub fn placeholder(self) -> &'static str {
        match self {
            Self::Query => "Search runs, datasets and agents' logs…",
            Self::Data => "Paste a table (CSV, JSON or JSON lines) to check it…",
            Self::Task => "State a goal to plan into a run…",
            Self::Chat => "Talk to the local model…",
        }
    }
}

/// Counts characters the way the limit is defined: Unicode scalar values, not bytes.
pub fn prompt_chars(text: &str) -> usize {
    text.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mode_round_trips_through_its_id() {
        for mode in ChatMode::ALL {
            assert_eq!(ChatMode::parse(mode.as_str()), Some(mode));
            let json = serde_json::to_string(&mode).unwrap();
            assert_eq!(json, format!("\"{}\"", mode.as_str()));
        }
        assert_eq!(ChatMode::parse("Task"), None);
    }

    #[test]
    fn prompt_length_counts_characters_not_bytes() {
        assert_eq!(prompt_chars("héllo"), 5);
        assert_eq!("héllo".len(), 6);
    }
}
