//! `POST /auth/refresh {refresh_token}`: rotation with reuse detection.
//!
//! A token works once: using it marks it rotated and issues a successor in
//! the same family. Presenting a rotated token again means it was copied,
//! so the whole family is revoked (RFC 9700 section 4.14), ending the
//! session of whoever holds the successor too.

use http::header::WWW_AUTHENTICATE;
use mhmanus_domain::auth::refresh;
use mhmanus_domain::problem::Problem;
use spin_sdk::wasip3::http_compat::IncomingRequestBody;

use super::{Ctx, Outcome, session};
use crate::fields::Fields;
use crate::response::{self, Response};
use crate::store::{tokens, users};
use crate::{clock, request};

pub async fn handle(ctx: &Ctx<'_>, body: IncomingRequestBody) -> Outcome {
    let object = request::json_object(ctx.headers, body, ctx.path).await?;
    let mut fields = Fields::new(object, &["refresh_token"]);
    let Some(token) = fields.required_string("refresh_token") else {
        return Err(fields.rejection(ctx.path).into());
    };
    fields.finish(ctx.path)?;

    let now_ms = clock::now_ms();
    let token_hash = refresh::hash(&token);
    if let Some((user_id, family_id)) = tokens::rotate(ctx.db().await?, &token_hash, now_ms).await?
    {
        let Some(user) = users::by_id(ctx.db().await?, &user_id).await? else {
            return Err(refused(ctx.path).into());
        };
        return session::issue(ctx, &user, Some(family_id), now_ms).await;
    }
    if let Some((Some(_rotated_at), family_id)) =
        tokens::state(ctx.db().await?, &token_hash).await?
    {
        eprintln!("auth: a rotated refresh token was reused; revoking its family");
        tokens::revoke_family(ctx.db().await?, &family_id, now_ms).await?;
    }
    Err(refused(ctx.path).into())
}

/// Unknown, expired, revoked or reused: one answer.
fn refused(path: &str) -> Response {
    response::with_header(
        response::problem(
            Problem::new(401)
                .detail("the refresh token is invalid, expired or revoked")
                .instance(path),
        ),
        WWW_AUTHENTICATE,
        "Bearer error=\"invalid_token\"",
    )
}
