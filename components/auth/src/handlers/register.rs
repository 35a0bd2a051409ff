//! `POST /auth/register {email, password, name}`: a new account with the
//! User role.

use mhmanus_domain::auth::email::Email;
use mhmanus_domain::auth::name::DisplayName;
use mhmanus_domain::auth::password;
use mhmanus_domain::auth::policy::NewPassword;
use mhmanus_domain::auth::role::{self, Role};
use mhmanus_domain::problem::Problem;
use spin_sdk::wasip3::http_compat::IncomingRequestBody;

use super::{Ctx, Outcome};
use crate::fields::Fields;
use crate::store::users::{self, NewUser};
use crate::{clock, request, response, view};

pub(super) async fn handle(ctx: &Ctx<'_>, body: IncomingRequestBody) -> Outcome {
    let object = request::json_object(ctx.headers, body, ctx.path).await?;
    let mut fields = Fields::new(object, &["email", "password", "name"]);
    let email = fields.required_string("email");
    let password = fields.required_string("password");
    let name = fields.required_string("name");

    let email = email.and_then(|raw| fields.check(Email::parse_new(&raw)));
    let name = name.and_then(|raw| fields.check(DisplayName::parse(&raw)));
    let password = password.and_then(|raw| {
        // With an invalid email the policy still runs, so one answer names
        // every problem; the stand-in address is shorter than any allowed
        // password, so "must not be the email" cannot fire by mistake.
        let email = email.clone().or_else(|| Email::parse("x@x").ok())?;
        fields.check(NewPassword::parse(&raw, &email, "password"))
    });
    let (Some(email), Some(name), Some(password)) = (email, name, password) else {
        return Err(fields.rejection(ctx.path).into());
    };
    fields.finish(ctx.path)?;

    let hash = password::hash(password.as_str());
    let id = uuid::Uuid::new_v4().to_string();
    let inserted = users::insert(
        ctx.db().await?,
        NewUser {
            id: &id,
            email: email.as_str(),
            email_key: email.key(),
            name: name.as_str(),
            password_hash: &hash,
            roles_column: &role::to_column(&[Role::User]),
            now_ms: clock::now_ms(),
        },
    )
    .await?;
    match inserted {
        Some(user) => Ok(response::json(201, &view::user(&user))),
        None => Err(response::problem(
            Problem::new(409)
                .detail("an account with this email already exists")
                .instance(ctx.path),
        )
        .into()),
    }
}
