//! `POST /auth/logout {refresh_token} | {all: true}` (bearer): revokes the
//! presented refresh token of the caller, which ends its session (its whole
//! family, see `store::tokens`), or all of the caller's.
//!
//! Always 204 once authenticated, whether or not a token matched: logout is
//! idempotent and tells nothing about tokens that are not the caller's.

use mhmanus_domain::auth::refresh;
use mhmanus_domain::validation::FieldError;
use spin_sdk::wasip3::http_compat::IncomingRequestBody;

use super::{Ctx, Outcome};
use crate::fields::Fields;
use crate::store::tokens;
use crate::{auth_guard, clock, request, response};

pub async fn handle(ctx: &Ctx<'_>, body: IncomingRequestBody) -> Outcome {
    let claims = auth_guard::authenticate(ctx.headers, &ctx.settings.jwt, ctx.path)?;
    let object = request::json_object(ctx.headers, body, ctx.path).await?;
    let mut fields = Fields::new(object, &["refresh_token", "all"]);
    let token = fields.optional_string("refresh_token");
    if token.as_deref() == Some("") {
        // No token is empty: the client has a bug worth telling it about.
        fields.push(FieldError::new("refresh_token", "must not be empty"));
    }
    let all = fields.optional_bool("all") == Some(true);
    if !all && token.is_none() && fields.raw("refresh_token").is_none() {
        fields.push(FieldError::new(
            "refresh_token",
            "is required unless all is true",
        ));
    }
    fields.finish(ctx.path)?;

    let now_ms = clock::now_ms();
    if all {
        tokens::revoke_all(ctx.db().await?, &claims.sub, now_ms).await?;
    } else if let Some(token) = token {
        tokens::revoke_one(ctx.db().await?, &refresh::hash(&token), &claims.sub, now_ms).await?;
    }
    Ok(response::no_content())
}
