//! `POST /v1/auth/login` and `GET /v1/auth/profile`, on the success paths
//! the bench measures, doing the work the auth component does there: the
//! account read, the attempt's claim, argon2id verification, the reset of
//! the count, the refresh token's writes, JWT signing; JWT verification,
//! the bearer door's read and the account read. Refusals are the same 401
//! problems; the slow-down past the free failures is left out (the bench
//! never fails a login).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use mhmanus_contract::problem::Problem;
use mhmanus_domain::auth::email::key_of;
use mhmanus_domain::auth::jwt::{Grant, bearer_token};
use mhmanus_domain::auth::password::{self, Verdict};
use mhmanus_domain::auth::{refresh, role, throttle};
use mhmanus_domain::clock::{now_ms, rfc3339};
use serde::Deserialize;
use serde_json::json;

use crate::App;
use crate::store::User;

const LOGIN: &str = "/v1/auth/login";
const PROFILE: &str = "/v1/auth/profile";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Credentials {
    email: String,
    password: String,
}

pub(super) async fn login(
    State(app): State<Arc<App>>,
    Json(credentials): Json<Credentials>,
) -> Response {
    // The component's statements, in its order (`handlers/credentials.rs`),
    // for the success path the bench drives; slow-down refusals are 401 here.
    let Some(key) = key_of(&credentials.email) else {
        return unauthorized(LOGIN, "invalid email or password", "");
    };
    let user = match app.store.user_by_email_key(key.clone()).await {
        Ok(user) => user,
        Err(error) => return super::unavailable(error, LOGIN),
    };
    let now_ms = now_ms();
    let hold_until = now_ms + throttle::HOLD_MS;
    let claimed = match app.store.claim_check(key.clone(), now_ms, hold_until).await {
        Ok(claimed) => claimed.is_some(),
        Err(error) => return super::unavailable(error, LOGIN),
    };
    let user = user.filter(|_| claimed);
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
    let user = match (user, verdict) {
        (Some(user), Verdict::Match { .. }) => user,
        _ => return unauthorized(LOGIN, "invalid email or password", ""),
    };
    let forget_before = now_ms - 24 * 60 * 60 * 1_000;
    if let Err(error) = app.store.clear_attempts(key, forget_before).await {
        return super::unavailable(error, LOGIN);
    }
    let family = uuid::Uuid::new_v4().to_string();
    let roles = role::from_column(&user.roles);
    let grant = Grant {
        sub: &user.id,
        email: &user.email,
        roles: &roles,
        sid: &family,
        generation: user.session_generation,
    };
    let (access_token, _) = app.jwt.issue(grant, mhmanus_domain::clock::secs(now_ms));
    let (refresh_token, refresh_hash) = refresh::generate();
    let expires_at = now_ms.saturating_add(refresh::TTL_SECS.saturating_mul(1000));
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

pub(super) async fn profile(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
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
    let gone = || {
        unauthorized(
            PROFILE,
            "the session has ended; sign in again",
            ", error=\"invalid_token\"",
        )
    };
    match app
        .store
        .standing(claims.sub.clone(), claims.sid.clone(), now_ms())
        .await
    {
        Ok(Some((_, generation, alive))) if generation == claims.generation && alive => {}
        Ok(_) => return gone(),
        Err(error) => return super::unavailable(error, PROFILE),
    }
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
