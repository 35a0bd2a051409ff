//! The login answer (also the refresh answer): an access token and a new
//! refresh token, stored by hash in its family.

use mhmanus_domain::auth::jwt::Grant;
use mhmanus_domain::auth::refresh;
use serde_json::json;

use super::{Ctx, Outcome};
use crate::response::Response;
use crate::store::StoreError;
use crate::store::tokens::{self, Family};
use crate::store::users::User;
use crate::{clock, response};

/// Starts a session for `user` (a login): a new family, and tokens naming
/// it and the account's session generation as read. `None` when that
/// generation moved before the session was stored (a password change, a
/// role change, logging out everywhere, racing this login): the session
/// is not kept, and the caller decides again from the account as it is now.
pub(super) async fn start(
    ctx: &Ctx<'_>,
    user: &User,
    now_ms: i64,
) -> Result<Option<Response>, StoreError> {
    let family = Family {
        id: uuid::Uuid::new_v4().to_string(),
        started_at: now_ms,
    };
    let expires_at = refresh::expires_at(now_ms, family.started_at)
        .expect("a session that starts now has time left");
    let (answer, refresh_hash) = answer(ctx, user, &family, now_ms);
    let db = ctx.db().await?;
    let kept = tokens::insert_first(
        db,
        &refresh_hash,
        &user.id,
        &family,
        user.session_generation,
        now_ms,
        expires_at,
    )
    .await?;
    Ok(kept.then_some(answer))
}

/// Renews `family` for `user` (a rotation). A rotation whose family was
/// revoked meanwhile, or whose session has reached its maximum lifetime,
/// is refused like an invalid refresh token (and a successor already
/// stored is revoked).
pub(super) async fn renew(ctx: &Ctx<'_>, user: &User, family: Family, now_ms: i64) -> Outcome {
    let Some(expires_at) = refresh::expires_at(now_ms, family.started_at) else {
        return Err(super::refresh::refused(ctx.path).into());
    };
    let (answer, refresh_hash) = answer(ctx, user, &family, now_ms);
    let db = ctx.db().await?;
    let alive =
        tokens::insert_successor(db, &refresh_hash, &user.id, &family, now_ms, expires_at).await?;
    if !alive {
        return Err(super::refresh::refused(ctx.path).into());
    }
    Ok(answer)
}

/// The tokens' answer, and the hash of its refresh token (to store).
fn answer(ctx: &Ctx<'_>, user: &User, family: &Family, now_ms: i64) -> (Response, String) {
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
    let answer = response::json(
        200,
        &json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": jwt.ttl_secs,
            "refresh_token": refresh_token,
        }),
    );
    (answer, refresh_hash)
}
