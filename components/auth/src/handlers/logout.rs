//! `POST /auth/logout {refresh_token} | {all: true}` (bearer): revokes the
//! presented refresh token of the caller, which ends its session (its whole
//! family, see `store::tokens`, and the access tokens issued in it), or all
//! of the caller's sessions and every access token of the account.
//!
//! Always 204 once authenticated, whether or not a token matched: logout is
//! idempotent and tells nothing about tokens that are not the caller's.

use mhmanus_domain::auth::refresh;
use mhmanus_domain::validation::FieldError;
use spin_sdk::wasip3::http_compat::IncomingRequestBody;

use super::{Ctx, Outcome};
use crate::fields::Fields;
use crate::store::{tokens, users};
use crate::{clock, request, response};

pub(super) async fn handle(ctx: &Ctx<'_>, body: IncomingRequestBody) -> Outcome {
    let caller = ctx.caller().await?;
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
    let db = ctx.db().await?;
    if all {
        users::end_access_tokens(db, caller.id()).await?;
        tokens::revoke_all(db, caller.id(), now_ms).await?;
    } else if let Some(token) = token {
        tokens::revoke_session(db, &refresh::hash(&token), caller.id(), now_ms).await?;
    }
    Ok(response::no_content())
}
