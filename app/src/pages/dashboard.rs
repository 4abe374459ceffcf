//! The dashboard: system status now; metrics charts and the agent graph land with their issues.

use leptos::prelude::*;
use leptos_meta::Title;
use switchyard_protocol::{Health, HealthStatus};

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
        </dl>
    }
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
    use super::format_uptime;

    #[test]
    fn uptime_reads_like_a_person_would_say_it() {
        assert_eq!(format_uptime(0), "0s");
        assert_eq!(format_uptime(59), "59s");
        assert_eq!(format_uptime(61), "1m 1s");
        assert_eq!(format_uptime(3725), "1h 2m 5s");
    }
}
