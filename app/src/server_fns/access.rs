//! Who calls a server function, and the one mapping of the service's errors to server
//! functions' (`ssr` only). The server's session guard puts a [`Principal`] into every
//! request it lets through; these helpers read it.

use leptos::prelude::*;
use switchyard_service::{Principal, Service, ServiceError};

/// The caller of this request, its refusals audited as `action`; an error if the guard did
/// not run (it always does in the server's router).
pub fn caller(action: &str) -> Result<Principal, ServerFnError> {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Principal>().cloned())
        .map(|who| who.acting_as(action))
        .ok_or_else(|| {
            refuse(
                http::StatusCode::UNAUTHORIZED,
                "unauthorized: sign in first",
            )
        })
}

/// The service and the caller, its refusals audited as `action`.
pub fn service_and_caller(action: &str) -> Result<(Service, Principal), ServerFnError> {
    Ok((crate::context::service()?, caller(action)?))
}

/// Sets the response's status (the browser half reads the message either way) and returns
/// the error.
pub fn refuse(status: http::StatusCode, message: impl Into<String>) -> ServerFnError {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
    ServerFnError::new(message.into())
}

/// The one mapping from the service's errors: the status of its kind, and its message (for
/// an internal error, only the request id: the cause stays in the server's log).
pub fn refused(e: ServiceError) -> ServerFnError {
    let status = http::StatusCode::from_u16(e.kind.status())
        .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    refuse(status, e.message)
}
