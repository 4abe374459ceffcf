//! One run: its status and project, and every step with what its agent produced. Outputs
//! and errors are Markdown from agents and models, rendered sanitised
//! ([`crate::markdown`]): raw HTML shows as text, no script links, no remote images.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use switchyard_protocol::RunDetail;

use super::run_controls::RunControls;
use super::runs::status_class;
use crate::markdown::to_safe_html;
use crate::pages::account::server_message;
use crate::server_fns::runs::run_detail;

#[component]
pub fn RunPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    // Live: every event of the run re-reads it; a control's answer does too.
    let live = crate::live::Live::expect();
    let steer = ServerAction::<crate::server_fns::runs::SteerRun>::new();
    let events = Memo::new(move |_| live.follow(&id()));
    let run = Resource::new(
        move || (id(), events.get().with(Vec::len), steer.version().get()),
        |(id, _, _)| run_detail(id),
    );
    let account = crate::shell::CurrentAccount::expect().0;
    view! {
        <Title text="Run" />
        <div class="page">
            <Transition fallback=|| view! { <p class="muted">"Loading the run…"</p> }>
                {move || Suspend::new(async move {
                    let steers = account.await.is_ok_and(|a| a.may_decide());
                    match run.await {
                        Ok(detail) => view! { <RunView detail steer steers /> }.into_any(),
                        Err(e) => view! {
                            <header class="page-header">
                                <h1>"Run not found"</h1>
                            </header>
                            <p class="error-text" role="alert" id="run-error">{server_message(&e)}</p>
                            <A href="/runs">"All runs"</A>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

/// The run; `steers`: whether the account may steer it (the controls).
#[component]
fn RunView(
    detail: RunDetail,
    steer: ServerAction<crate::server_fns::runs::SteerRun>,
    steers: bool,
) -> impl IntoView {
    let status = detail.status.clone();
    let controls = steers.then(|| {
        view! { <RunControls id=detail.id.clone() status=status.clone() steer /> }
    });
    view! {
        <header class="page-header">
            <p class="muted small"><A href="/runs">"Runs"</A> " / " <code>{detail.id.clone()}</code></p>
            <h1 class="run-title">
                "Run "
                <span class=status_class(&status) data-status=status.clone() id="run-status">
                    {status.replace('_', " ")}
                </span>
            </h1>
            <p class="muted">
                {format!("Project {} · {} events", detail.project, detail.events)}
                {detail.reason.map(|r| format!(" · {r}"))}
            </p>
        </header>
        {controls}
        <ol class="step-list" id="run-steps">
            {detail
                .steps
                .into_iter()
                .map(|step| {
                    let key = step.key.clone();
                    let status = step.status.clone();
                    view! {
                        <li class="card step-card" data-step=key>
                            <div class="step-head">
                                <strong>{step.key}</strong>
                                <span class="muted small">{format!("{} · {}", step.agent, step.tool)}</span>
                                <span class=status_class(&status)>{status.replace('_', " ")}</span>
                                <span class="muted small">{format!("attempt {} of {}", step.attempt, step.max_attempts)}</span>
                            </div>
                            {step.output.map(|markdown| {
                                view! { <div class="markdown step-output" inner_html=to_safe_html(&markdown)></div> }
                            })}
                            {step.error.map(|markdown| {
                                view! { <div class="markdown step-error" inner_html=to_safe_html(&markdown)></div> }
                            })}
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}
