//! What a person can do to a run from its page: cancel (with a reason), pause, resume. Each
//! control is disabled, with the reason as its title, when the run's state does not allow it;
//! viewers see none.

use leptos::prelude::*;

use super::account::server_message;
use crate::server_fns::runs::SteerRun;

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
pub fn RunControls(id: String, status: String, steer: ServerAction<SteerRun>) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let button = move |action: &'static str, label: &'static str, class: &'static str| {
        let id = id.clone();
        let why = unavailable(action, &status);
        view! {
            <button
                class=class
                data-action=action
                disabled=move || why.is_some() || steer.pending().get()
                title=why.unwrap_or(label)
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
            </div>
            {move || steer.value().get().and_then(Result::err).map(|e| {
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
