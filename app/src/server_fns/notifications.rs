//! The notifications bell: the caller's newest notifications and marking them read.

use leptos::prelude::*;
use switchyard_protocol::Notifications;

/// The caller's newest notifications and the unread count.
#[server(prefix = "/api/fn", endpoint = "bell")]
pub async fn bell() -> Result<Notifications, ServerFnError> {
    use super::access::{refused, service_and_caller};
    let (service, who) = service_and_caller("notifications.list")?;
    service.notifications(&who).await.map_err(refused)
}

/// Marks the notifications `ids` (separated by commas; empty: all) read; answers the bell.
#[server(prefix = "/api/fn", endpoint = "mark_read")]
pub async fn mark_read(ids: String) -> Result<Notifications, ServerFnError> {
    use super::access::{refused, service_and_caller};
    let (service, who) = service_and_caller("notifications.read")?;
    let ids: Vec<String> = ids
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect();
    service
        .mark_notifications_read(&who, &ids)
        .await
        .map_err(refused)
}
