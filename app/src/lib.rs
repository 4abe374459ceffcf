//! The Switchyard web app, compiled twice: with `ssr` into the server (rendering HTML and
//! running server functions) and with `hydrate` into the browser's WASM bundle.
//!
//! # Layout
//!
//! - [`shell`]: the frame every page lives in — top bar, left sidebar, right orchestrator
//!   panel, keyboard shortcuts, the shortcut help — and its state ([`shell::state`]).
//! - [`pages`]: one module per sidebar section plus the 404 page.
//! - [`nav`]: the sections in sidebar order: path, label, icon, shortcut. Routes, sidebar,
//!   breadcrumbs and search all read this one list.
//! - [`live`]: the tab's one WebSocket to the server: live run events, changes under watched
//!   topics, the link's state for the top bar.
//! - [`figures`]: numbers as people read them (grouped, percentages, sizes).
//! - [`markdown`]: Markdown from agents, models and people, rendered to safe HTML.
//! - [`reread`]: reading a page's data again after it changed, one read at a time.
//! - [`server_fns`]: server functions, one domain per module; their server halves call the
//!   service ([`context::service`]).
//! - [`context`] (`ssr` only): what the server provides to components and server functions.
//!
//! [`shell_document`] is the HTML document the server renders around [`App`].

#[cfg(feature = "ssr")]
pub mod context;
pub mod figures;
pub mod icons;
pub mod live;
pub mod markdown;
pub mod nav;
pub mod pages;
pub mod reread;
pub mod server_fns;
pub mod shell;

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, Link, Meta, MetaTags, Title, provide_meta_context};
use leptos_router::components::{Outlet, ParentRoute, Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::shell::AppShell;

/// Runs before first paint, before the WASM loads: copies the panel layout saved in
/// `localStorage` onto `<html>` so a collapsed sidebar does not flash open on reload. The CSS
/// keys off these attributes; after hydration [`shell::state`] keeps them in sync.
const RESTORE_LAYOUT_SCRIPT: &str = "try{var s=window.localStorage,d=document.documentElement;\
d.dataset.left=s.getItem('switchyard.left')==='collapsed'?'collapsed':'open';\
d.dataset.right=s.getItem('switchyard.right')==='closed'?'closed':'open';}catch(e){}";

/// The page's Content-Security-Policy: only this origin's scripts (the WASM bundle may be
/// compiled) and inline scripts carrying this response's nonce; no framing, no plugins, no
/// foreign forms or bases. Styles may be inline (components set `style` attributes).
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'nonce-{nonce}'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The whole HTML document, rendered on the server around [`App`]. On the server it also
/// sets the response's Content-Security-Policy with this response's nonce (provided per
/// request by the server), which every inline script carries.
pub fn shell_document(options: LeptosOptions) -> impl IntoView {
    let nonce = leptos::nonce::use_nonce();
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(response)) = (&nonce, use_context::<leptos_axum::ResponseOptions>())
        && let Ok(value) = http::HeaderValue::from_str(&content_security_policy(nonce))
    {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
    view! {
        <!DOCTYPE html>
        <html lang="en" data-left="open" data-right="open">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <script nonce=nonce inner_html=RESTORE_LAYOUT_SCRIPT></script>
                <AutoReload options=options.clone() />
                <HydrationScripts options=options.clone() />
                <HashedStylesheet options id="switchyard-css" />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The app: router and shell. Mounted by `hydrate_body(App)` in the browser.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=|page: String| {
            if page.is_empty() { "Switchyard".to_owned() } else { format!("{page} · Switchyard") }
        } />
        <Meta name="description" content="Switchyard: a self-hosted control room for AI-agent work." />
        <Meta name="theme-color" content="#0a0e14" />
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg" />
        <Link rel="manifest" href="/manifest.webmanifest" />
        <Router>
            // The sign-in and first-run pages stand alone; every other page, and the 404 page, live in the
            // shell.
            // (Type-erased so the nested view types stay within the compiler's limits.)
            <Routes fallback=|| view! { <AppShell><pages::NotFound /></AppShell> }.into_any()>
                <Route path=path!("/login") view=pages::Login />
                <Route path=path!("/setup") view=pages::Setup />
                <ParentRoute
                    path=path!("")
                    view=|| view! { <AppShell><Outlet /></AppShell> }.into_any()
                >
                    <Route path=path!("/") view=pages::Dashboard />
                    <Route path=path!("/runs") view=pages::Runs />
                    // Rendered whole before it is sent, so an unknown or foreign id answers 404.
                    <Route path=path!("/runs/:id") view=pages::RunPage ssr=SsrMode::Async />
                    <Route path=path!("/workflows") view=pages::Workflows />
                    <Route path=path!("/workflows/:name") view=pages::WorkflowPage ssr=SsrMode::Async />
                    <Route path=path!("/datasets") view=pages::Datasets />
                    <Route path=path!("/datasets/:id") view=pages::DatasetPage />
                    <Route path=path!("/agents") view=pages::Agents />
                    <Route path=path!("/logs") view=pages::Logs />
                    <Route path=path!("/alerts") view=pages::Alerts />
                    <Route path=path!("/approvals") view=pages::Approvals />
                    <Route path=path!("/settings") view=pages::Settings />
                    <Route path=path!("/admin") view=pages::Admin />
                    <Route path=path!("/account") view=pages::AccountPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
