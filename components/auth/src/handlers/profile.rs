//! `GET /auth/profile` and `PATCH /auth/profile {name?, currentPassword?,
//! newPassword?}` (bearer): the caller's own account.
//!
//! A password change needs the current password (a stolen access token
//! alone cannot take the account over), checked exactly as login checks it
//! (same slow-down, a wrong one counts as a failed login), and ends every
//! session and every access token (the caller signs in again).

use mhmanus_domain::auth::email::Email;
use mhmanus_domain::auth::name::DisplayName;
use mhmanus_domain::auth::password;
use mhmanus_domain::auth::policy::NewPassword;
use mhmanus_domain::validation::FieldError;
use spin_sdk::wasip3::http_compat::IncomingRequestBody;

use super::credentials::{self, Check};
use super::{Ctx, Outcome};
use crate::fields::Fields;
use crate::response::{self, Failure};
use crate::store::tokens;
use crate::store::users::{self, User};
use crate::{auth_guard, clock, request, view};

pub(super) async fn read(ctx: &Ctx<'_>) -> Outcome {
    let caller = ctx.caller().await?;
    Ok(response::json(200, &view::caller(&caller)))
}

pub(super) async fn update(ctx: &mut Ctx<'_>, body: IncomingRequestBody) -> Outcome {
    let caller = ctx.caller().await?;
    let object = request::json_object(ctx.headers, body, ctx.path).await?;
    let mut fields = Fields::new(object, &["name", "currentPassword", "newPassword"]);
    let name = fields.optional_string("name");
    let current = fields.optional_string("currentPassword");
    let new = fields.optional_string("newPassword");
    let name = name.and_then(|raw| fields.check(DisplayName::parse(&raw)));
    if fields.raw("name").is_none() && fields.raw("newPassword").is_none() {
        fields.push(FieldError::new("name", "or newPassword is required"));
    }
    if new.is_some() && fields.raw("currentPassword").is_none() {
        fields.push(FieldError::new(
            "currentPassword",
            "is required to change the password",
        ));
    }

    let user = account(ctx, caller.id()).await?;
    let now_ms = clock::now_ms();
    let new = match new {
        Some(raw) => {
            // Stored emails passed `Email::parse` at registration (one
            // from before its rules tightened may not: then a stand-in).
            let email = Email::parse(&user.email).or_else(|_| Email::parse("x@x"));
            match email {
                Ok(email) => fields.check(NewPassword::parse(&raw, &email, "newPassword")),
                Err(e) => fields.check(Err(e)),
            }
        }
        None => None,
    };
    if let (Some(_), Some(current)) = (&new, &current) {
        match credentials::check(ctx, &user.email_key, Some(&user), current, now_ms).await? {
            Check::Verified { .. } => {}
            Check::Wrong => fields.push(FieldError::new("currentPassword", "does not match")),
            Check::Throttled { retry_after_secs } => {
                return Err(credentials::throttled(ctx.path, retry_after_secs).into());
            }
        }
    }
    fields.finish(ctx.path)?;

    // Hashed before the writes, on no held connection (as in `credentials`).
    let hash = new.map(|new| {
        ctx.release_db();
        password::hash(new.as_str())
    });
    let mut updated = None;
    if let Some(name) = name {
        updated = users::set_name(ctx.db().await?, &user.id, name.as_str(), now_ms).await?;
    }
    if let Some(hash) = hash {
        updated = users::set_password(ctx.db().await?, &user.id, &hash, now_ms).await?;
        tokens::revoke_all(ctx.db().await?, &user.id, now_ms).await?;
    }
    match updated {
        Some(user) => Ok(response::json(200, &view::user(&user))),
        None => Err(gone(ctx.path)),
    }
}

/// The caller's account; a token whose account is gone is no longer valid.
async fn account(ctx: &Ctx<'_>, id: &str) -> Result<User, Failure> {
    users::by_id(ctx.db().await?, id)
        .await?
        .ok_or_else(|| gone(ctx.path))
}

fn gone(path: &str) -> Failure {
    auth_guard::invalid_token(path, "the account no longer exists").into()
}
