//! API keys for machines and external agents: `sy_<id>_<secret>`, shown once at creation,
//! stored as the secret's BLAKE3 hash. Each key has scopes, a project, a rate limit
//! (requests per minute) and a concurrency limit, enforced per process by [`Limiter`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use switchyard_db::Database;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Scope {
    #[serde(rename = "runs:read")]
    RunsRead,
    #[serde(rename = "runs:write")]
    RunsWrite,
    #[serde(rename = "approve")]
    Approve,
    #[serde(rename = "events:ingest")]
    EventsIngest,
    #[serde(rename = "infer")]
    Infer,
    /// Runs any workflow template the key's project holds (`workflows:run`); a key may
    /// instead be limited to named templates (`workflows:run:NAME`, see [`Grants`]).
    #[serde(rename = "workflows:run")]
    WorkflowsRun,
    #[serde(rename = "admin")]
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 7] = [
        Self::RunsRead,
        Self::RunsWrite,
        Self::Approve,
        Self::EventsIngest,
        Self::Infer,
        Self::WorkflowsRun,
        Self::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RunsRead => "runs:read",
            Self::RunsWrite => "runs:write",
            Self::Approve => "approve",
            Self::EventsIngest => "events:ingest",
            Self::Infer => "infer",
            Self::WorkflowsRun => "workflows:run",
            Self::Admin => "admin",
        }
    }

    /// Parses `runs:read,runs:write,…`; the error names the unknown scope and the choices.
    /// Named workflow grants are dropped: [`Grants::parse`] keeps them.
    pub fn parse_list(text: &str) -> Result<Vec<Scope>, String> {
        Grants::parse(text).map(|grants| grants.scopes)
    }
}

/// The prefix of a grant to run one named workflow template.
pub const WORKFLOW_GRANT: &str = "workflows:run:";

/// Everything a key may do: its [`Scope`]s and the workflow templates it may run by name
/// (`workflows:run:NAME`), stored together as one comma-separated list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    pub scopes: Vec<Scope>,
    /// Templates this key may run even without `workflows:run`.
    pub workflows: Vec<String>,
}

impl Grants {
    /// Parses `runs:read,workflows:run:onboard,…`; the error names the unknown scope (or the
    /// bad template name) and the choices.
    pub fn parse(text: &str) -> Result<Grants, String> {
        let mut grants = Grants::default();
        for name in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if let Some(template) = name.strip_prefix(WORKFLOW_GRANT) {
                crate::projects::check_name(template).map_err(|_| {
                    format!(
                        "invalid scope '{name}': a template name is 1 to 63 lowercase letters, \
                         digits, '-' or '_', starting with a letter or digit"
                    )
                })?;
                if !grants.workflows.iter().any(|w| w == template) {
                    grants.workflows.push(template.to_owned());
                }
                continue;
            }
            let scope = Scope::ALL
                .into_iter()
                .find(|s| s.as_str() == name)
                .ok_or_else(|| {
                    let names: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
                    format!(
                        "unknown scope '{name}': expected {}, or {WORKFLOW_GRANT}NAME",
                        names.join(", ")
                    )
                })?;
            if !grants.scopes.contains(&scope) {
                grants.scopes.push(scope);
            }
        }
        if grants.scopes.is_empty() && grants.workflows.is_empty() {
            return Err("a key needs at least one scope".into());
        }
        Ok(grants)
    }

    /// Every grant by its name, scopes first: what is stored and shown.
    pub fn names(&self) -> Vec<String> {
        self.scopes
            .iter()
            .map(|s| s.as_str().to_owned())
            .chain(
                self.workflows
                    .iter()
                    .map(|w| format!("{WORKFLOW_GRANT}{w}")),
            )
            .collect()
    }
}

/// A key as stored (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub project: String,
    pub scopes: Vec<Scope>,
    /// Workflow templates this key may run by name (`workflows:run:NAME`).
    pub workflows: Vec<String>,
    pub rate_per_min: u32,
    pub max_concurrency: u32,
    pub created_by: String,
    pub created_at_ms: i64,
    pub last_used_at_ms: Option<i64>,
    pub revoked: bool,
}

impl ApiKey {
    /// This key's rate and concurrency limits.
    pub fn limits(&self) -> Limits {
        Limits {
            rate_per_min: self.rate_per_min,
            max_concurrency: self.max_concurrency,
        }
    }

    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope) || self.scopes.contains(&Scope::Admin)
    }

    /// Its scopes and named workflow grants, as stored and shown.
    pub fn grant_names(&self) -> Vec<String> {
        Grants {
            scopes: self.scopes.clone(),
            workflows: self.workflows.clone(),
        }
        .names()
    }
}

/// What a new key is made with.
#[derive(Debug, Clone)]
pub struct NewKey<'a> {
    pub name: &'a str,
    pub project: &'a str,
    pub scopes: &'a [Scope],
    /// Templates the key may run by name.
    pub workflows: &'a [String],
    pub rate_per_min: u32,
    pub max_concurrency: u32,
    pub created_by: &'a str,
}

/// Why a presented key was refused.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("not an API key (expected sy_<id>_<secret>)")]
    Malformed,
    #[error("unknown or wrong API key")]
    Unknown,
    #[error("this API key was revoked")]
    Revoked,
    #[error("the database failed: {0}")]
    Db(#[from] sqlx::Error),
}

fn secret_hash(secret: &str) -> Vec<u8> {
    blake3::hash(secret.as_bytes()).as_bytes().to_vec()
}

/// A stored key's columns.
#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    name: String,
    project: String,
    scopes: String,
    rate_per_min: i64,
    max_concurrency: i64,
    created_by: String,
    created_at_ms: i64,
    last_used_at_ms: Option<i64>,
    revoked_at_ms: Option<i64>,
}

/// The columns and the secret's hash, for checking a presented key.
#[derive(sqlx::FromRow)]
struct WithHash {
    #[sqlx(flatten)]
    row: Row,
    secret_hash: Vec<u8>,
}

const COLUMNS: &str = "id, name, project, scopes, rate_per_min, max_concurrency, created_by, \
                       created_at_ms, last_used_at_ms, revoked_at_ms";

fn key(row: Row) -> ApiKey {
    let grants = Grants::parse(&row.scopes).unwrap_or_default();
    ApiKey {
        id: row.id,
        name: row.name,
        project: row.project,
        scopes: grants.scopes,
        workflows: grants.workflows,
        rate_per_min: row.rate_per_min as u32,
        max_concurrency: row.max_concurrency as u32,
        created_by: row.created_by,
        created_at_ms: row.created_at_ms,
        last_used_at_ms: row.last_used_at_ms,
        revoked: row.revoked_at_ms.is_some(),
    }
}

/// Creates a key; returns it and the full secret, which is never shown again.
pub async fn create(db: &Database, new: &NewKey<'_>) -> Result<(ApiKey, String), sqlx::Error> {
    let id = crate::random::bytes(6)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    let secret = crate::random::token(32);
    let scopes = Grants {
        scopes: new.scopes.to_vec(),
        workflows: new.workflows.to_vec(),
    }
    .names();
    let created_at_ms = crate::now_ms();
    const SQL: &str = "INSERT INTO api_keys (id, name, project, scopes, rate_per_min, \
                       max_concurrency, secret_hash, created_by, created_at_ms) \
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    on_pool!(db, pool => {
        sqlx::query(SQL)
            .bind(&id)
            .bind(new.name)
            .bind(new.project)
            .bind(scopes.join(","))
            .bind(i64::from(new.rate_per_min))
            .bind(i64::from(new.max_concurrency))
            .bind(secret_hash(&secret))
            .bind(new.created_by)
            .bind(created_at_ms)
            .execute(pool)
            .await?;
    });
    let created = ApiKey {
        id: id.clone(),
        name: new.name.to_owned(),
        project: new.project.to_owned(),
        scopes: new.scopes.to_vec(),
        workflows: new.workflows.to_vec(),
        rate_per_min: new.rate_per_min,
        max_concurrency: new.max_concurrency,
        created_by: new.created_by.to_owned(),
        created_at_ms,
        last_used_at_ms: None,
        revoked: false,
    };
    Ok((created, format!("sy_{id}_{secret}")))
}

/// The key a presented secret belongs to, if it is valid and not revoked; records its use
/// (at most once a minute per key, so a busy key does not write on every request).
pub async fn authenticate(db: &Database, presented: &str) -> Result<ApiKey, KeyError> {
    let rest = presented.strip_prefix("sy_").ok_or(KeyError::Malformed)?;
    let (id, secret) = rest.split_once('_').ok_or(KeyError::Malformed)?;
    let sql = format!("SELECT {COLUMNS}, secret_hash FROM api_keys WHERE id = $1");
    let stored: Option<WithHash> =
        on_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?);
    let Some(WithHash {
        row,
        secret_hash: hash,
    }) = stored
    else {
        return Err(KeyError::Unknown);
    };
    if hash != secret_hash(secret) {
        return Err(KeyError::Unknown);
    }
    let found = key(row);
    if found.revoked {
        return Err(KeyError::Revoked);
    }
    let now = crate::now_ms();
    if found.last_used_at_ms.is_none_or(|t| now - t > 60_000) {
        const TOUCH: &str = "UPDATE api_keys SET last_used_at_ms = $2 WHERE id = $1";
        on_pool!(db, pool => {
            sqlx::query(TOUCH).bind(id).bind(now).execute(pool).await?;
        });
    }
    Ok(found)
}

/// Revokes a key at once; whether it existed and was live.
pub async fn revoke(db: &Database, id: &str) -> Result<bool, sqlx::Error> {
    const SQL: &str =
        "UPDATE api_keys SET revoked_at_ms = $2 WHERE id = $1 AND revoked_at_ms IS NULL";
    let done = on_pool!(db, pool => sqlx::query(SQL).bind(id).bind(crate::now_ms()).execute(pool).await?.rows_affected());
    Ok(done > 0)
}

/// Every key, newest first.
pub async fn list(db: &Database) -> Result<Vec<ApiKey>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys ORDER BY created_at_ms DESC, id");
    let rows: Vec<Row> = on_pool!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await?);
    Ok(rows.into_iter().map(key).collect())
}

/// Why a request over a key's limits was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Limited {
    #[error("rate limit of {per_min} requests per minute reached; retry in {retry_after:?}")]
    Rate { per_min: u32, retry_after: Duration },
    #[error("{max} requests already in flight for this caller")]
    Concurrency { max: u32, retry_after: Duration },
}

impl Limited {
    /// For the `Retry-After` header (whole seconds, at least 1).
    pub fn retry_after_s(&self) -> u64 {
        let wait = match self {
            Self::Rate { retry_after, .. } | Self::Concurrency { retry_after, .. } => *retry_after,
        };
        wait.as_secs_f64().ceil().max(1.0) as u64
    }
}

/// One key's token bucket and in-flight slots.
struct Budget {
    tokens: f64,
    refilled: Instant,
    slots: Arc<Semaphore>,
}

/// Per-caller limits in this process: a token bucket of `rate_per_min` tokens refilled
/// continuously (so a burst gets at most a minute's worth, then one token every
/// 60/rate s), and at most `max_concurrency` requests in flight. Limits are keyed on the API
/// key or the user, never on anything a client can spoof (such as `X-Forwarded-For`).
#[derive(Default, Clone)]
pub struct Limiter {
    budgets: Arc<Mutex<HashMap<String, Budget>>>,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter").finish_non_exhaustive()
    }
}

/// The limits of one caller: an API key's own, or the ones every signed-in user gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub rate_per_min: u32,
    pub max_concurrency: u32,
}

impl Limiter {
    /// Admits one request for `key`, holding one of its in-flight slots until the permit
    /// is dropped.
    pub fn admit(&self, key: &ApiKey) -> Result<OwnedSemaphorePermit, Limited> {
        self.admit_as(&format!("key:{}", key.id), key.limits())
    }

    /// Admits one request for the caller named `who` (`key:<id>`, `user:<id>`) under
    /// `limits`.
    pub fn admit_as(&self, who: &str, limits: Limits) -> Result<OwnedSemaphorePermit, Limited> {
        self.admit_at(who, limits, Instant::now())
    }

    fn admit_at(
        &self,
        who: &str,
        limits: Limits,
        now: Instant,
    ) -> Result<OwnedSemaphorePermit, Limited> {
        let capacity = f64::from(limits.rate_per_min.max(1));
        let per_s = capacity / 60.0;
        let mut budgets = self
            .budgets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let budget = budgets.entry(who.to_owned()).or_insert_with(|| Budget {
            tokens: capacity,
            refilled: now,
            slots: Arc::new(Semaphore::new(limits.max_concurrency.max(1) as usize)),
        });
        let elapsed = now.saturating_duration_since(budget.refilled).as_secs_f64();
        budget.tokens = (budget.tokens + elapsed * per_s).min(capacity);
        budget.refilled = now;
        if budget.tokens < 1.0 {
            return Err(Limited::Rate {
                per_min: limits.rate_per_min,
                retry_after: Duration::from_secs_f64((1.0 - budget.tokens) / per_s),
            });
        }
        let permit =
            budget
                .slots
                .clone()
                .try_acquire_owned()
                .map_err(|_| Limited::Concurrency {
                    max: limits.max_concurrency,
                    retry_after: Duration::from_secs(1),
                })?;
        budget.tokens -= 1.0;
        Ok(permit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(rate_per_min: u32, max_concurrency: u32) -> ApiKey {
        ApiKey {
            id: "k1".into(),
            name: "test".into(),
            project: "default".into(),
            scopes: vec![Scope::RunsRead],
            workflows: Vec::new(),
            rate_per_min,
            max_concurrency,
            created_by: "test".into(),
            created_at_ms: 0,
            last_used_at_ms: None,
            revoked: false,
        }
    }

    #[test]
    fn a_burst_gets_one_minutes_worth_within_five_percent_then_the_refill_rate() {
        let limiter = Limiter::default();
        let key = key(600, 10_000);
        let start = Instant::now();
        let mut held = Vec::new();
        let mut admitted = 0;
        for _ in 0..5_000 {
            if let Ok(permit) = limiter.admit_at("key:k1", key.limits(), start) {
                held.push(permit);
                admitted += 1;
            }
        }
        assert!(
            (570..=630).contains(&admitted),
            "{admitted} admitted of 5000"
        );
        // Ten seconds later: 600/min refills 100 tokens.
        let later = start + Duration::from_secs(10);
        let mut refilled = 0;
        for _ in 0..1_000 {
            if limiter.admit_at("key:k1", key.limits(), later).is_ok() {
                refilled += 1;
            }
        }
        assert!((95..=105).contains(&refilled), "{refilled}");
        let Err(limited) = limiter.admit_at("key:k1", key.limits(), later) else {
            panic!("over the limit")
        };
        assert!(matches!(limited, Limited::Rate { per_min: 600, .. }));
        assert_eq!(limited.retry_after_s(), 1);
    }

    #[test]
    fn concurrency_is_capped_and_released_when_a_request_ends() {
        let limiter = Limiter::default();
        let key = key(1_000, 2);
        let a = limiter.admit(&key).unwrap();
        let _b = limiter.admit(&key).unwrap();
        assert!(matches!(
            limiter.admit(&key),
            Err(Limited::Concurrency { max: 2, .. })
        ));
        drop(a);
        assert!(limiter.admit(&key).is_ok());
    }

    #[test]
    fn scopes_parse_and_name_the_unknown_one() {
        assert_eq!(
            Scope::parse_list("runs:read, runs:write,runs:read").unwrap(),
            [Scope::RunsRead, Scope::RunsWrite]
        );
        let err = Scope::parse_list("runs:read,root").unwrap_err();
        assert!(err.starts_with("unknown scope 'root'"), "{err}");
        assert!(Scope::parse_list("").is_err());
    }

    #[test]
    fn named_workflow_grants_parse_and_round_trip() {
        let grants =
            Grants::parse("runs:read,workflows:run:onboard,workflows:run:onboard").unwrap();
        assert_eq!(grants.scopes, [Scope::RunsRead]);
        assert_eq!(grants.workflows, ["onboard"]);
        assert_eq!(grants.names(), ["runs:read", "workflows:run:onboard"]);
        assert_eq!(Grants::parse(&grants.names().join(",")).unwrap(), grants);
        assert_eq!(
            Grants::parse("workflows:run").unwrap().scopes,
            [Scope::WorkflowsRun]
        );
        let bad = Grants::parse("workflows:run:Bad Name").unwrap_err();
        assert!(
            bad.starts_with("invalid scope 'workflows:run:Bad Name'"),
            "{bad}"
        );
        assert!(Grants::parse("workflows:run:").is_err());
    }
}
