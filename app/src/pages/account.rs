//! The account page: who is signed in, and changing the password.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::server_fns::account::ChangePassword;
use crate::shell::CurrentAccount;

#[component]
pub fn AccountPage() -> impl IntoView {
    let account = CurrentAccount::expect().0;
    let change = ServerAction::<ChangePassword>::new();
    let outcome = move || {
        change.value().get().map(|result| match result {
            Ok(()) => view! {
                <p class="notice notice-ok" role="status" id="password-changed">
                    "Password changed. Every login of this account has ended; sign in again with the new password."
                </p>
            }
            .into_any(),
            Err(e) => view! {
                <p class="notice notice-error" role="alert" id="password-error">{server_message(&e)}</p>
            }
            .into_any(),
        })
    };
    view! {
        <Title text="Account" />
        <div class="page">
            <header class="page-header">
                <h1>"Account"</h1>
                <Transition fallback=|| view! { <p class="muted">"…"</p> }>
                    {move || Suspend::new(async move {
                        match account.await {
                            Ok(a) if a.signed_in => format!("Signed in as {} ({})", a.email, a.role),
                            _ => "Sign-in is off on this server: everyone is the local operator.".to_owned(),
                        }
                    })}
                </Transition>
            </header>
            <section class="card narrow-card" aria-labelledby="password-title">
                <h2 id="password-title">"Change password"</h2>
                <ActionForm action=change attr:class="stack-form" attr:id="password-form">
                    <label class="field">
                        <span>"Current password"</span>
                        <input type="password" name="current" autocomplete="current-password" required />
                    </label>
                    <label class="field">
                        <span>"New password (at least 12 characters)"</span>
                        <input type="password" name="new" autocomplete="new-password" minlength="12" required />
                    </label>
                    <button type="submit" class="button">"Change password"</button>
                </ActionForm>
                {outcome}
            </section>
        </div>
    }
}

/// A server function's error as a person reads it (without the `error running server
/// function:` wrapping).
pub fn server_message(e: &ServerFnError) -> String {
    match e {
        ServerFnError::ServerError(message) => message.clone(),
        other => other.to_string(),
    }
}
