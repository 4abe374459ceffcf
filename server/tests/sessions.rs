//! Browser sessions with `auth_required` on, in-process: pages redirect to the sign-in page,
//! the plain form signs in and sets the cookies, an expired access cookie is renewed from the
//! refresh cookie, server functions answer 401 without a session, logout ends it, and the
//! redirect after sign-in never leaves the site.

mod common;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use common::app::{Harness, get};
use switchyard_auth::{Role, users};

fn with_cookies(mut request: Request<Body>, cookies: &[&str]) -> Request<Body> {
    if !cookies.is_empty() {
        request
            .headers_mut()
            .insert(header::COOKIE, cookies.join("; ").parse().unwrap());
    }
    request
}

fn form(path: &str, body: &str) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

fn cookie(headers: &HeaderMap, name: &str) -> String {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {headers:?}"))
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn pages_need_a_session_and_the_form_signs_in_renews_and_signs_out() {
    let mut h = Harness::new().await;
    h.auth.required = true;
    users::create(
        &h.db,
        "ada@example.com",
        "a long enough password",
        Role::Operator,
    )
    .await
    .unwrap();

    // Signed out: pages redirect to the sign-in page (which, and public files, load).
    let (status, headers, _) = h.send(get("/runs?status=failed")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers[header::LOCATION],
        "/login?next=%2Fruns%3Fstatus%3Dfailed"
    );
    let (status, _, html) = h.send(get("/login?next=%2Fruns")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"action="/login""#) && html.contains(r#"name="password""#),
        "{html}"
    );
    assert!(
        !html.contains(r#"id="sidebar""#),
        "the sign-in page stands outside the shell"
    );
    assert!(
        html.contains(r#"value="/runs""#),
        "where to go next is in the form: {html}"
    );
    let (status, _, _) = h.send(get("/robots.txt")).await;
    assert_eq!(status, StatusCode::OK);
    let fn_call = || {
        Request::post("/api/fn/system_health")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::empty())
            .unwrap()
    };
    let (status, _, _) = h.send(fn_call()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A wrong password goes back to the form, keeping where the person was going.
    let (status, headers, _) = h
        .send(form(
            "/login",
            "email=ada%40example.com&password=nope&next=%2Fruns",
        ))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/login?error=1&next=%2Fruns");
    // The right one signs in and goes there, with both cookies.
    let (status, headers, _) = h
        .send(form(
            "/login",
            "email=ada%40example.com&password=a+long+enough+password&next=%2Fruns",
        ))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/runs");
    let access = cookie(&headers, "switchyard_access");
    let refresh = cookie(&headers, "switchyard_refresh");
    let (status, _, html) = h.send(with_cookies(get("/runs"), &[&access])).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"id="sidebar""#));
    let (status, _, _) = h.send(with_cookies(fn_call(), &[&access])).await;
    assert_eq!(status, StatusCode::OK);
    // The account menu's server function says who is signed in.
    let account = || {
        Request::post("/api/fn/current_account")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(Body::empty())
            .unwrap()
    };
    let (status, _, body) = h.send(with_cookies(account(), &[&access])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let who: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        who,
        serde_json::json!({"email": "ada@example.com", "role": "operator", "signed_in": true})
    );
    // The REST API takes the session cookie too.
    let (status, _, _) = h.send(with_cookies(get("/api/v1/runs"), &[&access])).await;
    assert_eq!(status, StatusCode::OK);

    // No (or an expired) access cookie: renewed from the refresh cookie, which rotates.
    let (status, headers, _) = h.send(with_cookies(get("/"), &[&refresh])).await;
    assert_eq!(status, StatusCode::OK);
    let renewed = cookie(&headers, "switchyard_refresh");
    assert_ne!(renewed, refresh);
    cookie(&headers, "switchyard_access");
    // A request sent beside that one with the same refresh cookie (a page asking two things
    // at once) is signed in too, with an access cookie only: the renewed one stays current.
    let (status, headers, _) = h.send(with_cookies(get("/"), &[&refresh])).await;
    assert_eq!(status, StatusCode::OK);
    cookie(&headers, "switchyard_access");
    assert!(
        headers
            .get_all(header::SET_COOKIE)
            .iter()
            .all(|c| !c.to_str().unwrap().starts_with("switchyard_refresh=")),
        "{headers:?}"
    );
    let (status, _, _) = h.send(with_cookies(get("/"), &[&renewed])).await;
    assert_eq!(status, StatusCode::OK, "the renewed login still works");

    // Signing out ends it: the cookies are cleared and the refresh token is dead.
    let (status, headers, _) = h.send(with_cookies(form("/logout", ""), &[&renewed])).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/login");
    assert!(
        headers
            .get_all(header::SET_COOKIE)
            .iter()
            .all(|c| c.to_str().unwrap().contains("Max-Age=0"))
    );
    let (status, _, _) = h.send(with_cookies(get("/"), &[&renewed])).await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // The redirect after signing in never leaves the site.
    for next in ["https%3A%2F%2Fevil.example", "%2F%2Fevil.example"] {
        let (_, headers, _) = h
            .send(form(
                "/login",
                &format!("email=ada%40example.com&password=a+long+enough+password&next={next}"),
            ))
            .await;
        assert_eq!(headers[header::LOCATION], "/", "{next}");
    }
}

#[tokio::test]
async fn a_fresh_server_leads_to_setup_which_makes_one_admin_and_then_closes() {
    let mut h = Harness::new().await;
    h.auth.required = true;

    // No account yet: every page, and the sign-in page, lead to the first-run setup.
    for path in ["/", "/runs", "/login"] {
        let (status, headers, _) = h.send(get(path)).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(headers[header::LOCATION], "/setup", "{path}");
    }
    let (status, _, html) = h.send(get("/setup")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Create the admin account"), "{html}");

    // Bad input comes back with the reason, and creates nothing.
    for (body, says) in [
        (
            "email=ada%40example.com&password=a+long+enough+password&repeat=another+long+one",
            "error=the+two+passwords+differ",
        ),
        (
            "email=ada%40example.com&password=short&repeat=short",
            "at+least+12+characters",
        ),
        (
            "email=not-an-email&password=a+long+enough+password&repeat=a+long+enough+password",
            "invalid+email",
        ),
    ] {
        let (status, headers, _) = h.send(form("/setup", body)).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let location = headers[header::LOCATION].to_str().unwrap();
        assert!(
            location.starts_with("/setup?") && location.contains(says),
            "{location}"
        );
    }
    assert_eq!(users::count(&h.db).await.unwrap(), 0);

    // The right form creates the admin and signs them in.
    let (status, headers, _) = h
        .send(form(
            "/setup",
            "email=Ada%40Example.com&password=a+long+enough+password&repeat=a+long+enough+password",
        ))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/");
    let access = cookie(&headers, "switchyard_access");
    let (status, _, html) = h.send(with_cookies(get("/"), &[&access])).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"id="sidebar""#));
    let admins = users::list(&h.db).await.unwrap();
    assert_eq!(admins.len(), 1);
    assert_eq!(
        (admins[0].email.as_str(), admins[0].role),
        ("ada@example.com", Role::Admin)
    );

    // Setup is closed now: its page and its form lead to sign-in; no second admin.
    let (status, headers, _) = h.send(get("/setup")).await;
    assert_eq!(
        (status, headers[header::LOCATION].to_str().unwrap()),
        (StatusCode::SEE_OTHER, "/login")
    );
    let (_, headers, _) = h
        .send(form(
            "/setup",
            "email=eve%40example.com&password=a+long+enough+password&repeat=a+long+enough+password",
        ))
        .await;
    assert_eq!(headers[header::LOCATION], "/login");
    assert_eq!(users::count(&h.db).await.unwrap(), 1);
    let log = switchyard_auth::audit::list(&h.db, 0, 100, None, Some("users.setup"))
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].entry.actor, "ada@example.com");
}
