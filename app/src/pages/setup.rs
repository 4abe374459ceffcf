//! The first-run page of a server with no account yet: create the first admin. A plain HTML
//! form posted to `POST /setup` (works before and without the WASM bundle); the server
//! signs the new admin in, or comes back here with `?error=` saying what was wrong. Once any
//! account exists, the server sends this page's visitors to `/login`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn Setup() -> impl IntoView {
    let query = use_query_map();
    let error = move || query.read().get("error");
    view! {
        <Title text="Set up" />
        <main class="login-page">
            <form class="login-card card" method="post" action="/setup" id="setup-form">
                <div class="login-brand">
                    <span class="brand-mark" aria-hidden="true"></span>
                    <h1>"Welcome to Switchyard"</h1>
                </div>
                <p class="muted">
                    "This server has no account yet. Create the first admin: it can invite everyone else from the Admin page."
                </p>
                {move || error().map(|e| view! { <p class="login-error" role="alert">{e}</p> })}
                <label class="field">
                    <span>"Email"</span>
                    <input type="email" name="email" autocomplete="username" required autofocus />
                </label>
                <label class="field">
                    <span>"Password (at least 12 characters)"</span>
                    <input type="password" name="password" autocomplete="new-password" required />
                </label>
                <label class="field">
                    <span>"Repeat the password"</span>
                    <input type="password" name="repeat" autocomplete="new-password" required />
                </label>
                <button type="submit" class="button login-submit">"Create the admin account"</button>
            </form>
        </main>
    }
}
