//! `POST /auth/login {email, password}`: tokens for the right password.
//!
//! Every refusal is the same 401, byte for byte, and costs one password
//! verification: an unknown email, a wrong password and a slowed-down
//! account cannot be told apart, by body or by timing.

use http::header::WWW_AUTHENTICATE;
use mhmanus_domain::auth::email::key_of;
use mhmanus_domain::auth::password::{self, Verdict};
use mhmanus_domain::problem::Problem;
use spin_sdk::wasip3::http_compat::IncomingRequestBody;

use super::{Ctx, Outcome, session};
use crate::auth_guard::REALM;
use crate::fields::Fields;
use crate::response::{self, Response};
use crate::store::{tokens, users};
use crate::{clock, request};

pub async fn handle(ctx: &Ctx<'_>, body: IncomingRequestBody) -> Outcome {
    let object = request::json_object(ctx.headers, body, ctx.path).await?;
    let mut fields = Fields::new(object, &["email", "password"]);
    let email = fields.required_string("email");
    let password = fields.required_string("password");
    let (Some(email), Some(password)) = (email, password) else {
        return Err(fields.rejection(ctx.path).into());
    };
    fields.finish(ctx.path)?;

    let now_ms = clock::now_ms();
    let Some(user) = users::by_email_key(ctx.db().await?, &key_of(&email)).await? else {
        password::verify_dummy(&password);
        return Err(refused(ctx.path).into());
    };
    // Inside the slow-down delay not even the right password counts, and
    // the attempt does not extend the delay.
    if now_ms < user.next_login_at {
        password::verify_dummy(&password);
        return Err(refused(ctx.path).into());
    }
    match password::verify(&password, &user.password_hash) {
        Verdict::Mismatch => {
            users::record_failure(ctx.db().await?, &user.id, now_ms).await?;
            Err(refused(ctx.path).into())
        }
        Verdict::Match { rehash } => {
            if user.failed_logins != 0 || user.next_login_at != 0 {
                users::reset_failures(ctx.db().await?, &user.id).await?;
            }
            if rehash {
                let upgraded = password::hash(&password);
                users::upgrade_hash(ctx.db().await?, &user.id, &user.password_hash, &upgraded)
                    .await?;
            }
            tokens::delete_expired(ctx.db().await?, &user.id, now_ms).await?;
            session::issue(ctx, &user, None, now_ms).await
        }
    }
}

/// The one answer to every bad credential.
fn refused(path: &str) -> Response {
    response::with_header(
        response::problem(
            Problem::new(401)
                .detail("invalid email or password")
                .instance(path),
        ),
        WWW_AUTHENTICATE,
        &format!("Bearer realm=\"{REALM}\""),
    )
}
