//! Who calls a server function, and whether they may (`ssr` only). The server's session
//! guard puts a [`Caller`] into every request it lets through; these helpers read it.

use leptos::prelude::*;
use switchyard_auth::{Caller, Permission};

use crate::context::ServerContext;

/// The caller of this request; an error if the guard did not run (it always does in the
/// server's router).
pub fn caller() -> Result<Caller, ServerFnError> {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Caller>().cloned())
        .ok_or_else(|| {
            refuse(
                http::StatusCode::UNAUTHORIZED,
                "unauthorized: sign in first",
            )
        })
}

/// Sets the response's status (the browser half reads the message either way) and returns
/// the error.
pub fn refuse(status: http::StatusCode, message: impl Into<String>) -> ServerFnError {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
    ServerFnError::new(message.into())
}

/// The server context and the caller, if the caller holds `permission`; a refusal is
/// audited as `action` and answered with an error that names the permission.
pub async fn require(
    action: &str,
    permission: Permission,
) -> Result<(ServerContext, Caller), ServerFnError> {
    let ctx = crate::context::server_context()?;
    let caller = caller()?;
    caller
        .require(&ctx.db, action, permission)
        .await
        .map_err(|message| refuse(http::StatusCode::FORBIDDEN, message))?;
    Ok((ctx, caller))
}

/// Audits what `caller` did as `action` on `target` with `outcome` (`ok` or `failed: …`), then
/// hands the outcome back with its error as a [`ServerFnError`] (status 400: the refusals
/// are about the input, such as an unknown role or a taken email).
pub async fn audited<T, E: std::fmt::Display>(
    ctx: &ServerContext,
    caller: &Caller,
    action: &str,
    target: &str,
    outcome: Result<T, E>,
) -> Result<T, ServerFnError> {
    audited_as(ctx, caller, (action, target), "ok", outcome).await
}

/// [`audited`], recording `ok_result` (e.g. `ok: vendor outage`) when it succeeded.
pub async fn audited_as<T, E: std::fmt::Display>(
    ctx: &ServerContext,
    caller: &Caller,
    (action, target): (&str, &str),
    ok_result: &str,
    outcome: Result<T, E>,
) -> Result<T, ServerFnError> {
    let result = match &outcome {
        Ok(_) => ok_result.to_owned(),
        Err(e) => format!("failed: {e}"),
    };
    caller
        .record(&ctx.db, action, target, &result)
        .await
        .map_err(|e| ServerFnError::new(format!("could not write the audit log: {e}")))?;
    outcome.map_err(|e| refuse(http::StatusCode::BAD_REQUEST, e.to_string()))
}
