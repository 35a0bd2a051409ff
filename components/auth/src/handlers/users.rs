//! User administration (Admin): `GET /users?page=&perPage=`,
//! `PUT /users/{id}/roles {roles}` and `DELETE /users/{id}/sessions`.
//!
//! The role check reads the caller's roles from the account (the shared
//! bearer door), never from the token: an Admin whose role is removed loses
//! it with the next request. A role change also ends the account's access
//! tokens. An Admin cannot change their own roles: 403.

use mhmanus_domain::auth::role::{self, Role};
use mhmanus_domain::problem::Problem;
use mhmanus_domain::validation::FieldError;
use serde_json::{Value, json};
use spin_sdk::wasip3::http_compat::IncomingRequestBody;

use super::{Ctx, Outcome};
use crate::fields::Fields;
use crate::response::{self, Response};
use crate::store::{tokens, users};
use crate::{clock, request, view};

pub(super) const DEFAULT_PER_PAGE: i64 = 20;
pub(super) const MAX_PER_PAGE: i64 = 100;

pub(super) async fn list(ctx: &Ctx<'_>) -> Outcome {
    ctx.caller().await?.require(Role::Admin, ctx.path)?;
    let (page, per_page) = paging(ctx.query, ctx.path)?;
    let offset = (page - 1).saturating_mul(per_page);
    let items: Vec<Value> = users::page(ctx.db().await?, per_page, offset)
        .await?
        .iter()
        .map(view::user)
        .collect();
    let total = users::count(ctx.db().await?).await?;
    Ok(response::json(
        200,
        &json!({"items": items, "page": page, "perPage": per_page, "total": total}),
    ))
}

pub(super) async fn set_roles(ctx: &Ctx<'_>, user_id: &str, body: IncomingRequestBody) -> Outcome {
    let caller = ctx.caller().await?;
    caller.require(Role::Admin, ctx.path)?;
    // Granting oneself roles is not administration, and an Admin removing
    // their own Admin role could leave the service with none. Not a scope
    // problem (the caller has the role), so no insufficient_scope challenge.
    if user_id == caller.id() {
        return Err(response::problem(
            Problem::new(403)
                .detail("an Admin cannot change their own roles")
                .instance(ctx.path),
        )
        .into());
    }
    let object = request::json_object(ctx.headers, body, ctx.path).await?;
    let mut fields = Fields::new(object, &["roles"]);
    let roles = match roles_of(fields.raw("roles")) {
        Ok(roles) => Some(roles),
        Err(e) => {
            fields.push(e);
            None
        }
    };
    let Some(roles) = roles else {
        return Err(fields.rejection(ctx.path).into());
    };
    fields.finish(ctx.path)?;

    let column = role::to_column(&roles);
    match users::set_roles(ctx.db().await?, user_id, &column, clock::now_ms()).await? {
        Some(user) => Ok(response::json(200, &view::user(&user))),
        None => Err(response::problem(
            Problem::new(404)
                .detail("there is no user with this id")
                .instance(ctx.path),
        )
        .into()),
    }
}

/// Ends every session of the account (a compromised account, a departing
/// member): its refresh tokens are revoked and its access tokens refused,
/// at once. Idempotent: 204 whether or not any was open; 404 only when
/// there is no such account.
pub(super) async fn end_sessions(ctx: &Ctx<'_>, user_id: &str) -> Outcome {
    ctx.caller().await?.require(Role::Admin, ctx.path)?;
    let db = ctx.db().await?;
    if !users::end_access_tokens(db, user_id).await? {
        return Err(response::problem(
            Problem::new(404)
                .detail("there is no user with this id")
                .instance(ctx.path),
        )
        .into());
    }
    tokens::revoke_all(db, user_id, clock::now_ms()).await?;
    Ok(response::no_content())
}

/// A non-empty array of known role names.
fn roles_of(value: Option<&Value>) -> Result<Vec<Role>, FieldError> {
    let invalid = |message: String| FieldError::new("roles", message);
    let names = match value {
        None => return Err(invalid("is required".into())),
        Some(Value::Array(names)) if !names.is_empty() => names,
        Some(_) => {
            return Err(invalid(
                "must be a non-empty list of role names (Admin, User, Developer)".into(),
            ));
        }
    };
    names
        .iter()
        .map(|name| {
            name.as_str()
                .and_then(Role::parse)
                .ok_or_else(|| invalid(format!("has an unknown role: {name}")))
        })
        .collect()
}

/// `page` (from 1) and `perPage` (1 to 100) from the query string; each
/// invalid one is named in the 422.
fn paging(query: &str, path: &str) -> Result<(i64, i64), Response> {
    let mut page = Some(1);
    let mut per_page = Some(DEFAULT_PER_PAGE);
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "page" => page = number(value, 1, i64::MAX / MAX_PER_PAGE),
            "perPage" => per_page = number(value, 1, MAX_PER_PAGE),
            _ => {}
        }
    }
    let mut errors = Vec::new();
    if page.is_none() {
        errors.push(FieldError::new(
            "page",
            "must be a whole number of at least 1",
        ));
    }
    if per_page.is_none() {
        errors.push(FieldError::new(
            "perPage",
            format!("must be a whole number from 1 to {MAX_PER_PAGE}"),
        ));
    }
    match (page, per_page) {
        (Some(page), Some(per_page)) => Ok((page, per_page)),
        _ => Err(response::invalid(&errors, path)),
    }
}

fn number(text: &str, min: i64, max: i64) -> Option<i64> {
    text.parse::<i64>().ok().filter(|n| (min..=max).contains(n))
}
