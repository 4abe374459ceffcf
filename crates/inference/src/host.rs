//! The host: the configured models, each loading or loaded, the device they run on, the
//! admission control they share, and the usage they report.
//!
//! Every loaded model is a mistral.rs engine, which runs on its own thread with its own tokio
//! runtime; a request carries its own response channel to it (see [`crate::generate`]).
//! Loading happens on one loader thread, in config order, so the server answers (health says
//! "loading" with a percentage) while weights are read.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::broadcast;

use crate::admission::Admission;
use crate::error::InferenceError;
use crate::loader;
use crate::settings::{HostSettings, Limits, ModelSpec};
use crate::types::Usage;
use switchyard_protocol::{InferenceHealth, ModelHealth};

/// A model that answers requests.
pub struct Loaded {
    pub spec: ModelSpec,
    pub model: mistralrs::Model,
    /// Wall time from the start of loading to the engine answering.
    pub load_time: Duration,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
enum Slot {
    /// Per mille of the weights read so far.
    Loading(Arc<AtomicU32>),
    Ready(Arc<Loaded>),
    Failed(String),
}

pub(crate) struct Inner {
    pub(crate) settings: HostSettings,
    pub(crate) device: mistralrs::Device,
    device_name: String,
    /// Short sections only, never held across an `.await`.
    slots: RwLock<BTreeMap<String, Slot>>,
    pub(crate) admission: Arc<Admission>,
    pub(crate) usage: broadcast::Sender<Usage>,
}

/// The model host. Cheap to clone.
#[derive(Clone)]
pub struct Host {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("device", &self.inner.device_name)
            .finish_non_exhaustive()
    }
}

impl Host {
    /// Starts loading every configured model in the background and returns at once. With no
    /// models the host answers every request with [`InferenceError::NoModel`].
    pub fn start(settings: HostSettings) -> Result<Self, String> {
        let device = mistralrs::best_device(settings.force_cpu)
            .map_err(|e| format!("cannot open the inference device: {e}"))?;
        let device_name = describe(&device);
        tracing::info!(device = %device_name, models = settings.models.len(), "inference device");
        let slots = settings
            .models
            .iter()
            .map(|m| (m.id.clone(), Slot::Loading(Arc::new(AtomicU32::new(0)))))
            .collect();
        let admission = Admission::new(settings.limits.max_concurrent, settings.limits.queue);
        let host = Self {
            inner: Arc::new(Inner {
                settings,
                device,
                device_name,
                slots: RwLock::new(slots),
                admission,
                usage: broadcast::channel(1024).0,
            }),
        };
        if !host.inner.settings.models.is_empty() {
            let loading = host.clone();
            std::thread::Builder::new()
                .name("model-loader".into())
                .spawn(move || loading.load_all())
                .map_err(|e| format!("cannot start the model loader: {e}"))?;
        }
        Ok(host)
    }

    /// Waits until no model is loading any more (each ready or failed); `false` on timeout.
    pub async fn wait_loaded(&self, timeout: Duration) -> bool {
        let until = tokio::time::Instant::now() + timeout;
        loop {
            let loading = self
                .inner
                .slots
                .read()
                .expect("slots lock")
                .values()
                .any(|s| matches!(s, Slot::Loading(_)));
            if !loading {
                return true;
            }
            if tokio::time::Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The limits every request is held to.
    pub fn limits(&self) -> &Limits {
        &self.inner.settings.limits
    }

    /// Whether any model is configured.
    pub fn configured(&self) -> bool {
        !self.inner.settings.models.is_empty()
    }

    /// The model a request without a `model` goes to.
    pub fn default_model(&self) -> Option<&str> {
        self.inner.settings.default_id()
    }

    /// Usage of every finished request, as it happens.
    pub fn subscribe_usage(&self) -> broadcast::Receiver<Usage> {
        self.inner.usage.subscribe()
    }

    /// The model named `id` (or the default), ready to serve.
    pub fn model(&self, id: Option<&str>) -> Result<Arc<Loaded>, InferenceError> {
        let id = match id.filter(|s| !s.is_empty()) {
            Some(id) => id,
            None => self.default_model().ok_or(InferenceError::NoModel)?,
        };
        let slots = self.inner.slots.read().expect("slots lock");
        match slots.get(id) {
            None if slots.is_empty() => Err(InferenceError::NoModel),
            None => Err(InferenceError::UnknownModel(id.to_owned())),
            Some(Slot::Ready(loaded)) => Ok(loaded.clone()),
            Some(Slot::Loading(progress)) => Err(InferenceError::NotReady {
                id: id.to_owned(),
                state: format!(
                    "loading ({:.0}%)",
                    f64::from(progress.load(Ordering::Relaxed)) / 10.0
                ),
            }),
            Some(Slot::Failed(error)) => Err(InferenceError::NotReady {
                id: id.to_owned(),
                state: format!("failed to load: {error}"),
            }),
        }
    }

    /// Ids of the models that answer requests now.
    pub fn ready_models(&self) -> Vec<String> {
        let slots = self.inner.slots.read().expect("slots lock");
        slots
            .iter()
            .filter(|(_, s)| matches!(s, Slot::Ready(_)))
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// The health document's inference section (the plan cache is the planner's to fill).
    pub fn status(&self) -> InferenceHealth {
        let default = self.default_model();
        let slots = self.inner.slots.read().expect("slots lock");
        let models = self
            .inner
            .settings
            .models
            .iter()
            .map(|spec| {
                let (state, progress_pct, error, load_ms) = match slots.get(&spec.id) {
                    Some(Slot::Loading(p)) => (
                        "loading",
                        u8::try_from(p.load(Ordering::Relaxed) / 10)
                            .unwrap_or(99)
                            .min(99),
                        None,
                        None,
                    ),
                    Some(Slot::Ready(l)) => (
                        "ready",
                        100,
                        None,
                        Some(u64::try_from(l.load_time.as_millis()).unwrap_or(u64::MAX)),
                    ),
                    Some(Slot::Failed(e)) => ("failed", 0, Some(e.clone()), None),
                    None => ("failed", 0, Some("not loaded".into()), None),
                };
                ModelHealth {
                    id: spec.id.clone(),
                    path: spec.path.display().to_string(),
                    state: state.to_owned(),
                    progress_pct,
                    error,
                    load_ms,
                    default: default == Some(spec.id.as_str()),
                }
            })
            .collect();
        let admission = &self.inner.admission;
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        InferenceHealth {
            device: self.inner.device_name.clone(),
            models,
            running: count(admission.running()),
            max_concurrent: count(admission.max_concurrent()),
            waiting: count(admission.waiting()),
            queue_limit: count(admission.queue_limit()),
            message: (!self.configured()).then(|| InferenceError::NoModel.to_string()),
            plan_cache: None,
        }
    }

    /// The loader thread: each model in config order, on a runtime of its own (mistral.rs's
    /// builders are async; its engines then run on threads of their own).
    fn load_all(self) {
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                let error = format!("cannot start the loader runtime: {e}");
                for spec in &self.inner.settings.models {
                    self.set(&spec.id, Slot::Failed(error.clone()));
                }
                return;
            }
        };
        for spec in self.inner.settings.models.clone() {
            let progress = match self.inner.slots.read().expect("slots lock").get(&spec.id) {
                Some(Slot::Loading(p)) => p.clone(),
                _ => continue,
            };
            let started = std::time::Instant::now();
            let cache_dir = self
                .inner
                .settings
                .cache_dir
                .clone()
                .unwrap_or_else(|| std::env::temp_dir().join("switchyard-models"));
            let loaded = runtime.block_on(loader::load(
                &spec,
                &self.inner.device,
                self.inner.settings.limits.max_concurrent,
                &cache_dir,
                &progress,
            ));
            match loaded {
                Ok(model) => {
                    let load_time = started.elapsed();
                    tracing::info!(model = %spec.id, ms = load_time.as_millis() as u64, "model ready");
                    self.set(
                        &spec.id,
                        Slot::Ready(Arc::new(Loaded {
                            spec: spec.clone(),
                            model,
                            load_time,
                        })),
                    );
                }
                Err(e) => {
                    tracing::error!(model = %spec.id, error = %e, "model failed to load");
                    self.set(&spec.id, Slot::Failed(e));
                }
            }
        }
    }

    fn set(&self, id: &str, slot: Slot) {
        self.inner
            .slots
            .write()
            .expect("slots lock")
            .insert(id.to_owned(), slot);
    }
}

fn describe(device: &mistralrs::Device) -> String {
    if device.is_cuda() {
        "cuda:0".to_owned()
    } else if device.is_metal() {
        "metal:0".to_owned()
    } else {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        format!("cpu ({threads} threads)")
    }
}
