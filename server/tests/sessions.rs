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
