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
        return Err(response::with_header(
            response::problem(
                Problem::new(401)
                    .detail("a bearer access token is required")
                    .instance(path),
            ),
            WWW_AUTHENTICATE,
            &format!("Bearer realm=\"{REALM}\""),
        ));
    };
    jwt.verify(token)
        .map_err(|e| invalid_token(path, &e.to_string()))
}

/// 401 for a token that was presented but cannot be used.
pub fn invalid_token(path: &str, description: &str) -> Response {
    response::with_header(
        response::problem(Problem::new(401).detail(description).instance(path)),
        WWW_AUTHENTICATE,
        &format!(
            "Bearer realm=\"{REALM}\", error=\"invalid_token\", error_description=\"{}\"",
            quoted_text(description)
        ),
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
