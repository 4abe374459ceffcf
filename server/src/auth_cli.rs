//! `switchyard user add | list` and `switchyard audit verify | list` on the configured
//! database.

use std::io::BufRead as _;

use switchyard_auth::audit::{self, Verdict};
use switchyard_auth::{Role, users};

use crate::cli::{AuditCommand, UserCommand};
use crate::config::Config;

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
