//! What the server provides to components and server functions (`ssr` only): the
//! [`Service`], whose use cases they call — the same value the REST handlers hold, so a page
//! and the API read the same state through the same rules.

use leptos::prelude::*;
pub use switchyard_service::Service;

/// The service inside a server function; an error (not a panic) if the server forgot it.
pub fn service() -> Result<Service, ServerFnError> {
    use_context::<Service>()
        .ok_or_else(|| ServerFnError::ServerError("the service is missing".into()))
}
