//! The login answer (also the refresh answer): an access token and a new
//! refresh token, stored by hash in its family.

use mhmanus_domain::auth::jwt::Grant;
use mhmanus_domain::auth::refresh;
use serde_json::json;

use super::{Ctx, Outcome};
use crate::store::tokens::{self, Family};
use crate::store::users::User;
use crate::{clock, response};

/// Issues tokens for `user`: the access token names the session (the
/// family) and the account's session generation as read. `family` continues a rotation; `None` starts a
/// new family (a login). A rotation whose family was revoked meanwhile, or
/// whose session has reached its maximum lifetime, is refused like an
/// invalid refresh token (and a successor already stored is revoked).
pub(super) async fn issue(
    ctx: &Ctx<'_>,
    user: &User,
    family: Option<Family>,
    now_ms: i64,
) -> Outcome {
    let (family, renewal) = match family {
        Some(family) => (family, true),
        None => {
            let id = uuid::Uuid::new_v4().to_string();
            (
                Family {
                    id,
                    started_at: now_ms,
                },
                false,
            )
        }
    };
    let Some(expires_at) = refresh::expires_at(now_ms, family.started_at) else {
        return Err(super::refresh::refused(ctx.path).into());
    };
    let jwt = &ctx.settings.jwt;
    let roles = user.roles();
    let grant = Grant {
        sub: &user.id,
        email: &user.email,
        roles: &roles,
        sid: &family.id,
        generation: user.session_generation,
    };
    let (access_token, _) = jwt.issue(grant, clock::secs(now_ms));
    let (refresh_token, refresh_hash) = refresh::generate();
    let db = ctx.db().await?;
    if renewal {
        let alive =
            tokens::insert_successor(db, &refresh_hash, &user.id, &family, now_ms, expires_at)
                .await?;
        if !alive {
            return Err(super::refresh::refused(ctx.path).into());
        }
    } else {
        tokens::insert(db, &refresh_hash, &user.id, &family, now_ms, expires_at).await?;
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
