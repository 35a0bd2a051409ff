//! One handler per route; each gets the request's context and, if it reads
//! one, the body.

mod credentials;
mod login;
mod logout;
mod profile;
mod refresh;
mod register;
mod session;
mod users;

use std::cell::OnceCell;

use http::HeaderMap;
use mhmanus_guest::auth_guard::{self, Caller};
use spin_sdk::wasip3::http_compat::IncomingRequestBody;

use crate::response::{Failure, Response};
use crate::routes::Action;
use crate::settings::Settings;
use crate::store::{Db, StoreError};

/// What every handler may use about the request being served.
pub(crate) struct Ctx<'a> {
    pub settings: &'a Settings,
    pub headers: &'a HeaderMap,
    /// The path as requested (the `instance` of problems).
    pub path: &'a str,
    /// The query string, without `?` (empty if none).
    pub query: &'a str,
    /// The request's connection, opened on first use (and again after
    /// `release_db`).
    db: OnceCell<Db>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        settings: &'a Settings,
        headers: &'a HeaderMap,
        path: &'a str,
        query: &'a str,
    ) -> Self {
        Ctx {
            settings,
            headers,
            path,
            query,
            db: OnceCell::new(),
        }
    }

    /// The connection, opened when a handler first needs it: requests
    /// refused before that (bad body, bad token) never take one, and
    /// registration does not hold one while it hashes the password.
    pub(crate) async fn db(&self) -> Result<&Db, StoreError> {
        if let Some(db) = self.db.get() {
            return Ok(db);
        }
        let db = Db::open(&self.settings.database_url).await?;
        Ok(self.db.get_or_init(|| db))
    }

    /// The caller behind the bearer token, let in by the shared door: the
    /// token verified first (no connection taken for a bad one), then the
    /// account read.
    pub(crate) async fn caller(&self) -> Result<Caller, Failure> {
        let claims = auth_guard::verify(self.headers, &self.settings.jwt, self.path)?;
        auth_guard::admit(self.db().await?, claims, self.path).await
    }

    /// Closes the connection (if open) before a slow, CPU-only step, such as
    /// verifying a password: with PostgreSQL every open connection is one of
    /// a limited pool, and concurrent logins holding theirs through argon2
    /// would exhaust it. The next `db()` opens a new one.
    pub(crate) fn release_db(&mut self) {
        drop(self.db.take());
    }
}

pub(crate) type Outcome = Result<Response, Failure>;

/// `ctx` is mutable only so that the handlers that verify passwords can
/// release its connection meanwhile.
pub(crate) async fn dispatch(
    ctx: &mut Ctx<'_>,
    action: Action,
    body: IncomingRequestBody,
) -> Outcome {
    match action {
        Action::Register => register::handle(ctx, body).await,
        Action::Login => login::handle(ctx, body).await,
        Action::Refresh => refresh::handle(ctx, body).await,
        Action::Logout => logout::handle(ctx, body).await,
        Action::ReadProfile => profile::read(ctx).await,
        Action::UpdateProfile => profile::update(ctx, body).await,
        Action::ListUsers => users::list(ctx).await,
        Action::SetRoles { user_id } => users::set_roles(ctx, &user_id, body).await,
        Action::EndSessions { user_id } => users::end_sessions(ctx, &user_id).await,
    }
}
