//! `GET /v1/models`: the models that answer now.

use axum::Json;
use axum::extract::State;
use switchyard_auth::kill::KillSwitches;
use switchyard_inference::Host;

use super::chat::admit;
use super::error::OpenAiError;
use super::types::{ModelEntry, ModelList};
use crate::api::principal::{Caller, Refusal};

/// The models that answer now (loaded and ready).
#[utoipa::path(get, path = "/v1/models", tag = "openai",
    responses(
        (status = 200, description = "Ready models", body = ModelList),
        (status = 401, description = "No valid credentials (with `auth_required`)", body = super::types::OpenAiErrorBody),
        (status = 403, description = "The caller may not use models", body = super::types::OpenAiErrorBody),
        (status = 429, description = "Over the caller's limits", body = super::types::OpenAiErrorBody),
        (status = 503, description = "An admin switched inference off", body = super::types::OpenAiErrorBody)
    ))]
pub async fn list(
    who: Result<Caller, Refusal>,
    State(host): State<Host>,
    State(switches): State<KillSwitches>,
) -> Result<Json<ModelList>, OpenAiError> {
    admit(who, &switches).await?;
    let created = chrono::Utc::now().timestamp();
    let data = host
        .ready_models()
        .into_iter()
        .map(|id| ModelEntry {
            id,
            object: "model",
            created,
            owned_by: "switchyard",
        })
        .collect();
    Ok(Json(ModelList {
        object: "list",
        data,
    }))
}
