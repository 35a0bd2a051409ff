//! `POST /auth/login {email, password}`: tokens for the right password.
//!
//! Every wrong credential is the same 401, byte for byte, and costs one
//! password verification: an unknown email and a wrong password cannot be
//! told apart, by body or by timing. An attempt the slow-down refuses
//! before checking it is a 429 with `Retry-After`, for known and unknown
//! addresses alike (see `credentials`).

use mhmanus_domain::auth::email::key_of;
use mhmanus_domain::auth::password;
use spin_sdk::wasip3::http_compat::IncomingRequestBody;

use super::credentials::{self, Check};
use super::{Ctx, Outcome, session};
use crate::fields::Fields;
use crate::response::Response;
use crate::store::{StoreError, tokens, users};
use crate::{auth_guard, clock, request};

pub(super) async fn handle(ctx: &mut Ctx<'_>, body: IncomingRequestBody) -> Outcome {
    let object = request::json_object(ctx.headers, body, ctx.path).await?;
    let mut fields = Fields::new(object, &["email", "password"]);
    let email = fields.required_string("email");
    let password = fields.required_string("password");
    let (Some(email), Some(password)) = (email, password) else {
        return Err(fields.rejection(ctx.path).into());
    };
    fields.finish(ctx.path)?;

    let now_ms = clock::now_ms();
    // An email that is no address cannot be an account's.
    let Some(key) = key_of(&email) else {
        credentials::refuse(ctx, &password);
        return Err(refused(ctx.path).into());
    };
    // The lookup's connection is released before any verification (by
    // `credentials`); the writes below open a new one.
    let user = users::by_email_key(ctx.db().await?, &key).await?;
    let check = credentials::check(ctx, &key, user.as_ref(), &password, now_ms).await?;
    let (rehash, mut user) = match (check, user) {
        (Check::Verified { rehash }, Some(user)) => (rehash, user),
        (Check::Throttled { retry_after_secs }, _) => {
            return Err(credentials::throttled(ctx.path, retry_after_secs).into());
        }
        // Wrong (without an account, nothing is ever verified).
        _ => return Err(refused(ctx.path).into()),
    };
    if rehash {
        // Hashing costs what verifying does: not on a held connection either.
        ctx.release_db();
        let upgraded = password::hash(&password);
        users::upgrade_hash(ctx.db().await?, &user.id, &user.password_hash, &upgraded).await?;
        // Stored unless a password change won the race (then the login
        // below finds a hash that is neither, and is refused).
        user.password_hash = upgraded;
    }
    tokens::delete_expired(ctx.db().await?, &user.id, now_ms).await?;
    // The session is kept only if the account's sessions did not change
    // since `user` was read; if they did, decide again from the account as
    // it is now: a new password refuses this login, anything else (a role
    // change, logging out everywhere) gets a session of the new generation.
    for _ in 0..SESSION_ATTEMPTS {
        if let Some(answer) = session::start(ctx, &user, now_ms).await? {
            return Ok(answer);
        }
        match users::by_id(ctx.db().await?, &user.id).await? {
            Some(now) if now.password_hash == user.password_hash => user = now,
            // A new password (or the account gone): this one is wrong now.
            _ => return Err(refused(ctx.path).into()),
        }
    }
    Err(StoreError::new("the account's sessions kept changing during a login").into())
}

/// How often a login tries to store its session while the account's
/// session generation moves under it.
const SESSION_ATTEMPTS: usize = 3;

/// The one answer to every bad credential.
fn refused(path: &str) -> Response {
    auth_guard::unauthorized(path, "invalid email or password", None)
}
