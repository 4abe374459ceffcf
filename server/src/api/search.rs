//! `GET /api/v1/search`: the search index ([`switchyard_service::query`]) over runs, datasets
//! and agents' log lines in the caller's projects, ranked, each hit with a snippet.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use switchyard_protocol::query::QueryResults;
use switchyard_service::Service;

use crate::api::error::ApiError;
use crate::api::principal::Caller;
use crate::api::query::ApiQuery;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// The words to find (every one must be there; the last may be the start of a word). Up to
    /// 500 characters; words are letters and digits, two or more.
    pub q: String,
    /// 1–100 (default 20); outside that range is 400.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/search", tag = "search",
    params(SearchQuery),
    responses(
        (status = 200, description = "What the caller's projects hold with every word, best first: kind, title, link, project, score (higher is better) and the matching part of the text, the words marked", body = QueryResults),
        (status = 400, description = "No `q`, a `q` over 500 characters, or a limit outside 1–100", body = crate::api::error::ErrorBody),
        crate::api::error::Refusals
    ))]
pub async fn search(
    Caller(who): Caller,
    State(service): State<Service>,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Json<QueryResults>, ApiError> {
    let found = service
        .query(&who, &query.q, query.limit.unwrap_or(20))
        .await?;
    Ok(Json(found))
}
