//! The access-token negative matrix: every forged, tampered, mis-addressed or expired token
//! is refused, and a genuine one is accepted. Forged tokens are built by hand (header,
//! payload, signature) so each case changes exactly one thing.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use switchyard_auth::token::{AUDIENCE, ISSUER};
use switchyard_auth::{Role, TokenKeys};

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test-secret";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn hs256(secret: &[u8], signing_input: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
    mac.update(signing_input.as_bytes());
    b64(&mac.finalize().into_bytes())
}

/// A token with this header and payload, signed with HS256 under `secret`.
fn forge(header: serde_json::Value, payload: serde_json::Value, secret: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    );
    let signature = hs256(secret, &input);
    format!("{input}.{signature}")
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims() -> serde_json::Value {
    serde_json::json!({
        "sub": "user-1", "role": "operator", "iss": ISSUER, "aud": AUDIENCE,
        "iat": now(), "exp": now() + 600
    })
}

fn with(field: &str, value: serde_json::Value) -> serde_json::Value {
    let mut c = claims();
    c[field] = value;
    c
}

fn without(field: &str) -> serde_json::Value {
    let mut c = claims();
    c.as_object_mut().unwrap().remove(field);
    c
}

#[test]
fn every_bad_token_is_refused_and_a_good_one_accepted() {
    let keys = TokenKeys::new(SECRET).unwrap();
    let hs = serde_json::json!({"alg": "HS256", "typ": "JWT"});

    // The genuine article, issued by the library and forged by hand the same way.
    let issued = keys.issue("user-1", Role::Operator, now());
    let verified = keys.verify(&issued).unwrap();
    assert_eq!(
        (verified.sub.as_str(), verified.role),
        ("user-1", Role::Operator)
    );
    assert!(keys.verify(&forge(hs.clone(), claims(), SECRET)).is_ok());

    let genuine = forge(hs.clone(), claims(), SECRET);
    let (head, rest) = genuine.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let tampered_payload = {
        let mut c = claims();
        c["role"] = "admin".into();
        format!("{head}.{}.{signature}", b64(c.to_string().as_bytes()))
    };
    let none = format!("{}.{payload}.", b64(br#"{"alg":"none","typ":"JWT"}"#));
    let none_signed = format!("{}.{payload}.{signature}", b64(br#"{"alg":"none"}"#));
    // HS/RS confusion: RS256 in the header, "signed" with HMAC under the secret (what a
    // library that takes its algorithm from the token would accept).
    let rs_confused = forge(
        serde_json::json!({"alg": "RS256", "typ": "JWT"}),
        claims(),
        SECRET,
    );
    let hs512 = {
        let header = b64(br#"{"alg":"HS512","typ":"JWT"}"#);
        let input = format!("{header}.{payload}");
        let mut mac = Hmac::<sha2::Sha512>::new_from_slice(SECRET).unwrap();
        mac.update(input.as_bytes());
        format!("{input}.{}", b64(&mac.finalize().into_bytes()))
    };
    let mut flipped_signature = genuine.clone().into_bytes();
    let last = flipped_signature.len() - 2;
    flipped_signature[last] = if flipped_signature[last] == b'A' {
        b'B'
    } else {
        b'A'
    };
    let flipped_signature = String::from_utf8(flipped_signature).unwrap();

    let cases: Vec<(&str, String)> = vec![
        ("alg none, no signature", none),
        ("alg none, old signature", none_signed),
        ("HS/RS confusion", rs_confused),
        ("another HMAC algorithm (HS512)", hs512),
        (
            "wrong audience",
            forge(hs.clone(), with("aud", "someone-else".into()), SECRET),
        ),
        (
            "wrong issuer",
            forge(hs.clone(), with("iss", "evil".into()), SECRET),
        ),
        (
            "expired",
            forge(hs.clone(), with("exp", (now() - 10).into()), SECRET),
        ),
        ("missing exp", forge(hs.clone(), without("exp"), SECRET)),
        (
            "string-typed exp",
            forge(
                hs.clone(),
                with("exp", (now() + 600).to_string().into()),
                SECRET,
            ),
        ),
        ("missing iat", forge(hs.clone(), without("iat"), SECRET)),
        ("missing sub", forge(hs.clone(), without("sub"), SECRET)),
        ("missing aud", forge(hs.clone(), without("aud"), SECRET)),
        ("missing iss", forge(hs.clone(), without("iss"), SECRET)),
        (
            "bad signature (other secret)",
            forge(hs.clone(), claims(), b"another-secret-of-enough-length-00"),
        ),
        ("flipped signature byte", flipped_signature),
        ("tampered payload", tampered_payload),
        ("not a JWT", "hello".into()),
        ("empty", String::new()),
    ];
    let mut accepted = Vec::new();
    for (case, token) in &cases {
        match keys.verify(token) {
            Ok(claims) => accepted.push(format!("{case}: {claims:?}")),
            Err(e) => println!("refused as expected — {case}: {e}"),
        }
    }
    assert!(accepted.is_empty(), "accepted: {accepted:#?}");
    assert_eq!(cases.len(), 18);
}

#[test]
fn a_short_secret_is_refused() {
    let err = TokenKeys::new(b"only-31-bytes-long-secret-value").unwrap_err();
    assert!(
        err.to_string().contains("at least 32 bytes, got 31"),
        "{err}"
    );
}
