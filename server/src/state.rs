//! What every handler can reach: Leptos' options and the [`Service`]. Handlers that still
//! take an engine part directly (`State<Engine>`, `State<Access>` …) get it from the service
//! through the `FromRef` impls below.

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use switchyard_auth::kill::KillSwitches;
use switchyard_orchestrator::engine::Engine;
use switchyard_service::{Access, Service};
use switchyard_store::Store;

/// Shared by axum handlers (through `FromRef`) and Leptos (through context).
#[derive(Debug, Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub service: Service,
}

/// Implements `FromRef<AppState>` for a part the service holds.
macro_rules! part_of_service {
    ($($part:ty => $getter:ident),* $(,)?) => {$(
        impl FromRef<AppState> for $part {
            fn from_ref(state: &AppState) -> Self {
                state.service.$getter().clone()
            }
        }
    )*};
}

part_of_service!(
    Engine => engine,
    Store => store,
    switchyard_inference::Host => inference,
    Access => access,
    KillSwitches => switches,
);
