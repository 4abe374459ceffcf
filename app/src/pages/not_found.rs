//! The 404 page, inside the shell, answered with status 404.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    let location = use_location();
    view! {
        <Title text="Not found" />
        <div class="page">
            <section class="empty-state card not-found">
                <p class="big-code">"404"</p>
                <h1>"Page not found"</h1>
                <p class="muted">
                    "Nothing lives at " <code>{move || location.pathname.get()}</code> "."
                </p>
                <A href="/" attr:class="button">"Back to the dashboard"</A>
            </section>
        </div>
    }
}
