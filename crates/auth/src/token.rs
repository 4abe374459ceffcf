//! Access tokens: JWTs signed with HS256 under a secret of at least 32 bytes, valid for 15
//! minutes. Verification is explicit: one allowed algorithm, and `exp`, `iat`, `iss`, `aud`
//! and `sub` all required; anything else (another algorithm, `none`, a wrong audience or
//! issuer, an expired or malformed `exp`, a bad signature, a changed payload) is refused.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::role::Role;

/// Who issues tokens, and for whom.
pub const ISSUER: &str = "switchyard";
pub const AUDIENCE: &str = "switchyard-api";
/// The audience of WebSocket tickets: they open `/api/v1/live` and nothing else.
pub const TICKET_AUDIENCE: &str = "switchyard-live";
/// How long a WebSocket ticket lasts.
pub const TICKET_TTL: Duration = Duration::from_secs(30);
/// How long an access token lasts.
pub const ACCESS_TTL: Duration = Duration::from_secs(15 * 60);
/// The shortest signing secret accepted.
pub const MIN_SECRET_BYTES: usize = 32;

/// What an access token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: String,
    pub role: Role,
    pub iss: String,
    pub aud: String,
    /// Issued at and expires at, seconds since the epoch.
    pub iat: i64,
    pub exp: i64,
}

/// Why a token or secret was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the signing secret must be at least {MIN_SECRET_BYTES} bytes, got {0}")]
    ShortSecret(usize),
    /// Every refusal of a presented token: the reason is logged, never sent to the client.
    #[error("invalid token: {0}")]
    Invalid(String),
}

/// The keys for one secret.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ticket_validation: Validation,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(***)")
    }
}

impl TokenKeys {
    /// Keys for `secret`; refused when it is shorter than [`MIN_SECRET_BYTES`].
    pub fn new(secret: &[u8]) -> Result<Self, TokenError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(TokenError::ShortSecret(secret.len()));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = 0;
        let mut ticket_validation = validation.clone();
        ticket_validation.set_audience(&[TICKET_AUDIENCE]);
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ticket_validation,
        })
    }

    /// A token for `user_id` with `role`, valid for [`ACCESS_TTL`] from `now_s`.
    pub fn issue(&self, user_id: &str, role: Role, now_s: i64) -> String {
        self.sign(user_id, role, AUDIENCE, now_s, ACCESS_TTL)
    }

    /// A WebSocket ticket for `user_id`: valid for [`TICKET_TTL`], and only as a ticket (its
    /// audience is [`TICKET_AUDIENCE`], so the API refuses it as an access token).
    pub fn issue_ticket(&self, user_id: &str, role: Role, now_s: i64) -> String {
        self.sign(user_id, role, TICKET_AUDIENCE, now_s, TICKET_TTL)
    }

    fn sign(&self, user_id: &str, role: Role, audience: &str, now_s: i64, ttl: Duration) -> String {
        let claims = Claims {
            sub: user_id.to_owned(),
            role,
            iss: ISSUER.to_owned(),
            aud: audience.to_owned(),
            iat: now_s,
            exp: now_s + ttl.as_secs() as i64,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing of serialisable claims cannot fail")
    }

    /// The claims of a valid access token.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        self.check(token, &self.validation)
    }

    /// The claims of a valid WebSocket ticket.
    pub fn verify_ticket(&self, ticket: &str) -> Result<Claims, TokenError> {
        self.check(ticket, &self.ticket_validation)
    }

    fn check(&self, token: &str, validation: &Validation) -> Result<Claims, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, validation)
            .map_err(|e| TokenError::Invalid(e.to_string()))?;
        if data.claims.iat > data.claims.exp {
            return Err(TokenError::Invalid("issued after it expires".into()));
        }
        Ok(data.claims)
    }
}
