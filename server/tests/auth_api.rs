//! `/api/v1/auth` in-process on real SQLite: log in, who am I, refresh rotation with reuse
//! detection, logout, refusals (401 with the API's error shape), and the audit log of it all.

mod common;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use common::app::{Harness, post_json};
use serde_json::json;
use switchyard_auth::audit::{self, Verdict};
use switchyard_auth::{Role, users};

/// The refresh cookie among the session cookies a response sets (checking the attributes
/// of both).
fn refresh_cookie(headers: &HeaderMap) -> String {
    let set: Vec<&str> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(set.len(), 2, "{set:?}");
    for cookie in &set {
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Strict"), "{cookie}");
        assert!(cookie.contains("Path=/;"), "{cookie}");
    }
    assert!(set.iter().any(|c| c.starts_with("switchyard_access=")));
    let refresh = set
        .iter()
        .find(|c| c.starts_with("switchyard_refresh="))
        .unwrap();
    refresh.split(';').next().unwrap().to_owned()
}

fn with_cookie(path: &str, cookie: &str) -> Request<Body> {
    Request::post(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap()
}

fn bearer(token: &str) -> Request<Body> {
    Request::get("/api/v1/auth/me")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_refresh_rotation_reuse_and_logout() {
    let h = Harness::new().await;
    users::create(
        &h.db,
        "ops@example.com",
        "a long enough password",
        Role::Operator,
    )
    .await
    .unwrap();
    let login = json!({"email": "OPS@example.com", "password": "a long enough password"});

    // Log in: a bearer token in the body, the refresh token in a cookie.
    let (status, headers, body) = h.send(post_json("/api/v1/auth/login", &login)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let session: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(session["token_type"], "Bearer");
    assert_eq!(session["expires_in"], 900);
    assert_eq!(session["user"]["role"], "operator");
    assert!(session["user"].get("password_hash").is_none());
    let first_cookie = refresh_cookie(&headers);
    let token = session["access_token"].as_str().unwrap().to_owned();
    let (status, me) = h.json(bearer(&token)).await;
    assert_eq!(
        (status, me["email"].as_str()),
        (StatusCode::OK, Some("ops@example.com"))
    );

    // Refresh rotates the cookie; the old one then counts as stolen.
    let (status, headers, body) = h
        .send(with_cookie("/api/v1/auth/refresh", &first_cookie))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second_cookie = refresh_cookie(&headers);
    assert_ne!(first_cookie, second_cookie);
    let (status, body) = h
        .json(with_cookie("/api/v1/auth/refresh", &first_cookie))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthorized");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("revoked"),
        "{body}"
    );
    let (status, _) = h
        .json(with_cookie("/api/v1/auth/refresh", &second_cookie))
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the whole family is revoked"
    );

    // Logout revokes a fresh login's family and clears the cookie.
    let (_, headers, _) = h.send(post_json("/api/v1/auth/login", &login)).await;
    let cookie = refresh_cookie(&headers);
    let (status, headers, _) = h.send(with_cookie("/api/v1/auth/logout", &cookie)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(
        headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let (status, _) = h.json(with_cookie("/api/v1/auth/refresh", &cookie)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Refusals: wrong password, unknown user, malformed body, no or bad bearer token.
    for body in [
        json!({"email": "ops@example.com", "password": "not the password"}),
        json!({"email": "nobody@example.com", "password": "a long enough password"}),
    ] {
        let (status, answer) = h.json(post_json("/api/v1/auth/login", &body)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
        assert_eq!(answer["error"]["message"], "wrong email or password");
    }
    let (status, _) = h
        .json(post_json("/api/v1/auth/login", &json!({"email": 1})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = h
        .json(Request::get("/api/v1/auth/me").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = h.json(bearer(&format!("{token}x"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = h
        .json(
            Request::post("/api/v1/auth/refresh")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Every attempt is in the audit log, and the chain holds.
    let logins = audit::list(&h.db, 0, 100, None, Some("auth.login"))
        .await
        .unwrap();
    let results: Vec<&str> = logins.iter().map(|r| r.entry.result.as_str()).collect();
    assert_eq!(results, ["ok", "ok", "denied", "denied"]);
    let refreshes = audit::list(&h.db, 0, 100, None, Some("auth.refresh"))
        .await
        .unwrap();
    assert!(refreshes.iter().any(|r| r.entry.result.contains("reused")));
    assert!(matches!(
        audit::verify(&h.db).await.unwrap(),
        Verdict::Intact { .. }
    ));
}

#[tokio::test]
async fn disabling_ends_an_account_at_once_but_never_ones_own() {
    let mut h = Harness::new().await;
    h.auth.required = true;
    let now = chrono::Utc::now().timestamp();
    let admin = users::create(
        &h.db,
        "root@example.com",
        "a long enough password",
        Role::Admin,
    )
    .await
    .unwrap();
    let viewer = users::create(
        &h.db,
        "v@example.com",
        "a long enough password",
        Role::Viewer,
    )
    .await
    .unwrap();
    let admin_token = h.auth.keys.issue(&admin.id, Role::Admin, now);
    let viewer_token = h.auth.keys.issue(&viewer.id, Role::Viewer, now);
    let post = |path: String, token: &str| {
        Request::post(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };

    let (status, body) = h
        .json(post(
            format!("/api/v1/admin/users/{}/disable", admin.id),
            &admin_token,
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "own_account");
    assert!(
        body.to_string()
            .contains("you cannot disable your own account"),
        "{body}"
    );
    // Nor their own role (the fuzzer once demoted its own admin mid-run).
    let (status, body) = h
        .json(
            Request::put(format!("/api/v1/admin/users/{}/role", admin.id))
                .header(header::AUTHORIZATION, format!("Bearer {admin_token}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(r#"{"role": "viewer"}"#))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body.to_string().contains("nobody changes their own role"),
        "{body}"
    );
    let (status, body) = h
        .json(post(
            "/api/v1/admin/users/nobody/disable".into(),
            &admin_token,
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body.to_string().contains("user nobody not found"), "{body}");

    let (status, _) = h.json(bearer(&viewer_token)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = h
        .json(post(
            format!("/api/v1/admin/users/{}/disable", viewer.id),
            &admin_token,
        ))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = h.json(bearer(&viewer_token)).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a disabled account's token stops at once"
    );
}
