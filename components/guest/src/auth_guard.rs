//! The door of the bearer routes, one for every component that has them:
//! the access token in `Authorization` is verified, then the account it
//! names is read, now. The account must exist, the token's session must be
//! alive and its session generation current, and what the caller may do
//! follows the account's roles as stored, never the token's. Challenges
//! follow RFC 6750 section 3.
//!
//! The read is one statement on the accounts schema (`schema`): the
//! account's row by its primary key, and its session's refresh tokens by
//! their family index.

use http::HeaderMap;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use mhmanus_domain::auth::jwt::{Claims, JwtSettings, bearer_token};
use mhmanus_domain::auth::role::{self, Role};
use mhmanus_domain::clock;
use mhmanus_domain::problem::Problem;

use crate::db::{Db, Val};
use crate::response::{self, Failure, Response};

pub const REALM: &str = mhmanus_domain::SERVICE_ID;

/// Someone the door let in: the verified token, and the account's roles
/// as they are stored now.
#[derive(Debug, Clone)]
pub struct Caller {
    pub claims: Claims,
    roles: Vec<Role>,
    account: Account,
}

/// What the door read of the account beside its standing: what its owner
/// may see, so that answering about oneself needs no second read.
#[derive(Debug, Clone)]
pub struct Account {
    pub email: String,
    pub name: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Caller {
    /// The account's id.
    pub fn id(&self) -> &str {
        &self.claims.sub
    }

    /// The account's roles, read with the token's check.
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    pub fn account(&self) -> &Account {
        &self.account
    }

    /// 403 unless the account has `role`.
    pub fn require(&self, role: Role, path: &str) -> Result<(), Response> {
        if self.roles.contains(&role) {
            return Ok(());
        }
        Err(response::with_header(
            response::problem(
                Problem::new(403)
                    .detail(format!("this needs the {} role", role.as_str()))
                    .instance(path),
            ),
            WWW_AUTHENTICATE,
            &format!("Bearer realm=\"{REALM}\", error=\"insufficient_scope\""),
        ))
    }
}

/// The verified claims of the request's bearer token, or the 401 answer.
/// Needs no database: a request without a usable token never takes a
/// connection. `admit` must follow before anything is served.
pub fn verify(headers: &HeaderMap, jwt: &JwtSettings, path: &str) -> Result<Claims, Response> {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(bearer_token);
    let Some(token) = token else {
        // No credentials of our scheme: a challenge without an error code.
        return Err(unauthorized(
            path,
            "a bearer access token is required",
            None,
        ));
    };
    jwt.verify(token)
        .map_err(|e| invalid_token(path, &e.to_string()))
}

/// Lets the holder of verified `claims` in if their account still stands
/// behind the token: it exists, the session is alive and the generation
/// current.
pub async fn admit(db: &Db, claims: Claims, path: &str) -> Result<Caller, Failure> {
    let row = db
        .query_opt(
            "SELECT roles, session_generation, CASE WHEN \
             EXISTS (SELECT 1 FROM refresh_tokens WHERE family_id = $2 AND user_id = $1 \
             AND expires_at > $3) AND NOT EXISTS (SELECT 1 FROM refresh_tokens \
             WHERE family_id = $2 AND revoked_at IS NOT NULL) THEN 1 ELSE 0 END, \
             email, name, created_at, updated_at FROM users WHERE id = $1",
            &[
                Val::from(claims.sub.as_str()),
                Val::from(claims.sid.as_str()),
                Val::Int(clock::now_ms()),
            ],
        )
        .await?;
    let Some(row) = row else {
        return Err(invalid_token(path, "the account no longer exists").into());
    };
    let (roles, generation, session_alive) = (row.text(0)?, row.int(1)?, row.int(2)? == 1);
    if generation != claims.generation || !session_alive {
        return Err(invalid_token(path, "the session has ended; sign in again").into());
    }
    let account = Account {
        email: row.text(3)?,
        name: row.text(4)?,
        created_at: row.int(5)?,
        updated_at: row.int(6)?,
    };
    Ok(Caller {
        claims,
        roles: role::from_column(&roles),
        account,
    })
}

/// A 401 problem with its challenge. Every 401 of the component is built
/// here, so every challenge names the realm. `error` is the RFC 6750 error
/// code, for a token that was presented but cannot be used; none for
/// missing or wrong credentials.
pub fn unauthorized(path: &str, detail: &str, error: Option<&str>) -> Response {
    let params = error
        .map(|error| format!(", error=\"{error}\""))
        .unwrap_or_default();
    challenge(path, detail, &params)
}

/// 401 for an access token that was presented but cannot be used; the
/// reason goes into `error_description` too.
pub fn invalid_token(path: &str, description: &str) -> Response {
    let params = format!(
        ", error=\"invalid_token\", error_description=\"{}\"",
        quoted_text(description)
    );
    challenge(path, description, &params)
}

fn challenge(path: &str, detail: &str, params: &str) -> Response {
    response::with_header(
        response::problem(Problem::new(401).detail(detail).instance(path)),
        WWW_AUTHENTICATE,
        &format!("Bearer realm=\"{REALM}\"{params}"),
    )
}

/// RFC 6750 allows only printable ASCII without `"` and `\` in
/// `error_description`; anything else becomes a space.
fn quoted_text(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            ' ' | '!' | '#'..='[' | ']'..='~' => c,
            _ => ' ',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge_of(response: &Response) -> &str {
        response.headers()[WWW_AUTHENTICATE].to_str().unwrap()
    }

    #[test]
    fn every_401_challenge_names_the_realm() {
        let missing = unauthorized("/p", "invalid email or password", None);
        assert_eq!(missing.status(), 401);
        assert_eq!(challenge_of(&missing), "Bearer realm=\"mhmanus-edge\"");
        let refresh = unauthorized("/p", "the refresh token is invalid", Some("invalid_token"));
        assert_eq!(
            challenge_of(&refresh),
            "Bearer realm=\"mhmanus-edge\", error=\"invalid_token\""
        );
        let access = invalid_token("/p", "the token has \"expired\"");
        assert_eq!(
            challenge_of(&access),
            "Bearer realm=\"mhmanus-edge\", error=\"invalid_token\", \
             error_description=\"the token has  expired \""
        );
    }
}
