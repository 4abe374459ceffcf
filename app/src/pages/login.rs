//! The sign-in page, outside the shell. A plain HTML form posted to `POST /login`, so it
//! works before (and without) the WASM bundle; the server answers with a redirect to where
//! the person was going, or back here with `?error=1`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Where to go after signing in: a local path only (never another site).
fn safe_next(next: Option<String>) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or_else(|| "/".to_owned())
}

#[component]
pub fn Login() -> impl IntoView {
    let query = use_query_map();
    let next = move || safe_next(query.read().get("next"));
    let failed = move || query.read().get("error").is_some();
    view! {
        <Title text="Sign in" />
        <main class="login-page">
            <form class="login-card card" method="post" action="/login">
                <div class="login-brand">
                    <span class="brand-mark" aria-hidden="true"></span>
                    <h1>"Switchyard"</h1>
                </div>
                <p class="muted">"Sign in to the control room."</p>
                <Show when=failed>
                    <p class="login-error" role="alert">"Wrong email or password."</p>
                </Show>
                <label class="field">
                    <span>"Email"</span>
                    <input type="email" name="email" autocomplete="username" required autofocus />
                </label>
                <label class="field">
                    <span>"Password"</span>
                    <input type="password" name="password" autocomplete="current-password" required />
                </label>
                <input type="hidden" name="next" value=next />
                <button type="submit" class="button login-submit">"Sign in"</button>
            </form>
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(
            safe_next(Some("/runs?status=failed".into())),
            "/runs?status=failed"
        );
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "runs",
        ] {
            assert_eq!(safe_next(Some(bad.into())), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
