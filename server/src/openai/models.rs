//! `GET /v1/models`: the models that answer now.

use axum::Json;
use axum::extract::State;
use switchyard_auth::kill::KillSwitches;
use switchyard_inference::Host;

use super::chat::admit;
use super::error::OpenAiError;
use super::types::{ModelEntry, ModelList};
use crate::api::principal::{Caller, Refusal};

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
