//! `POST /auth/refresh {refresh_token}`: rotation with reuse detection.
//!
//! A token works once: using it marks it rotated and issues a successor in
//! the same family. Presenting a rotated token again means it was copied,
//! so the whole family is revoked (RFC 9700 section 4.14), ending the
//! session of whoever holds the successor too. A family with any revoked
//! token is dead: a rotation that finds its family revoked meanwhile
//! revokes the successor it just stored and is refused (`store::tokens`).
//!
//! A session ends `refresh::MAX_SESSION_SECS` after its login however
//! often it is renewed: its last token expires then, and a rotation past it
//! is refused.
//!
//! By default any reuse revokes the family, as RFC 9700 asks: a client that
//! retries a refresh whose answer it lost, or refreshes twice in parallel,
//! ends its own session and signs in again. `refresh_reuse_grace_secs`
//! trades that for a window: a rotated token presented again within it is
//! refused without revoking the family (taken as a duplicate of the
//! rotating request), which also lets a thief who rotated first keep the
//! family if the victim retries within the window.

use mhmanus_domain::auth::refresh;
use spin_sdk::wasip3::http_compat::IncomingRequestBody;

use super::{Ctx, Outcome, session};
use crate::fields::Fields;
use crate::response::Response;
use crate::store::{tokens, users};
use crate::{auth_guard, clock, request};

pub(super) async fn handle(ctx: &Ctx<'_>, body: IncomingRequestBody) -> Outcome {
    let object = request::json_object(ctx.headers, body, ctx.path).await?;
    let mut fields = Fields::new(object, &["refresh_token"]);
    let Some(token) = fields.required_string("refresh_token") else {
        return Err(fields.rejection(ctx.path).into());
    };
    fields.finish(ctx.path)?;

    let now_ms = clock::now_ms();
    let token_hash = refresh::hash(&token);
    if let Some((user_id, family)) = tokens::rotate(ctx.db().await?, &token_hash, now_ms).await? {
        let Some(user) = users::by_id(ctx.db().await?, &user_id).await? else {
            return Err(refused(ctx.path).into());
        };
        return session::renew(ctx, &user, family, now_ms).await;
    }
    if let Some(spent) = tokens::state(ctx.db().await?, &token_hash).await?
        && spent
            .rotated_at
            .is_some_and(|at| now_ms - at >= ctx.settings.refresh_reuse_grace_ms)
    {
        eprintln!("auth: a rotated refresh token was reused; revoking its family");
        tokens::revoke_family(ctx.db().await?, &spent.family_id, now_ms).await?;
    }
    Err(refused(ctx.path).into())
}

/// Unknown, expired, revoked or reused: one answer.
pub(super) fn refused(path: &str) -> Response {
    auth_guard::unauthorized(
        path,
        "the refresh token is invalid, expired or revoked",
        Some("invalid_token"),
    )
}
