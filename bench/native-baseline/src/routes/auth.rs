//! `POST /v1/auth/login` and `GET /v1/auth/profile`, on the success paths
//! the bench measures, doing the work the auth component does there: the
//! account read, argon2id verification, the refresh token's writes, JWT
//! signing; JWT verification and the account read. Refusals are the same
//! 401 problems; the throttling of failed logins is left out (the bench
//! never fails a login).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use mhmanus_domain::auth::email::key_of;
use mhmanus_domain::auth::jwt::bearer_token;
use mhmanus_domain::auth::password::{self, Verdict};
use mhmanus_domain::auth::{refresh, role};
use mhmanus_domain::clock::{now_ms, rfc3339};
use mhmanus_domain::problem::Problem;
use serde::Deserialize;
use serde_json::json;

use crate::App;
use crate::store::User;

const LOGIN: &str = "/v1/auth/login";
const PROFILE: &str = "/v1/auth/profile";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    email: String,
    password: String,
}

pub async fn login(State(app): State<Arc<App>>, Json(credentials): Json<Credentials>) -> Response {
    let user = match app
        .store
        .user_by_email_key(key_of(&credentials.email))
        .await
    {
        Ok(user) => user,
        Err(error) => return super::unavailable(error, LOGIN),
    };
    let verdict = {
        let _permit = app.hashing.acquire().await.expect("never closed");
        let stored = user.as_ref().map(|u| u.password_hash.clone());
        let password = credentials.password;
        tokio::task::spawn_blocking(move || match stored {
            Some(stored) => password::verify(&password, &stored),
            None => {
                password::verify_dummy(&password);
                Verdict::Mismatch
            }
        })
        .await
        .unwrap_or(Verdict::Mismatch)
    };
    let now_ms = now_ms();
    let user = match (user, verdict) {
        (Some(user), Verdict::Match { .. }) if now_ms >= user.next_login_at => user,
        _ => return unauthorized(LOGIN, "invalid email or password", ""),
    };
    if (user.failed_logins != 0 || user.next_login_at != 0)
        && let Err(error) = app.store.reset_failures(user.id.clone()).await
    {
        return super::unavailable(error, LOGIN);
    }
    let (access_token, _) = app.jwt.issue(
        &user.id,
        &user.email,
        &role::from_column(&user.roles),
        mhmanus_domain::clock::secs(now_ms),
    );
    let (refresh_token, refresh_hash) = refresh::generate();
    let expires_at = now_ms.saturating_add(refresh::TTL_SECS.saturating_mul(1000));
    let family = uuid::Uuid::new_v4().to_string();
    if let Err(error) = app
        .store
        .start_session(user.id, refresh_hash, family, now_ms, expires_at)
        .await
    {
        return super::unavailable(error, LOGIN);
    }
    super::json(
        200,
        &json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": app.jwt.ttl_secs,
            "refresh_token": refresh_token,
        }),
    )
}

pub async fn profile(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token);
    let Some(token) = token else {
        return unauthorized(PROFILE, "a bearer access token is required", "");
    };
    let claims = match app.jwt.verify(token) {
        Ok(claims) => claims,
        Err(e) => return unauthorized(PROFILE, &e.to_string(), ", error=\"invalid_token\""),
    };
    match app.store.user_by_id(claims.sub).await {
        Ok(Some(user)) => super::json(200, &view(&user)),
        Ok(None) => unauthorized(
            PROFILE,
            "the account no longer exists",
            ", error=\"invalid_token\"",
        ),
        Err(error) => super::unavailable(error, PROFILE),
    }
}

/// What the auth component shows of an account.
fn view(user: &User) -> serde_json::Value {
    let roles: Vec<&str> = role::from_column(&user.roles)
        .into_iter()
        .map(|role| role.as_str())
        .collect();
    json!({
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "roles": roles,
        "createdAt": rfc3339(user.created_at),
        "updatedAt": rfc3339(user.updated_at),
    })
}

fn unauthorized(path: &str, detail: &str, params: &str) -> Response {
    let mut response = super::problem(Problem::new(401).detail(detail).instance(path));
    if let Ok(challenge) = HeaderValue::from_str(&format!("Bearer realm=\"mhmanus-edge\"{params}"))
    {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, challenge);
    }
    response
}
