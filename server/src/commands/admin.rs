//! `switchyard user add | list`, `switchyard key create | list | revoke`, `switchyard audit
//! verify | list` and `switchyard switch off | on | list` on the configured database. Every change is audited (actor `cli`).

use std::io::BufRead as _;

use clap::Subcommand;
use switchyard_auth::audit::{self, Verdict};
use switchyard_auth::{Role, users};

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. The password is asked for on the terminal (not echoed), or read
    /// from the first line of standard input with --password-stdin.
    Add {
        email: String,
        /// admin, operator or viewer.
        #[arg(long, default_value = "viewer")]
        role: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Every account: email, role, whether disabled.
    List,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create a key and print it once (only its hash is kept).
    Create {
        name: String,
        /// Comma-separated: runs:read, runs:write, approve, events:ingest, infer, admin.
        #[arg(long)]
        scopes: String,
        #[arg(long, default_value = "default")]
        project: String,
        /// Requests per minute (a burst may use a minute's worth at once).
        #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        rate_per_min: u32,
        /// Requests in flight at once.
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        max_concurrency: u32,
    },
    /// Every key: id, name, project, scopes, limits, last use, whether revoked.
    List,
    /// Revoke a key by id, at once.
    Revoke { id: String },
}

#[derive(Debug, Subcommand)]
pub enum SwitchCommand {
    /// Turn CAPABILITY (new_runs, http_tool, event_ingest, inference) off; every refused call
    /// repeats the reason.
    Off {
        capability: String,
        #[arg(long)]
        reason: String,
    },
    /// Turn CAPABILITY back on.
    On { capability: String },
    /// The capabilities that are off, with who and why.
    List,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain; exits 1 naming the first edited row or gap.
    Verify,
    /// The newest entries, optionally one actor's or action's.
    List {
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        actor: Option<String>,
        #[arg(long)]
        action: Option<String>,
    },
}

async fn database(config: &Config) -> Result<switchyard_db::Database, String> {
    let (db, created) = crate::startup::prepare(config).await?;
    created.keep();
    Ok(db)
}

/// The new account's password: from the terminal without echo, or from stdin's first line.
fn read_password(from_stdin: bool) -> Result<String, String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    let first = rpassword::prompt_password("password: ").map_err(|e| {
        format!("cannot read the password (use --password-stdin without a terminal): {e}")
    })?;
    let again = rpassword::prompt_password("again: ").map_err(|e| e.to_string())?;
    if first != again {
        return Err("the passwords differ".into());
    }
    Ok(first)
}

pub async fn user(config: &Config, command: UserCommand) -> Result<(), String> {
    match command {
        UserCommand::Add {
            email,
            role,
            password_stdin,
        } => {
            let role = Role::parse(&role)?;
            let email = users::normalise_email(&email).map_err(|e| e.to_string())?;
            let password = read_password(password_stdin)?;
            switchyard_auth::password::acceptable(&password).map_err(|e| e.to_string())?;
            let db = database(config).await?;
            let created = users::create(&db, &email, &password, role).await;
            let result = match created {
                Ok(user) => {
                    let entry = audit::Entry {
                        actor: "cli".into(),
                        action: "users.create".into(),
                        target: user.id.clone(),
                        result: "ok".into(),
                        ip: String::new(),
                        user_agent: "switchyard user add".into(),
                    };
                    match audit::append(&db, &entry).await {
                        Ok(_) => {
                            println!(
                                "created {} ({}) with id {}",
                                user.email,
                                role.as_str(),
                                user.id
                            );
                            Ok(())
                        }
                        Err(e) => Err(format!("cannot write the audit log: {e}")),
                    }
                }
                Err(e) => Err(e.to_string()),
            };
            db.close().await;
            result
        }
        UserCommand::List => {
            let db = database(config).await?;
            let listed = users::list(&db).await.map_err(|e| e.to_string());
            db.close().await;
            println!("{:<36}  {:<32} {:<9} state", "id", "email", "role");
            for user in listed? {
                let state = if user.disabled { "disabled" } else { "active" };
                println!(
                    "{:<36}  {:<32} {:<9} {state}",
                    user.id,
                    user.email,
                    user.role.as_str()
                );
            }
            Ok(())
        }
    }
}

pub async fn audit(config: &Config, command: AuditCommand) -> Result<(), String> {
    let db = database(config).await?;
    let result = match command {
        AuditCommand::Verify => match audit::verify(&db).await {
            Ok(Verdict::Intact { rows }) => {
                println!("audit log intact: {rows} rows, every link checked");
                Ok(())
            }
            Ok(Verdict::Edited { seq }) => Err(format!(
                "audit log row {seq} was changed after it was written (its hash or link does not match)"
            )),
            Ok(Verdict::Gap { after, next }) => Err(format!(
                "audit log rows are missing after row {after} (the next present is {next})"
            )),
            Err(e) => Err(format!("cannot read the audit log: {e}")),
        },
        AuditCommand::List {
            limit,
            actor,
            action,
        } => {
            let rows = audit::list(&db, 0, i64::MAX, actor.as_deref(), action.as_deref())
                .await
                .map_err(|e| e.to_string());
            rows.map(|rows| {
                let skip = rows.len().saturating_sub(limit as usize);
                for row in &rows[skip..] {
                    let at = chrono::DateTime::from_timestamp_millis(row.at_ms)
                        .map_or_else(String::new, |t| t.to_rfc3339());
                    let e = &row.entry;
                    println!(
                        "{:>6} {at} {} {} {} {} {}",
                        row.seq, e.actor, e.action, e.target, e.result, e.ip
                    );
                }
            })
        }
    };
    db.close().await;
    result
}

pub async fn switch(config: &Config, command: SwitchCommand) -> Result<(), String> {
    use switchyard_auth::kill::{Capability, KillSwitches};
    let db = database(config).await?;
    let switches = KillSwitches::new(db.clone());
    let who = std::env::var("USER").map_or_else(|_| "cli".to_owned(), |user| format!("cli:{user}"));
    let changed = |action: &str, target: &str, result: String| audit::Entry {
        actor: who.clone(),
        action: action.to_owned(),
        target: target.to_owned(),
        result,
        ip: String::new(),
        user_agent: "switchyard switch".into(),
    };
    let result = async {
        match command {
            SwitchCommand::Off { capability, reason } => {
                let capability = Capability::parse(&capability)?;
                if reason.trim().is_empty() {
                    return Err(
                        "--reason must say why (it is shown to every refused caller)".into(),
                    );
                }
                switches
                    .switch_off(capability, reason.trim(), &who)
                    .await
                    .map_err(|e| e.to_string())?;
                audit::append(
                    &db,
                    &changed("switch.off", capability.as_str(), format!("ok: {reason}")),
                )
                .await
                .map_err(|e| e.to_string())?;
                println!("{} is off: {}", capability.as_str(), reason.trim());
                Ok(())
            }
            SwitchCommand::On { capability } => {
                let capability = Capability::parse(&capability)?;
                let was_off = switches
                    .switch_on(capability)
                    .await
                    .map_err(|e| e.to_string())?;
                audit::append(&db, &changed("switch.on", capability.as_str(), "ok".into()))
                    .await
                    .map_err(|e| e.to_string())?;
                if was_off {
                    println!("{} is on again", capability.as_str());
                } else {
                    println!("{} was not off", capability.as_str());
                }
                Ok(())
            }
            SwitchCommand::List => {
                let off = switches.list().await.map_err(|e| e.to_string())?;
                if off.is_empty() {
                    println!("every capability is on");
                }
                for switch in off {
                    let at = chrono::DateTime::from_timestamp_millis(switch.set_at_ms)
                        .map_or_else(String::new, |t| t.to_rfc3339());
                    println!(
                        "{:<10} off since {at} by {}: {}",
                        switch.capability.as_str(),
                        switch.set_by,
                        switch.reason
                    );
                }
                Ok(())
            }
        }
    }
    .await;
    db.close().await;
    result
}

pub async fn key(config: &Config, command: KeyCommand) -> Result<(), String> {
    use switchyard_auth::api_keys::{self, Grants, NewKey};
    let cli_entry = |action: &str, target: &str| audit::Entry {
        actor: "cli".into(),
        action: action.to_owned(),
        target: target.to_owned(),
        result: "ok".into(),
        ip: String::new(),
        user_agent: "switchyard key".into(),
    };
    if let KeyCommand::Create { scopes, name, .. } = &command {
        Grants::parse(scopes)?;
        if name.trim().is_empty() {
            return Err("a key needs a name".into());
        }
    }
    let db = database(config).await?;
    let result = async {
        match command {
            KeyCommand::Create {
                name,
                scopes,
                project,
                rate_per_min,
                max_concurrency,
            } => {
                let grants = Grants::parse(&scopes)?;
                let (key, secret) = api_keys::create(
                    &db,
                    &NewKey {
                        name: name.trim(),
                        project: &project,
                        scopes: &grants.scopes,
                        workflows: &grants.workflows,
                        rate_per_min,
                        max_concurrency,
                        created_by: "cli",
                    },
                )
                .await
                .map_err(|e| e.to_string())?;
                audit::append(&db, &cli_entry("keys.create", &key.id))
                    .await
                    .map_err(|e| e.to_string())?;
                eprintln!("created key {} ({}); it is shown once:", key.id, key.name);
                println!("{secret}");
                Ok(())
            }
            KeyCommand::List => {
                let keys = api_keys::list(&db).await.map_err(|e| e.to_string())?;
                println!(
                    "{:<12} {:<20} {:<10} {:<28} {:>8} {:>5}  last used / state",
                    "id", "name", "project", "scopes", "per min", "conc"
                );
                for key in keys {
                    let scopes = key.grant_names();
                    let state = if key.revoked {
                        "revoked".to_owned()
                    } else {
                        key.last_used_at_ms
                            .and_then(chrono::DateTime::from_timestamp_millis)
                            .map_or_else(|| "never used".to_owned(), |t| t.to_rfc3339())
                    };
                    println!(
                        "{:<12} {:<20} {:<10} {:<28} {:>8} {:>5}  {state}",
                        key.id,
                        key.name,
                        key.project,
                        scopes.join(","),
                        key.rate_per_min,
                        key.max_concurrency
                    );
                }
                Ok(())
            }
            KeyCommand::Revoke { id } => {
                if !api_keys::revoke(&db, &id)
                    .await
                    .map_err(|e| e.to_string())?
                {
                    return Err(format!("no live key with id {id}"));
                }
                audit::append(&db, &cli_entry("keys.revoke", &id))
                    .await
                    .map_err(|e| e.to_string())?;
                println!("revoked key {id}");
                Ok(())
            }
        }
    }
    .await;
    db.close().await;
    result
}
