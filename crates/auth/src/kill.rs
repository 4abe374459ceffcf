//! Kill switches: an admin turns a capability off, at once, for every process on the
//! database, with a reason that every refused call repeats. Each check reads the table (one
//! primary-key lookup), so a switch takes effect on the next call everywhere; a check that
//! cannot read the table refuses (a safety control fails closed).

use switchyard_db::Database;

/// What can be switched off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// Submitting runs (the API, and child runs started by the `subrun` tool).
    NewRuns,
    /// The `http` tool's calls.
    HttpTool,
    /// External agents reporting logs and metrics (`POST /api/v1/events`).
    EventIngest,
    /// Model inference: the `llm` tool and the OpenAI-compatible API. Inference itself
    /// arrives with the model host; the switch can be set ahead of it.
    Inference,
}

impl Capability {
    pub const ALL: [Capability; 4] = [
        Self::NewRuns,
        Self::HttpTool,
        Self::EventIngest,
        Self::Inference,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NewRuns => "new_runs",
            Self::HttpTool => "http_tool",
            Self::EventIngest => "event_ingest",
            Self::Inference => "inference",
        }
    }

    /// What people read in a refusal.
    pub fn describe(self) -> &'static str {
        match self {
            Self::NewRuns => "starting new runs",
            Self::HttpTool => "the http tool",
            Self::EventIngest => "event ingest",
            Self::Inference => "model inference",
        }
    }

    /// Parses a capability name; the error lists the names.
    pub fn parse(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|c| c.as_str()).collect();
                format!(
                    "unknown capability '{text}': expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// A capability that is off, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Switch {
    pub capability: Capability,
    pub reason: String,
    pub set_by: String,
    pub set_at_ms: i64,
}

/// Why a call was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("{} is switched off by {set_by}: {reason}", capability.describe())]
    Off {
        capability: Capability,
        reason: String,
        set_by: String,
    },
    #[error("cannot confirm that {} is allowed (the database did not answer): {error}", capability.describe())]
    Unknown {
        capability: Capability,
        error: String,
    },
}

/// The switches on one database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct KillSwitches {
    db: Database,
}

impl KillSwitches {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// `Ok` when `capability` is on.
    pub async fn check(&self, capability: Capability) -> Result<(), Refused> {
        const SQL: &str = "SELECT reason, set_by FROM kill_switches WHERE capability = $1";
        let found: Result<Option<(String, String)>, sqlx::Error> = on_pool!(&self.db, pool => {
            sqlx::query_as(SQL).bind(capability.as_str()).fetch_optional(pool).await
        });
        match found {
            Ok(None) => Ok(()),
            Ok(Some((reason, set_by))) => Err(Refused::Off {
                capability,
                reason,
                set_by,
            }),
            Err(e) => Err(Refused::Unknown {
                capability,
                error: e.to_string(),
            }),
        }
    }

    /// Turns `capability` off (or updates the reason); `by` is who did it.
    pub async fn switch_off(
        &self,
        capability: Capability,
        reason: &str,
        by: &str,
    ) -> Result<(), sqlx::Error> {
        const SQL: &str = "INSERT INTO kill_switches (capability, reason, set_by, set_at_ms) \
                           VALUES ($1, $2, $3, $4) ON CONFLICT (capability) DO UPDATE SET \
                           reason = excluded.reason, set_by = excluded.set_by, \
                           set_at_ms = excluded.set_at_ms";
        on_pool!(&self.db, pool => {
            sqlx::query(SQL)
                .bind(capability.as_str())
                .bind(reason)
                .bind(by)
                .bind(crate::now_ms())
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Turns `capability` back on; whether it was off.
    pub async fn switch_on(&self, capability: Capability) -> Result<bool, sqlx::Error> {
        const SQL: &str = "DELETE FROM kill_switches WHERE capability = $1";
        let done = on_pool!(&self.db, pool => sqlx::query(SQL).bind(capability.as_str()).execute(pool).await?.rows_affected());
        Ok(done > 0)
    }

    /// Every capability that is off.
    pub async fn list(&self) -> Result<Vec<Switch>, sqlx::Error> {
        const SQL: &str =
            "SELECT capability, reason, set_by, set_at_ms FROM kill_switches ORDER BY capability";
        let rows: Vec<(String, String, String, i64)> =
            on_pool!(&self.db, pool => sqlx::query_as(SQL).fetch_all(pool).await?);
        Ok(rows
            .into_iter()
            .filter_map(|(capability, reason, set_by, set_at_ms)| {
                Some(Switch {
                    capability: Capability::parse(&capability).ok()?,
                    reason,
                    set_by,
                    set_at_ms,
                })
            })
            .collect())
    }
}
