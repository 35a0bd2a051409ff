//! The login answer (also the refresh answer): an access token and a new
//! refresh token, stored by hash in its family.

use mhmanus_domain::auth::refresh;
use serde_json::json;

use super::{Ctx, Outcome};
use crate::store::tokens;
use crate::store::users::User;
use crate::{clock, response};

/// Issues tokens for `user`. `family` continues a rotation; `None` starts a
/// new family (a login). A rotation whose family was revoked meanwhile is
/// refused like an invalid refresh token, and its successor revoked.
pub async fn issue(ctx: &Ctx<'_>, user: &User, family: Option<String>, now_ms: i64) -> Outcome {
    let jwt = &ctx.settings.jwt;
    let (access_token, _) = jwt.issue(&user.id, &user.email, &user.roles(), clock::secs(now_ms));
    let (refresh_token, refresh_hash) = refresh::generate();
    let expires_at = now_ms.saturating_add(refresh::TTL_SECS.saturating_mul(1000));
    let db = ctx.db().await?;
    match family {
        Some(family) => {
            let alive =
                tokens::insert_successor(db, &refresh_hash, &user.id, &family, now_ms, expires_at)
                    .await?;
            if !alive {
                return Err(super::refresh::refused(ctx.path).into());
            }
        }
        None => {
            let family = uuid::Uuid::new_v4().to_string();
            tokens::insert(db, &refresh_hash, &user.id, &family, now_ms, expires_at).await?;
        }
    }
    Ok(response::json(
        200,
        &json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": jwt.ttl_secs,
            "refresh_token": refresh_token,
        }),
    ))
}
