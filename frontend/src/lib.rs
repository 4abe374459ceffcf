//! The browser entry point. cargo-leptos builds this crate to WASM; the server's HTML loads it
//! and calls [`hydrate`], which attaches the app to the server-rendered DOM. Nothing else
//! belongs here: the app lives in `switchyard-app`.

// The shell's view type is deep; computing its layout inside the router needs more than the
// default 128 levels (the server crate says the same).
#![recursion_limit = "256"]

/// Called by the hydration script once the WASM has loaded.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(switchyard_app::App);
}
