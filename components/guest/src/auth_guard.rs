//! The door of the bearer routes: the access token in `Authorization`, and
//! the role its verified claims carry. Challenges follow RFC 6750 section 3.

use http::HeaderMap;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use mhmanus_domain::auth::jwt::{Claims, JwtSettings, bearer_token};
use mhmanus_domain::auth::role::Role;
use mhmanus_domain::problem::Problem;

use crate::response::{self, Response};

pub const REALM: &str = "mhmanus-edge";

/// The verified claims of the request's bearer token, or the 401 answer.
pub fn authenticate(
    headers: &HeaderMap,
    jwt: &JwtSettings,
    path: &str,
) -> Result<Claims, Response> {
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

/// 403 unless the verified claims carry `role`.
pub fn require_role(claims: &Claims, role: Role, path: &str) -> Result<(), Response> {
    if claims.has_role(role) {
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
