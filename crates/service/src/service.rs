//! [`Service`]: the engines, started together, behind the use cases. The binary and the tests
//! start it the same way: [`Service::start`] with a migrated database, the tiered store, the
//! access rules and the [`Settings`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use switchyard_auth::kill::KillSwitches;
use switchyard_db::Database;
use switchyard_inference::{Host, HostSettings};
use switchyard_orchestrator::catalog::ToolAccess;
use switchyard_orchestrator::engine::{Engine, EngineConfig, EngineError};
use switchyard_orchestrator::runlog::RunLog;
use switchyard_orchestrator::tools::http::HttpConfig;
use switchyard_orchestrator::{AgentSpec, Catalog};
use switchyard_planner::{LlmTool, Planner, PlannerSettings};
use switchyard_store::{Policy, Store};
use tokio_util::sync::CancellationToken;

use crate::access::Access;
use crate::planning::Planning;

/// What the service runs with, beyond its database, store and access rules.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Names this process in leases and in the nodes table.
    pub node_id: String,
    /// Hosts the `http` tool may call; empty: any.
    pub http_allow_hosts: Vec<String>,
    /// How long a lease lasts without a heartbeat.
    pub lease_ttl: Duration,
    /// The most unfinished runs this process owns at once.
    pub max_runs: usize,
    /// The models to load and their limits.
    pub inference: HostSettings,
    /// How goals are planned.
    pub planner: PlannerSettings,
    /// Move data down the store's tiers every so often under this policy; `None`: never
    /// (tests, and the store's own commands).
    pub maintenance: Option<(Policy, Duration)>,
    /// Where uploads wait to become datasets, and how large one may be.
    pub datasets: crate::datasets::DatasetSettings,
}

/// Why the service did not start. Each names the setting or part involved.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Inference(String),
    #[error("invalid planner_tools '{unknown}': not a tool (tools: {tools})")]
    PlannerTool { unknown: String, tools: String },
    #[error("cannot start the orchestrator: {0}")]
    Engine(#[from] EngineError),
}

/// The use cases' home. Cheap to clone: every clone shares the same engines.
#[derive(Debug, Clone)]
pub struct Service {
    inner: Arc<Inner>,
    /// Outside `inner`: the same engines can answer under other access rules
    /// ([`Service::with_access`]).
    access: Access,
}

#[derive(Debug)]
struct Inner {
    db: Database,
    engine: Engine,
    runs: RunLog,
    store: Store,
    inference: Host,
    planning: Planning,
    /// Plannings that tabs follow as the model writes.
    planning_watches: crate::planning::watch::PlanningWatches,
    /// Chat answers being written in this process.
    answers: Arc<crate::chat::answers::Answers>,
    /// Uploads checked and waiting to be written as datasets.
    staging: crate::datasets::staging::Staging,
    datasets: crate::datasets::DatasetSettings,
    node_id: String,
    switches: KillSwitches,
    started: Instant,
    /// Whose notifications bell changed (a recipient per message).
    bell: tokio::sync::broadcast::Sender<String>,
    /// The live sockets' followed runs.
    followers: crate::followers::Followers,
    /// Stops the background work at shutdown.
    stop: CancellationToken,
}

impl Service {
    /// Starts the model host (models load in the background), the engine with the built-in
    /// tools and the `llm` tool behind their kill switches, the planner over the same
    /// catalog, and the background work (usage figures; tiering when configured).
    pub async fn start(
        db: Database,
        store: Store,
        access: Access,
        settings: Settings,
    ) -> Result<Self, StartError> {
        let inference = Host::start(settings.inference.clone()).map_err(StartError::Inference)?;
        let switches = KillSwitches::new(db.clone());
        let runs = RunLog::new(db.clone());
        let (engine, planning) =
            start_engine(runs.clone(), &settings, &inference, &switches).await?;
        let stop = CancellationToken::new();
        tokio::spawn(crate::background::record_usage(
            inference.clone(),
            store.clone(),
        ));
        if let Some((policy, interval)) = settings.maintenance {
            tokio::spawn(crate::background::maintain(
                store.clone(),
                policy,
                interval,
                stop.clone(),
            ));
        }
        // Before any request can start a new write on this node.
        let unfinished = crate::datasets::write::fail_unfinished(&db, &settings.node_id).await;
        tokio::spawn(crate::datasets::write::remove_unfinished(
            store.clone(),
            unfinished,
        ));
        let followers = crate::followers::Followers::default();
        tokio::spawn(crate::followers::fan_out(
            followers.clone(),
            engine.subscribe(),
            stop.clone(),
        ));
        let service = Self {
            inner: Arc::new(Inner {
                db,
                engine,
                runs,
                store,
                inference,
                planning,
                planning_watches: Default::default(),
                answers: Default::default(),
                staging: crate::datasets::staging::Staging::new(
                    settings.datasets.staging_dir.clone(),
                ),
                datasets: settings.datasets.clone(),
                node_id: settings.node_id.clone(),
                switches,
                started: Instant::now(),
                bell: tokio::sync::broadcast::channel(256).0,
                followers,
                stop: stop.clone(),
            }),
            access,
        };
        tokio::spawn(crate::query::feed::feed(service.clone(), stop.clone()));
        tokio::spawn(crate::query::feed::backfill(service.clone()));
        tokio::spawn(crate::notifications::feed(service.clone(), stop));
        Ok(service)
    }

    /// Stops the background work and the engine (it hands back its leases).
    pub async fn shutdown(&self) {
        self.inner.stop.cancel();
        self.inner.engine.shutdown().await;
    }

    pub fn db(&self) -> &Database {
        &self.inner.db
    }

    /// The durable orchestrator.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The orchestrator's tables: runs, steps, events.
    pub fn runs(&self) -> &RunLog {
        &self.inner.runs
    }

    /// The tiered store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The model host (mistral.rs).
    pub fn inference(&self) -> &Host {
        &self.inner.inference
    }

    /// Goals into plans.
    pub fn planning(&self) -> &Planning {
        &self.inner.planning
    }

    /// Plannings that tabs follow as the model writes.
    pub fn planning_watches(&self) -> &crate::planning::watch::PlanningWatches {
        &self.inner.planning_watches
    }

    /// Chat answers being written in this process.
    pub fn answers(&self) -> &Arc<crate::chat::answers::Answers> {
        &self.inner.answers
    }

    /// Uploads checked and waiting to be written as datasets.
    pub fn staging(&self) -> &crate::datasets::staging::Staging {
        &self.inner.staging
    }

    /// Where uploads wait, and how large one may be.
    pub fn dataset_settings(&self) -> &crate::datasets::DatasetSettings {
        &self.inner.datasets
    }

    /// This process's name in leases, the nodes table and datasets being written.
    pub fn node_id(&self) -> &str {
        &self.inner.node_id
    }

    /// Token keys, accounts, limits: who calls.
    pub fn access(&self) -> &Access {
        &self.access
    }

    /// The same engines under other access rules (sign-in on or off, other limits).
    pub fn with_access(mut self, access: Access) -> Self {
        self.access = access;
        self
    }

    /// Capabilities an admin may have switched off.
    pub fn switches(&self) -> &KillSwitches {
        &self.inner.switches
    }

    /// Tells the live sockets whose notifications bell changed.
    pub(crate) fn bell(&self) -> &tokio::sync::broadcast::Sender<String> {
        &self.inner.bell
    }

    /// Who follows which run on the live sockets, with the events of those runs.
    pub fn followers(&self) -> &crate::followers::Followers {
        &self.inner.followers
    }

    /// When this service started.
    pub fn started(&self) -> Instant {
        self.inner.started
    }
}

/// The built-in tools, the `llm` tool on `host`, and one agent, `default`, that may use them
/// all; and the planner over the same catalog.
async fn start_engine(
    runs: RunLog,
    settings: &Settings,
    host: &Host,
    switches: &KillSwitches,
) -> Result<(Engine, Planning), StartError> {
    let http = HttpConfig {
        allowed_hosts: (!settings.http_allow_hosts.is_empty())
            .then(|| settings.http_allow_hosts.clone()),
        ..HttpConfig::default()
    };
    let mut tools = switchyard_orchestrator::tools::builtins(http);
    tools.push(Arc::new(LlmTool::new(host.clone())));
    let tools = crate::gate::gate(tools, switches);
    let catalog = || {
        Catalog::new(
            tools.iter().map(|t| t.spec()),
            [AgentSpec::new("default", ToolAccess::Any)],
        )
        .expect("the built-in tools form a valid catalog")
    };
    let planner_catalog = catalog();
    if let Some(unknown) = settings
        .planner
        .tools
        .iter()
        .find(|t| planner_catalog.tool(t).is_none())
    {
        return Err(StartError::PlannerTool {
            unknown: unknown.clone(),
            tools: planner_catalog.tool_names().join(", "),
        });
    }
    let engine_config = EngineConfig {
        worker_id: settings.node_id.clone(),
        lease_ttl: settings.lease_ttl,
        max_runs: settings.max_runs,
        ..EngineConfig::default()
    };
    let planning = Planning {
        planner: Planner::new(host.clone(), settings.planner.clone()),
        catalog: Arc::new(planner_catalog),
        limits: engine_config.plan_limits,
    };
    let engine = Engine::start(runs, catalog(), tools, engine_config).await?;
    Ok((engine, planning))
}
