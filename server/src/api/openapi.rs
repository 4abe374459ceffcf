//! `GET /api/v1/openapi.json`: the REST API described for clients and code generators.

use axum::Json;
use axum::extract::State;
use switchyard_protocol::api as wire;
use switchyard_protocol::{
    DatabaseHealth, DatabaseKind, Health, HealthStatus, ServiceHealth, StoreHealth,
};
use switchyard_service::{Credentials, Service};
use utoipa::OpenApi;

use crate::api::error::{ErrorBody, ErrorDetail};
use crate::api::{admin, runs, workflows};

/// Every documented route (`/api/v1` and the OpenAI-compatible `/v1`) and schema. A route handler joins by being listed here.
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
        crate::api::notifications::list,
        crate::api::notifications::mark_read,
        workflows::save,
        workflows::list,
        workflows::get,
        workflows::run,
        workflows::stream,
        crate::api::auth::login,
        crate::api::auth::refresh,
        crate::api::auth::logout,
        crate::api::auth::me,
        crate::api::auth::change_password,
        crate::api::auth::ws_ticket,
        crate::api::ingest::ingest,
        crate::api::ingest::read,
        crate::api::live::live,
        crate::api::datasets::check,
        crate::api::datasets::recheck,
        crate::api::datasets::discard,
        crate::api::datasets::write,
        crate::api::datasets::list,
        crate::api::datasets::get,
        crate::api::datasets::rows,
        crate::api::datasets::delete,
        crate::api::search::search,
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
        admin::audit_verify,
        crate::openai::chat::completions,
        crate::openai::models::list
    ),
    modifiers(&PlanOrGoal),
    components(schemas(
        Health,
        HealthStatus,
        DatabaseHealth,
        StoreHealth,
        ServiceHealth,
        DatabaseKind,
        ErrorBody,
        ErrorDetail,
        wire::runs::SubmitRun,
        wire::runs::RunCreated,
        wire::runs::Planned,
        wire::runs::RunList,
        wire::runs::RunSummary,
        wire::runs::EventList,
        wire::runs::Decision,
        wire::runs::Reason,
        wire::runs::RunView,
        wire::runs::StepView,
        wire::runs::LeaseView,
        wire::runs::ApprovalView,
        wire::runs::PendingApproval,
        wire::runs::MarkRead,
        switchyard_protocol::Notification,
        switchyard_protocol::Notifications,
        wire::workflows::SaveTemplate,
        wire::workflows::TemplateView,
        wire::workflows::TemplateList,
        wire::workflows::WorkflowRun,
        wire::workflows::FieldIssue,
        switchyard_protocol::Plan,
        switchyard_protocol::StepSpec,
        switchyard_protocol::RetryPolicy,
        switchyard_protocol::Compensation,
        switchyard_protocol::RunStatus,
        switchyard_protocol::StepStatus,
        switchyard_protocol::RunEvent,
        switchyard_protocol::EventKind,
        wire::auth::Login,
        wire::auth::Session,
        wire::auth::PasswordChange,
        wire::auth::WsTicket,
        wire::events::IngestBatch,
        wire::events::IngestEvent,
        wire::events::Ingested,
        wire::events::LogLine,
        switchyard_protocol::dataset::DatasetCheck,
        switchyard_protocol::dataset::CheckOptions,
        switchyard_protocol::dataset::Profile,
        switchyard_protocol::dataset::ColumnProfile,
        switchyard_protocol::dataset::Problem,
        switchyard_protocol::dataset::Issue,
        switchyard_protocol::dataset::Kind,
        switchyard_protocol::dataset::Format,
        switchyard_protocol::dataset::Scores,
        switchyard_protocol::dataset::WriteDataset,
        switchyard_protocol::dataset::DatasetView,
        switchyard_protocol::dataset::DatasetStatus,
        switchyard_protocol::dataset::DatasetColumn,
        switchyard_protocol::dataset::DatasetList,
        switchyard_protocol::dataset::DatasetRows,
        switchyard_protocol::query::QueryResults,
        switchyard_protocol::query::QueryHit,
        switchyard_protocol::query::Fragment,
        wire::admin::NewUser,
        wire::admin::UserCreated,
        wire::admin::UserView,
        wire::admin::NewRole,
        wire::admin::NewProject,
        wire::admin::CreateKey,
        wire::admin::SwitchOff,
        wire::admin::RoleName,
        wire::admin::ScopeName,
        wire::admin::CapabilityName,
        wire::admin::ProjectName,
        crate::openai::types::ChatCompletionRequest,
        crate::openai::types::ChatCompletion,
        crate::openai::types::ModelList,
        crate::openai::types::OpenAiErrorBody
    ))
)]
pub struct ApiDoc;

/// `SubmitRun` takes a plan or a goal, exactly one: said in the schema as `oneOf`, which the
/// derive cannot write, so that a client (and the fuzzer) knows before it asks.
struct PlanOrGoal;

impl utoipa::Modify for PlanOrGoal {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::schema::{
            AllOfBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type,
        };
        let Some(components) = doc.components.as_mut() else {
            return;
        };
        let Some(submit) = components.schemas.remove("SubmitRun") else {
            return;
        };
        // `null` counts as absent: each branch wants its field present and of its type.
        let given = |field: &str, kind: Type| {
            ObjectBuilder::new()
                .property(
                    field,
                    ObjectBuilder::new().schema_type(SchemaType::Type(kind)),
                )
                .required(field)
        };
        let exactly_one = OneOfBuilder::new()
            .item(given("plan", Type::Object))
            .item(given("goal", Type::String));
        let schema = AllOfBuilder::new().item(submit).item(exactly_one).build();
        components
            .schemas
            .insert("SubmitRun".to_owned(), RefOr::T(Schema::AllOf(schema)));
    }
}

/// This document, with an entry per workflow template the caller may read (none for a
/// caller without credentials when sign-in is required).
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json"))
)]
pub async fn document(
    State(service): State<Service>,
    parts: axum::http::request::Parts,
) -> Json<serde_json::Value> {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    let presented = crate::api::principal::credentials(&parts);
    let anonymous = presented == Credentials::None && service.access().required;
    let templates = if anonymous {
        Vec::new()
    } else {
        let who = service
            .access()
            .resolve(
                presented,
                crate::auth::Peer::of(&parts),
                crate::api::principal::request_line(&parts),
            )
            .await;
        match who {
            Ok(who) => service.templates(&who).await.unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    };
    if let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) {
        paths.extend(workflows::template_paths(&templates));
    }
    Json(doc)
}
