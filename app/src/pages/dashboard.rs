//! The dashboard: the system's health — the same document as `GET /api/v1/health`: database,
//! the tiered store, the models.

use leptos::prelude::*;
use leptos_meta::Title;
use switchyard_protocol::{Health, HealthStatus, InferenceHealth, ModelHealth, ServiceHealth};

use crate::nav::SECTIONS;
use crate::server_fns::system::system_health;

#[component]
pub fn Dashboard() -> impl IntoView {
    let refresh = RwSignal::new(0_u32);
    let health = Resource::new(move || refresh.get(), |_| system_health());

    view! {
        <Title text="Dashboard" />
        <div class="page">
            <header class="page-header">
                <h1>"Dashboard"</h1>
                <p class="muted">"What Switchyard is doing, at a glance."</p>
            </header>
            <div class="card-grid">
                <section class="card" aria-labelledby="system-title">
                    <header class="card-header">
                        <h2 id="system-title">"System"</h2>
                        <button
                            class="ghost-button"
                            id="refresh-health"
                            on:click=move |_| refresh.update(|n| *n += 1)
                        >
                            "Refresh"
                        </button>
                    </header>
                    <Transition fallback=|| view! { <p class="muted">"Checking…"</p> }>
                        {move || Suspend::new(async move {
                            match health.await {
                                Ok(h) => view! { <HealthFacts health=h /> }.into_any(),
                                Err(e) => {
                                    view! {
                                        <p class="error-text" role="alert">
                                            {format!("Could not reach the server: {e}")}
                                        </p>
                                    }
                                        .into_any()
                                }
                            }
                        })}
                    </Transition>
                </section>
                <section class="card" aria-labelledby="sections-title">
                    <header class="card-header">
                        <h2 id="sections-title">"Where things live"</h2>
                    </header>
                    <ul class="section-list">
                        {SECTIONS
                            .iter()
                            .skip(1)
                            .map(|s| {
                                view! {
                                    <li>
                                        <a href=s.path>{s.label}</a>
                                        <span class="muted">{s.summary}</span>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </section>
            </div>
        </div>
    }
}

#[component]
fn HealthFacts(health: Health) -> impl IntoView {
    let (label, class) = match health.status {
        HealthStatus::Ok => ("Healthy", "pill pill-ok"),
        HealthStatus::Degraded => ("Degraded", "pill pill-warn"),
    };
    let db = format!(
        "{} · {}",
        health.database.kind.as_str(),
        if health.database.ok {
            "ok"
        } else {
            "not answering"
        }
    );
    let store = health.store.map(|store| {
        let queued = (store.queued_writes > 0).then(|| {
            view! {
                <dt>"Queued writes"</dt>
                <dd data-testid="queued-writes">
                    {format!("{} of {}", store.queued_writes, store.queue_limit)}
                </dd>
            }
        });
        view! {
            <dt>"Object storage"</dt>
            <dd data-testid="objects">{reachability(&store.objects)}</dd>
            {queued}
        }
    });
    let inference = health.inference.map(|inference| {
        view! {
            <dt>"Models"</dt>
            <dd data-testid="models">
                <ul class="fact-list">
                    {model_lines(&inference)
                        .into_iter()
                        .map(|line| view! { <li>{line}</li> })
                        .collect_view()}
                </ul>
            </dd>
            <dt>"Device"</dt>
            <dd data-testid="device">{inference.device}</dd>
        }
    });
    view! {
        <dl class="facts" id="system-facts">
            <dt>"Status"</dt>
            <dd>
                <span class=class data-status=label>{label}</span>
            </dd>
            <dt>"Version"</dt>
            <dd>{health.version}</dd>
            <dt>"Uptime"</dt>
            <dd>{format_uptime(health.uptime_s)}</dd>
            <dt>"Database"</dt>
            <dd data-testid="database">{db}</dd>
            {store}
            {inference}
        </dl>
    }
}

/// `ok`, or what failed.
fn reachability(service: &ServiceHealth) -> String {
    match (&service.ok, &service.error) {
        (true, _) => "ok".into(),
        (false, Some(error)) => format!("not answering: {error}"),
        (false, None) => "not answering".into(),
    }
}

/// One line a model (`qwen · ready · default`, `llama · loading 40 %`, `x · failed: …`), or,
/// with none configured, the host's word on which setting to set.
fn model_lines(inference: &InferenceHealth) -> Vec<String> {
    if inference.models.is_empty() {
        return vec![
            inference
                .message
                .clone()
                .unwrap_or_else(|| "no model configured: set `models`".into()),
        ];
    }
    inference.models.iter().map(model_line).collect()
}

fn model_line(model: &ModelHealth) -> String {
    let state = match (model.state.as_str(), &model.error) {
        ("loading", _) => format!("loading {} %", model.progress_pct),
        ("failed", Some(error)) => format!("failed: {error}"),
        (state, _) => state.to_owned(),
    };
    let default = if model.default { " · default" } else { "" };
    format!("{} · {state}{default}", model.id)
}

/// `3725` → `1h 2m 5s`.
fn format_uptime(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m {s}s"),
        _ => format!("{h}h {m}m {s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_reads_like_a_person_would_say_it() {
        assert_eq!(format_uptime(0), "0s");
        assert_eq!(format_uptime(59), "59s");
        assert_eq!(format_uptime(61), "1m 1s");
        assert_eq!(format_uptime(3725), "1h 2m 5s");
    }

    fn model(state: &str, error: Option<&str>) -> ModelHealth {
        ModelHealth {
            id: "qwen".into(),
            path: "/m/qwen.gguf".into(),
            state: state.into(),
            progress_pct: 40,
            error: error.map(str::to_owned),
            load_ms: None,
            default: true,
        }
    }

    #[test]
    fn models_read_as_their_state_or_the_setting_to_set() {
        assert_eq!(model_line(&model("ready", None)), "qwen · ready · default");
        assert_eq!(
            model_line(&model("loading", None)),
            "qwen · loading 40 % · default"
        );
        assert_eq!(
            model_line(&model("failed", Some("bad magic"))),
            "qwen · failed: bad magic · default"
        );
        let none = InferenceHealth {
            device: "cpu (2 threads)".into(),
            models: Vec::new(),
            running: 0,
            max_concurrent: 4,
            waiting: 0,
            queue_limit: 32,
            message: Some("no model is configured: set `models`".into()),
            plan_cache: None,
        };
        assert_eq!(model_lines(&none), ["no model is configured: set `models`"]);
        let down = ServiceHealth {
            ok: false,
            error: Some("connection refused".into()),
            since_ms: None,
        };
        assert_eq!(reachability(&down), "not answering: connection refused");
    }
}
