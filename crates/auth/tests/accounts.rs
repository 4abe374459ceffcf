//! Users, login, refresh-token families and API keys on a real SQLite file and the real
//! PostgreSQL.

use switchyard_auth::Role;
use switchyard_auth::api_keys::{self, KeyError, NewKey, Scope};
use switchyard_auth::refresh::{self, RefreshError};
use switchyard_auth::users::{self, UserError};
use switchyard_db::Database;
use switchyard_db::testing::{self, TempPostgres};

async fn exercise(db: Database) {
    // Accounts: created once per email, logged in with the right password only.
    assert_eq!(users::count(&db).await.unwrap(), 0);
    let ada = users::create(&db, "Ada@Example.com", "correct horse battery", Role::Admin)
        .await
        .unwrap();
    assert_eq!(ada.email, "ada@example.com");
    assert!(matches!(
        users::create(
            &db,
            "ada@example.com",
            "another long password",
            Role::Viewer
        )
        .await,
        Err(UserError::Exists(_))
    ));
    assert!(matches!(
        users::create(&db, "bob@example.com", "short", Role::Viewer).await,
        Err(UserError::Password(_))
    ));
    assert_eq!(
        users::authenticate(&db, " ADA@example.com", "correct horse battery")
            .await
            .unwrap()
            .id,
        ada.id
    );
    for (email, password) in [
        ("ada@example.com", "wrong horse battery"),
        ("nobody@example.com", "correct horse battery"),
    ] {
        assert!(matches!(
            users::authenticate(&db, email, password).await,
            Err(UserError::BadCredentials)
        ));
    }

    // Refresh tokens rotate: each works once, and the next one carries on.
    let first = refresh::start(&db, &ada.id).await.unwrap();
    let (user, second) = refresh::rotate(&db, &first).await.unwrap();
    assert_eq!(user.id, ada.id);
    let (_, third) = refresh::rotate(&db, &second).await.unwrap();
    // Reusing a used token (a stolen copy) revokes the family: even the newest token dies.
    assert!(matches!(
        refresh::rotate(&db, &first).await,
        Err(RefreshError::Reused)
    ));
    assert!(matches!(
        refresh::rotate(&db, &third).await,
        Err(RefreshError::Invalid)
    ));
    // A browser's requests sent side by side present the same cookie: within the grace the
    // repeat signs in without a next token; the one that rotated carries on.
    let login = refresh::start(&db, &ada.id).await.unwrap();
    let (user, next) = refresh::renew(&db, &login).await.unwrap();
    assert_eq!(user.id, ada.id);
    let next = next.expect("the first use rotates");
    let (user, again) = refresh::renew(&db, &login).await.unwrap();
    assert_eq!((user.id.as_str(), again), (ada.id.as_str(), None));
    // Racing uses: exactly one rotates, the others sign in.
    let uses = tokio::join!(
        refresh::renew(&db, &next),
        refresh::renew(&db, &next),
        refresh::renew(&db, &next),
        refresh::renew(&db, &next)
    );
    let uses = [uses.0, uses.1, uses.2, uses.3];
    let rotated = uses
        .iter()
        .filter(|u| u.as_ref().unwrap().1.is_some())
        .count();
    assert_eq!(rotated, 1, "{uses:?}");
    // The strict exchange (the API's) has no grace: the repeat is a reuse.
    assert!(matches!(
        refresh::rotate(&db, &login).await,
        Err(RefreshError::Reused)
    ));
    // Garbage and tampered secrets are refused.
    let fresh = refresh::start(&db, &ada.id).await.unwrap();
    let (id, _) = fresh.split_once('.').unwrap();
    for bad in ["", "no-dot", &format!("{id}.not-the-secret")] {
        assert!(matches!(
            refresh::rotate(&db, bad).await,
            Err(RefreshError::Invalid)
        ));
    }
    // Logging out revokes the family; other logins stay.
    let other = refresh::start(&db, &ada.id).await.unwrap();
    refresh::revoke(&db, &fresh).await.unwrap();
    assert!(refresh::rotate(&db, &fresh).await.is_err());
    let (_, other) = refresh::rotate(&db, &other).await.unwrap();
    // A disabled account can neither log in nor refresh.
    users::set_disabled(&db, &ada.id, true).await.unwrap();
    assert!(matches!(
        users::authenticate(&db, "ada@example.com", "correct horse battery").await,
        Err(UserError::Disabled)
    ));
    assert!(matches!(
        refresh::rotate(&db, &other).await,
        Err(RefreshError::Disabled)
    ));
    users::set_disabled(&db, &ada.id, false).await.unwrap();
    users::set_password(&db, &ada.id, "a brand new passphrase")
        .await
        .unwrap();
    assert!(
        users::authenticate(&db, "ada@example.com", "a brand new passphrase")
            .await
            .is_ok()
    );
    assert_eq!(users::list(&db).await.unwrap().len(), 1);

    // API keys: shown once, stored hashed, scoped, revoked at once.
    let (key, secret) = api_keys::create(
        &db,
        &NewKey {
            name: "ci-bot",
            project: "default",
            scopes: &[Scope::RunsRead, Scope::RunsWrite],
            workflows: &[],
            rate_per_min: 120,
            max_concurrency: 4,
            created_by: &ada.id,
        },
    )
    .await
    .unwrap();
    assert!(secret.starts_with(&format!("sy_{}_", key.id)), "{secret}");
    let found = api_keys::authenticate(&db, &secret).await.unwrap();
    assert_eq!((found.name.as_str(), found.rate_per_min), ("ci-bot", 120));
    assert!(found.allows(Scope::RunsWrite) && !found.allows(Scope::Approve));
    assert!(found.last_used_at_ms.is_none(), "as it was before this use");
    assert!(
        api_keys::list(&db).await.unwrap()[0]
            .last_used_at_ms
            .is_some()
    );
    let (id_part, _) = secret.rsplit_once('_').unwrap();
    for bad in [format!("{id_part}_wrong-secret"), "sy_nope_x".into()] {
        assert!(matches!(
            api_keys::authenticate(&db, &bad).await,
            Err(KeyError::Unknown)
        ));
    }
    assert!(matches!(
        api_keys::authenticate(&db, "Bearer abc").await,
        Err(KeyError::Malformed)
    ));
    assert!(api_keys::revoke(&db, &key.id).await.unwrap());
    assert!(matches!(
        api_keys::authenticate(&db, &secret).await,
        Err(KeyError::Revoked)
    ));
    assert!(!api_keys::revoke(&db, &key.id).await.unwrap());
}

#[tokio::test]
async fn sqlite_accounts_and_refresh_families() {
    let dir = tempfile::tempdir().unwrap();
    let db = testing::sqlite_in(dir.path()).await;
    exercise(db.clone()).await;
    db.close().await;
}

#[tokio::test]
async fn postgres_accounts_and_refresh_families() {
    let pg = TempPostgres::create().await;
    let db = pg.database().await;
    exercise(db.clone()).await;
    db.close().await;
    pg.drop_database().await;
}
