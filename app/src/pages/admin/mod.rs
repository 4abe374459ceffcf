//! The admin page: accounts, projects, API keys, kill switches and the audit log. Admins
//! only: the sidebar shows the link to admins, and every server function behind the page
//! refuses anyone else (the page then says so, with no controls).
//!
//! # Layout
//!
//! - [`users`]: accounts: invite, role, disable.
//! - [`projects`]: projects and their members.
//! - [`keys`]: API keys: issue (the secret shown once), revoke.
//! - [`switches`]: kill switches, with the reason refused callers read.
//! - [`audit`]: the audit log, filtered, and its chain check.

mod audit;
mod keys;
mod projects;
mod switches;
mod users;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::pages::account::server_message;
use crate::server_fns::admin::{
    AddMember, CreateKey, CreateProject, InviteUser, RevokeKey, SetDisabled, SetRole, SetSwitch,
    load_admin,
};

/// Every change the page can make. Created once for the page (not per section), so an
/// answer shown once, such as a new key's secret, survives the reload that follows it.
#[derive(Clone, Copy)]
pub struct Actions {
    pub invite: ServerAction<InviteUser>,
    pub set_role: ServerAction<SetRole>,
    pub set_disabled: ServerAction<SetDisabled>,
    pub create_project: ServerAction<CreateProject>,
    pub add_member: ServerAction<AddMember>,
    pub create_key: ServerAction<CreateKey>,
    pub revoke_key: ServerAction<RevokeKey>,
    pub set_switch: ServerAction<SetSwitch>,
}

impl Actions {
    fn new() -> Self {
        Self {
            invite: ServerAction::new(),
            set_role: ServerAction::new(),
            set_disabled: ServerAction::new(),
            create_project: ServerAction::new(),
            add_member: ServerAction::new(),
            create_key: ServerAction::new(),
            revoke_key: ServerAction::new(),
            set_switch: ServerAction::new(),
        }
    }

    /// Changes whenever any action has answered.
    fn answered(self) -> [usize; 8] {
        [
            self.invite.version().get(),
            self.set_role.version().get(),
            self.set_disabled.version().get(),
            self.create_project.version().get(),
            self.add_member.version().get(),
            self.create_key.version().get(),
            self.revoke_key.version().get(),
            self.set_switch.version().get(),
        ]
    }
}

#[component]
pub fn Admin() -> impl IntoView {
    let actions = Actions::new();
    provide_context(actions);
    let overview = Resource::new(move || actions.answered(), |_| load_admin());
    view! {
        <Title text="Admin" />
        <div class="page admin-page">
            <header class="page-header">
                <h1>"Admin"</h1>
                <p class="muted">"Accounts, projects, API keys, kill switches and the audit log. Every change here is audited."</p>
            </header>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match overview.await {
                        Ok(data) => view! {
                            <switches::Switches rows=data.switches />
                            <users::Users rows=data.users projects=data.projects.iter().map(|p| p.name.clone()).collect() />
                            <projects::Projects rows=data.projects />
                            <keys::Keys rows=data.keys />
                            <audit::Audit />
                        }
                        .into_any(),
                        Err(e) => view! {
                            <div class="card" id="admin-refused">
                                <h2>"Admins only"</h2>
                                <p class="error-text" role="alert">{server_message(&e)}</p>
                            </div>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

/// An action's last answer: its error as an alert, or nothing.
pub fn action_error<T: 'static>(
    value: impl Get<Value = Option<Result<T, ServerFnError>>> + Send + Sync + 'static,
) -> impl IntoView {
    move || {
        value.get().and_then(Result::err).map(|e| {
            view! { <p class="notice notice-error" role="alert">{server_message(&e)}</p> }
        })
    }
}

/// Milliseconds since the epoch as `2026-11-22 06:10` (UTC).
pub fn short_ms(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000) / 1000;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's
/// algorithm), so the browser build needs no date library.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::short_ms;

    #[test]
    fn times_read_as_utc_dates() {
        assert_eq!(short_ms(0), "1970-01-01 00:00:00");
        assert_eq!(short_ms(1_795_000_000_000), "2026-11-18 11:06:40");
        assert_eq!(short_ms(951_782_400_000), "2000-02-29 00:00:00");
    }
}
