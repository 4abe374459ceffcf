//! What a person can do to a run from its page: cancel (with a reason), pause, resume, and
//! run its plan again as a new run. Each control is disabled, with the reason as its title,
//! when the run's state does not allow it; viewers see none.

use leptos::prelude::*;

use super::account::server_message;
use crate::server_fns::runs::{RerunRun, SteerRun};

/// Why a control is unavailable in `status`, or `None` when it is available.
fn unavailable(action: &str, status: &str) -> Option<&'static str> {
    let ended = matches!(status, "succeeded" | "failed" | "cancelled");
    match action {
        _ if ended => Some("the run has ended"),
        "cancel" if status == "compensating" => Some("the run is undoing its steps already"),
        "pause" if status == "paused" => Some("the run is paused already"),
        "pause" if status == "compensating" => Some("the saga is running; it cannot pause"),
        "resume" if status != "paused" => Some("only a paused run resumes"),
        _ => None,
    }
}

#[component]
pub fn RunControls(
    id: String,
    /// The run's status, kept current as events arrive.
    status: Signal<String>,
    steer: ServerAction<SteerRun>,
    rerun: ServerAction<RerunRun>,
    /// False for a run whose goal could not be planned: it has nothing to run again.
    has_plan: bool,
) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let rerun_id = id.clone();
    let no_plan =
        (!has_plan).then_some("its goal could not be planned: there is no plan to run again");
    let button = move |action: &'static str, label: &'static str, class: &'static str| {
        let id = id.clone();
        let why = move || status.with(|s| unavailable(action, s));
        view! {
            <button
                class=class
                data-action=action
                disabled=move || why().is_some() || steer.pending().get()
                title=move || why().unwrap_or(label)
                on:click=move |_| {
                    let reason = (action == "cancel").then(|| reason.get_untracked());
                    steer.dispatch(SteerRun {
                        id: id.clone(),
                        action: action.to_owned(),
                        reason,
                    });
                }
            >
                {label}
            </button>
        }
    };
    view! {
        <section class="card run-controls" id="run-controls" aria-label="Steer the run">
            <label class="field">
                <span>"Reason for cancelling (recorded with the run)"</span>
                <input
                    type="text"
                    id="cancel-reason"
                    placeholder="Why"
                    prop:value=move || reason.get()
                    on:input=move |ev| reason.set(event_target_value(&ev))
                />
            </label>
            <div class="plan-actions">
                {button("pause", "Pause", "ghost-button")}
                {button("resume", "Resume", "ghost-button")}
                {button("cancel", "Cancel run", "ghost-button danger")}
                <button
                    class="ghost-button"
                    data-action="rerun"
                    disabled=move || no_plan.is_some() || rerun.pending().get()
                    title=no_plan.unwrap_or("Run the same plan again as a new run, linked to this one")
                    on:click=move |_| {
                        rerun.dispatch(RerunRun { id: rerun_id.clone() });
                    }
                >
                    "Run again"
                </button>
            </div>
            {move || steer.value().get().and_then(Result::err).map(|e| {
                view! { <p class="notice notice-error" role="alert">{server_message(&e)}</p> }
            })}
            {move || rerun.value().get().and_then(Result::err).map(|e| {
                view! { <p class="notice notice-error" role="alert">{server_message(&e)}</p> }
            })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::unavailable;

    #[test]
    fn controls_follow_the_run_state() {
        assert_eq!(unavailable("cancel", "running"), None);
        assert_eq!(unavailable("pause", "running"), None);
        assert_eq!(
            unavailable("resume", "running"),
            Some("only a paused run resumes")
        );
        assert_eq!(unavailable("resume", "paused"), None);
        assert_eq!(
            unavailable("pause", "paused"),
            Some("the run is paused already")
        );
        assert_eq!(
            unavailable("cancel", "succeeded"),
            Some("the run has ended")
        );
    }
}
