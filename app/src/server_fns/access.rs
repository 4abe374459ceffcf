//! Who calls a server function, and the one mapping of the service's errors to server
//! functions' (`ssr` only). The server's session guard puts a [`Principal`] into every
//! request it lets through; these helpers read it.

use leptos::prelude::*;
use switchyard_auth::Permission;
use switchyard_service::{ErrorKind, Principal, Service, ServiceError};

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

/// The service and the caller, if the caller holds `permission`; a refusal is audited as
/// `action` and answered with an error that names the permission.
pub async fn require(
    action: &str,
    permission: Permission,
) -> Result<(Service, Principal), ServerFnError> {
    let (service, who) = service_and_caller(action)?;
    who.require(permission).await.map_err(refused)?;
    Ok((service, who))
}

/// Audits what `who` did as `action` on `target` with `outcome` (`ok` or `failed: …`), then
/// hands the outcome back with its error as a [`ServerFnError`] (status 400: the refusals
/// are about the input, such as an unknown role or a taken email).
pub async fn audited<T, E: std::fmt::Display>(
    who: &Principal,
    action: &str,
    target: &str,
    outcome: Result<T, E>,
) -> Result<T, ServerFnError> {
    audited_as(who, (action, target), "ok", outcome).await
}

/// [`audited`], recording `ok_result` (e.g. `ok: vendor outage`) when it succeeded.
pub async fn audited_as<T, E: std::fmt::Display>(
    who: &Principal,
    (action, target): (&str, &str),
    ok_result: &str,
    outcome: Result<T, E>,
) -> Result<T, ServerFnError> {
    who.audited((action, target), ok_result, outcome)
        .await
        .map_err(|e| {
            refused(ServiceError::new(
                ErrorKind::Invalid,
                "invalid_input",
                e.to_string(),
            ))
        })
}
