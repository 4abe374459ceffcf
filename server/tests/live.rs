//! The live WebSocket (`/api/v1/live`) over a real TCP socket, with `auth_required` on: who
//! may connect (session cookie, bearer, a short-lived ticket; nobody else), from where (no
//! cross-origin upgrade), what each subscription may see (own project yes, foreign id "not
//! found"), and the message limit (over 64 KiB closes with 1009); then what one tab's socket
//! carries: watched topics, the heartbeat, and runs resumed after a seq.

mod common;

use std::net::SocketAddr;

use common::app::{Harness, post_json};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use switchyard_auth::{Role, projects, users};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// A viewer who is a member of project `alpha`, and an access token for them.
async fn viewer_of_alpha(h: &Harness, email: &str) -> String {
    let viewer = users::create(&h.db, email, "a long enough password", Role::Viewer)
        .await
        .unwrap();
    projects::add_member(&h.db, "alpha", &viewer.id)
        .await
        .unwrap();
    h.auth
        .keys
        .issue(&viewer.id, Role::Viewer, chrono::Utc::now().timestamp())
}

fn upgrade(
    addr: SocketAddr,
    query: &str,
    headers: &[(&'static str, String)],
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let mut request = format!("ws://{addr}/api/v1/live{query}")
        .into_client_request()
        .unwrap();
    for (name, value) in headers {
        request
            .headers_mut()
            .insert(*name, HeaderValue::from_str(value).unwrap());
    }
    request
}

async fn refused(
    request: tokio_tungstenite::tungstenite::handshake::client::Request,
) -> StatusCode {
    match tokio_tungstenite::connect_async(request).await {
        Err(WsError::Http(response)) => response.status(),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("the upgrade was accepted"),
    }
}

/// A socket opened the way this site's pages open it: the session cookie, this origin.
async fn from_this_site(addr: SocketAddr, token: &str) -> Socket {
    let request = upgrade(
        addr,
        "",
        &[
            ("cookie", format!("switchyard_access={token}")),
            ("origin", format!("http://{addr}")),
        ],
    );
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_json(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s")
            .expect("the socket is open")
            .unwrap();
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_socket_checks_who_where_what_and_how_much() {
    let mut h = Harness::new().await;
    for name in ["alpha", "beta"] {
        projects::create(&h.db, name, "test").await.unwrap();
    }
    let mut runs = Vec::new();
    for project in ["alpha", "beta"] {
        let (status, created) = h
            .json(post_json(
                "/api/v1/runs",
                &json!({"plan": {"steps": [{"key": "a", "agent": "default", "tool": "noop"}]},
                        "project": project}),
            ))
            .await;
        assert_eq!(status, axum::http::StatusCode::CREATED);
        runs.push(created["id"].as_str().unwrap().to_owned());
    }
    let (own, foreign) = (runs[0].clone(), runs[1].clone());
    h.auth.required = true;
    let token = viewer_of_alpha(&h, "viewer@example.com").await;
    let addr = h.serve().await;

    // Who: nobody and a bad ticket are refused before the handshake.
    assert_eq!(
        refused(upgrade(addr, "", &[])).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        refused(upgrade(addr, "?ticket=not-a-ticket", &[])).await,
        StatusCode::UNAUTHORIZED
    );
    // Where from: another site's page may not open it, even with the cookie.
    assert_eq!(
        refused(upgrade(
            addr,
            "",
            &[
                ("cookie", format!("switchyard_access={token}")),
                ("origin", "https://evil.example".into()),
            ],
        ))
        .await,
        StatusCode::FORBIDDEN
    );

    // The session cookie from this site's page: own run's events arrive; a foreign id is
    // "not found", word for word like an unknown one.
    let mut socket = from_this_site(addr, &token).await;
    socket
        .send(Message::text(
            json!({"subscribe": own, "after": 0}).to_string(),
        ))
        .await
        .unwrap();
    let first = next_json(&mut socket).await;
    assert_eq!(first["run"], own.as_str(), "{first}");
    assert_eq!(first["event"]["seq"], 1, "{first}");
    socket
        .send(Message::text(json!({"subscribe": foreign}).to_string()))
        .await
        .unwrap();
    let mut answer = next_json(&mut socket).await;
    while answer.get("error").is_none() {
        answer = next_json(&mut socket).await;
    }
    assert_eq!(
        answer["error"],
        format!("run {foreign} not found"),
        "{answer}"
    );
    socket
        .send(Message::text("{\"subscribe\": 7}"))
        .await
        .unwrap();
    let mut answer = next_json(&mut socket).await;
    while answer.get("error").is_none() {
        answer = next_json(&mut socket).await;
    }
    assert!(
        answer["error"].as_str().unwrap().starts_with("expected {"),
        "{answer}"
    );

    // How much: a message over 64 KiB closes the socket with 1009.
    socket
        .send(Message::text("x".repeat(100 * 1024)))
        .await
        .unwrap();
    let close = loop {
        match tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .expect("an answer within 10 s")
        {
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    let close = close.expect("a close frame with a code");
    assert_eq!(close.code, CloseCode::Size, "{close:?}");

    // A ticket, for clients that cannot send a cookie or a header: short-lived, and only
    // good for the socket (as a bearer token on the API it is refused).
    let (status, ticket) = h
        .json(
            axum::http::Request::post("/api/v1/auth/ws-ticket")
                .header("authorization", format!("Bearer {token}"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, axum::http::StatusCode::OK, "{ticket}");
    assert_eq!(ticket["expires_in_s"], 30);
    let ticket = ticket["ticket"].as_str().unwrap().to_owned();
    let (mut socket, _) =
        tokio_tungstenite::connect_async(upgrade(addr, &format!("?ticket={ticket}"), &[]))
            .await
            .unwrap();
    socket
        .send(Message::text(json!({"subscribe": own}).to_string()))
        .await
        .unwrap();
    assert_eq!(next_json(&mut socket).await["run"], own.as_str());
    let (status, _, body) = h
        .send(
            axum::http::Request::get("/api/v1/runs")
                .header("authorization", format!("Bearer {ticket}"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, axum::http::StatusCode::UNAUTHORIZED, "{body}");
}

/// One socket per tab: topics, the heartbeat and resuming a run. A viewer watching `runs` and
/// `approvals` hears of every run in their project and of none in another; `ping` is answered
/// `pong` with its number; a subscription with `after` resumes after that seq.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_socket_carries_topics_a_heartbeat_and_resumable_runs() {
    let mut h = Harness::new().await;
    for name in ["alpha", "beta"] {
        projects::create(&h.db, name, "test").await.unwrap();
    }
    let token = viewer_of_alpha(&h, "watcher@example.com").await;
    h.auth.required = true;
    let addr = h.serve().await;
    // Runs are submitted below through an app without sign-in; the socket's server keeps it.
    h.auth.required = false;

    let mut socket = from_this_site(addr, &token).await;
    let send = |value: Value| Message::text(value.to_string());
    socket.send(send(json!({"ping": 7}))).await.unwrap();
    assert_eq!(next_json(&mut socket).await, json!({"pong": 7}));
    socket.send(send(json!({"watch": "runs"}))).await.unwrap();
    socket
        .send(send(json!({"watch": "approvals"})))
        .await
        .unwrap();
    socket.send(send(json!({"ping": 8}))).await.unwrap();
    assert_eq!(next_json(&mut socket).await, json!({"pong": 8}));

    let submit = async |project: &str| {
        let (status, created) = h
            .json(post_json(
                "/api/v1/runs",
                &json!({"plan": {"steps": [{"key": "gate", "agent": "default", "tool": "approval",
                                            "input": {"summary": "ship it"}}]},
                        "project": project}),
            ))
            .await;
        assert_eq!(status, axum::http::StatusCode::CREATED, "{created}");
        created["id"].as_str().unwrap().to_owned()
    };
    let foreign = submit("beta").await;
    let own = submit("alpha").await;

    // Both topics report the own run's first two events; nothing of the foreign run arrives.
    let mut seen: Vec<(String, u64)> = Vec::new();
    while seen.len() < 4 {
        let message = next_json(&mut socket).await;
        assert_ne!(message["change"]["run"], foreign.as_str(), "{message}");
        assert_eq!(message["change"]["run"], own.as_str(), "{message}");
        seen.push((
            message["topic"].as_str().unwrap().to_owned(),
            message["change"]["seq"].as_u64().unwrap(),
        ));
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            ("approvals".to_owned(), 1),
            ("approvals".to_owned(), 2),
            ("runs".to_owned(), 1),
            ("runs".to_owned(), 2)
        ]
    );
    socket.send(send(json!({"ping": 9}))).await.unwrap();
    loop {
        let message = next_json(&mut socket).await;
        if message == json!({"pong": 9}) {
            break;
        }
        assert_ne!(message["change"]["run"], foreign.as_str(), "{message}");
    }

    // Filtering a topic is not an attempt to see the foreign run: nothing is audited as denied.
    let denied = switchyard_auth::audit::recent(&h.db, 100, &foreign, true)
        .await
        .unwrap();
    assert!(denied.is_empty(), "{denied:?}");

    // Resuming after seq 1: the next event is seq 2, and nothing is sent twice.
    socket
        .send(send(json!({"subscribe": own, "after": 1})))
        .await
        .unwrap();
    let resumed = next_json(&mut socket).await;
    assert_eq!(resumed["run"], own.as_str(), "{resumed}");
    assert_eq!(resumed["event"]["seq"], 2, "{resumed}");
    assert_eq!(resumed["event"]["kind"], "run_started", "{resumed}");
}

/// An approver of project `alpha` with `role` (a member), and an access token for them.
async fn member_of_alpha(h: &Harness, email: &str, role: Role) -> String {
    let made = users::create(&h.db, email, "a long enough password", role)
        .await
        .unwrap();
    projects::add_member(&h.db, "alpha", &made.id)
        .await
        .unwrap();
    h.auth
        .keys
        .issue(&made.id, role, chrono::Utc::now().timestamp())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_notifications_topic_tells_each_person_of_their_own_bell_only() {
    let h = Harness::signed_in().await;
    projects::create(&h.db, "alpha", "test").await.unwrap();
    let approver = member_of_alpha(&h, "approver@example.com", Role::Operator).await;
    let watcher = viewer_of_alpha(&h, "onlooker@example.com").await;
    let addr = h.serve().await;
    let send = |value: Value| Message::text(value.to_string());
    let mut sockets = Vec::new();
    for token in [&approver, &watcher] {
        let mut socket = from_this_site(addr, token).await;
        socket
            .send(send(json!({"watch": "notifications"})))
            .await
            .unwrap();
        socket.send(send(json!({"ping": 1}))).await.unwrap();
        assert_eq!(next_json(&mut socket).await, json!({"pong": 1}));
        sockets.push(socket);
    }
    // The operator starts a run whose step waits for approval: their bell changes.
    let mut request = post_json(
        "/api/v1/runs",
        &json!({"plan": {"steps": [{"key": "gate", "agent": "default", "tool": "approval",
                                    "input": {"summary": "ship it"}}]},
                "project": "alpha"}),
    );
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {approver}").parse().unwrap(),
    );
    let (status, created) = h.json(request).await;
    assert_eq!(status, axum::http::StatusCode::CREATED, "{created}");
    let changed = next_json(&mut sockets[0]).await;
    assert_eq!(
        changed,
        json!({"topic": "notifications", "change": {"run": "", "seq": 0, "kind": "notification"}})
    );
    // The viewer (who may not approve) hears nothing: the next thing on its socket is the pong.
    sockets[1].send(send(json!({"ping": 2}))).await.unwrap();
    assert_eq!(next_json(&mut sockets[1]).await, json!({"pong": 2}));
}
