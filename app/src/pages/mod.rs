//! One module per section of the sidebar, plus the admin and account pages, the 404 page and
//! the sign-in page.
//!
//! Sections with nothing to show render [`empty::Placeholder`]: it says what is true today
//! (where the thing lives, or that the server has none), never a fake table or a promise.

mod account;
mod admin;
mod agents;
mod alerts;
mod approvals;
mod dashboard;
mod datasets;
mod decision;
mod empty;
mod goal_form;
mod login;
mod logs;
mod not_found;
mod plan_editor;
mod run_controls;
mod run_detail;
mod run_history;
mod runs;
mod schema_form;
mod settings;
mod setup;
mod workflow_page;
mod workflows;

pub use account::{AccountPage, server_message};
// Shared with the orchestrator panel's task mode.
pub use admin::Admin;
pub use agents::Agents;
pub use alerts::Alerts;
pub use approvals::Approvals;
pub use dashboard::Dashboard;
pub use datasets::{DatasetPage, Datasets};
pub(crate) use decision::DecisionForm;
pub(crate) use goal_form::planning_view;
pub use login::Login;
pub use logs::Logs;
pub use not_found::NotFound;
pub use run_detail::RunPage;
pub(crate) use run_detail::reread_run;
pub use runs::Runs;
pub(crate) use runs::{short_id, status_class};
pub use settings::Settings;
pub use setup::Setup;
pub use workflow_page::WorkflowPage;
pub use workflows::Workflows;
