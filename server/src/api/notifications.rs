//! `/api/v1/notifications`: the caller's bell (approvals waiting, failed runs, their own
//! finished runs), and marking it read. People only: an API key has no bell.

use axum::Json;
use axum::extract::State;
use switchyard_protocol::Notifications;
use switchyard_protocol::api::runs::MarkRead;
use switchyard_service::Service;

use crate::api::error::ApiError;
use crate::api::json::ApiJson;
use crate::api::principal::Caller;

/// The most ids one request may mark.
const MAX_IDS: usize = 500;

#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications",
    responses(
        (status = 200, description = "The newest 50 notifications, newest first, and the unread count", body = Notifications),
        (status = 400, description = "An API key: keys have no notifications", body = crate::api::error::ErrorBody),
        crate::api::error::Refusals
    ))]
pub async fn list(
    Caller(who): Caller,
    State(service): State<Service>,
) -> Result<Json<Notifications>, ApiError> {
    Ok(Json(service.notifications(&who).await?))
}

#[utoipa::path(post, path = "/api/v1/notifications/read", tag = "notifications", request_body = MarkRead,
    responses(
        (status = 200, description = "Marked; the bell as it is now", body = Notifications),
        (status = 400, description = "Malformed JSON, over 500 ids, or an API key", body = crate::api::error::ErrorBody),
        crate::api::error::BodyRefusals,
        crate::api::error::Refusals
    ))]
pub async fn mark_read(
    Caller(who): Caller,
    State(service): State<Service>,
    ApiJson(body): ApiJson<MarkRead>,
) -> Result<Json<Notifications>, ApiError> {
    if body.ids.len() > MAX_IDS {
        return Err(ApiError::bad_request(format!(
            "ids: at most {MAX_IDS} at once, not {}",
            body.ids.len()
        )));
    }
    Ok(Json(
        service.mark_notifications_read(&who, &body.ids).await?,
    ))
}
