//! `GET /api/v1/openapi.json`: the REST API described for clients and code generators.

use axum::Json;
use switchyard_protocol::{
    DatabaseHealth, DatabaseKind, Health, HealthStatus, ServiceHealth, StoreHealth,
};
use utoipa::OpenApi;

use crate::api::error::{ErrorBody, ErrorDetail};
use crate::api::{admin, runs};

/// Every documented `/api/v1` route and schema. A route handler joins by being listed here.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchyard API",
        description = "The REST API of Switchyard, a self-hosted control room for AI-agent work."
    ),
    paths(
        crate::api::health::health,
        document,
        runs::submit,
        runs::list,
        runs::get,
        runs::planning_record,
        runs::events,
        crate::api::stream::stream,
        runs::cancel,
        runs::pause,
        runs::resume,
        runs::approve,
        runs::reject,
        runs::approvals,
        crate::api::auth::login,
        crate::api::auth::refresh,
        crate::api::auth::logout,
        crate::api::auth::me,
        crate::api::auth::change_password,
        crate::api::auth::ws_ticket,
        crate::api::ingest::ingest,
        crate::api::ingest::read,
        crate::api::live::live,
        admin::list_users,
        admin::create_user,
        admin::set_role,
        admin::disable_user,
        admin::enable_user,
        admin::list_projects,
        admin::create_project,
        admin::add_member,
        admin::remove_member,
        admin::list_keys,
        admin::create_key,
        admin::revoke_key,
        admin::list_switches,
        admin::switch_off,
        admin::switch_on,
        admin::audit_log,
        admin::audit_verify
    ),
    components(schemas(
        Health,
        HealthStatus,
        DatabaseHealth,
        StoreHealth,
        ServiceHealth,
        DatabaseKind,
        ErrorBody,
        ErrorDetail,
        runs::SubmitRun,
        runs::RunCreated,
        runs::RunList,
        runs::EventList,
        runs::Decision,
        runs::Reason,
        runs::PendingApproval,
        crate::api::auth::Login,
        crate::api::auth::Session,
        crate::api::auth::PasswordChange,
        crate::api::auth::WsTicket,
        crate::api::ingest::IngestBatch,
        crate::api::ingest::IngestEvent,
        crate::api::ingest::Ingested,
        crate::api::ingest::LogLine,
        admin::NewUser,
        admin::NewRole,
        admin::NewProject,
        admin::CreateKey,
        admin::SwitchOff
    ))
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json"))
)]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
