//! The `users` table.

use mhmanus_domain::auth::role::{self, Role};

use super::{Db, Row, StoreError, Val};

/// An account as stored. `password_hash` never leaves the component.
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub id: String,
    pub email: String,
    /// The normalised address (`Email::key`): what the slow-down counts by.
    pub email_key: String,
    pub name: String,
    pub password_hash: String,
    /// The stored column, canonical (see `role::to_column`).
    pub roles_column: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Which access tokens are current: those issued at this generation.
    pub session_generation: i64,
}

impl User {
    pub(crate) fn roles(&self) -> Vec<Role> {
        role::from_column(&self.roles_column)
    }
}

/// What a new account is made of.
pub(crate) struct NewUser<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub email_key: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub roles_column: &'a str,
    pub now_ms: i64,
}

/// The columns every query returns, in `from_row` order.
const COLUMNS: &str = "id, email, email_key, name, password_hash, roles, created_at, \
    updated_at, session_generation";

fn from_row(row: &Row) -> Result<User, StoreError> {
    Ok(User {
        id: row.text(0)?,
        email: row.text(1)?,
        email_key: row.text(2)?,
        name: row.text(3)?,
        password_hash: row.text(4)?,
        roles_column: row.text(5)?,
        created_at: row.int(6)?,
        updated_at: row.int(7)?,
        session_generation: row.int(8)?,
    })
}

fn one(row: Option<Row>) -> Result<Option<User>, StoreError> {
    row.as_ref().map(from_row).transpose()
}

pub(crate) async fn by_email_key(db: &Db, email_key: &str) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE email_key = $1");
    one(db.query_opt(&sql, &[Val::from(email_key)]).await?)
}

/// Whether any account has the Admin role. A scan, for the bootstrap's
/// rare first look at an existing account only.
pub(crate) async fn any_admin(db: &Db) -> Result<bool, StoreError> {
    let row = db
        .query_opt(
            "SELECT 1 FROM users WHERE roles LIKE $1 LIMIT 1",
            &[Val::from(format!("%{}%", Role::Admin.as_str()))],
        )
        .await?;
    Ok(row.is_some())
}

pub(crate) async fn by_id(db: &Db, id: &str) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    one(db.query_opt(&sql, &[Val::from(id)]).await?)
}

/// Creates the account unless its email key is taken; `None` means taken.
/// One statement, so of two racing registrations exactly one wins.
pub(crate) async fn insert(db: &Db, new: NewUser<'_>) -> Result<Option<User>, StoreError> {
    let sql = format!(
        "INSERT INTO users (id, email, email_key, name, password_hash, roles, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
         ON CONFLICT (email_key) DO NOTHING RETURNING {COLUMNS}"
    );
    let params = [
        Val::from(new.id),
        Val::from(new.email),
        Val::from(new.email_key),
        Val::from(new.name),
        Val::from(new.password_hash),
        Val::from(new.roles_column),
        Val::Int(new.now_ms),
    ];
    one(db.query_opt(&sql, &params).await?)
}

/// Upgrades a hash (bcrypt, old parameters) after a successful login, only
/// if the stored hash is still the one that was verified: a password change
/// in between wins.
pub(crate) async fn upgrade_hash(
    db: &Db,
    id: &str,
    old: &str,
    new: &str,
) -> Result<(), StoreError> {
    db.execute(
        "UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3",
        &[Val::from(new), Val::from(id), Val::from(old)],
    )
    .await
}

/// A password change: the new hash and a new session generation (every
/// access token ends). The check of the current password cleared the
/// slow-down (`attempts::clear`).
pub(crate) async fn set_password(
    db: &Db,
    id: &str,
    hash: &str,
    now_ms: i64,
) -> Result<Option<User>, StoreError> {
    let sql = format!(
        "UPDATE users SET password_hash = $1, \
         session_generation = session_generation + 1, updated_at = $2 WHERE id = $3 \
         RETURNING {COLUMNS}"
    );
    let params = [Val::from(hash), Val::Int(now_ms), Val::from(id)];
    one(db.query_opt(&sql, &params).await?)
}

pub(crate) async fn set_name(
    db: &Db,
    id: &str,
    name: &str,
    now_ms: i64,
) -> Result<Option<User>, StoreError> {
    let sql =
        format!("UPDATE users SET name = $1, updated_at = $2 WHERE id = $3 RETURNING {COLUMNS}");
    let params = [Val::from(name), Val::Int(now_ms), Val::from(id)];
    one(db.query_opt(&sql, &params).await?)
}

/// New roles, and a new session generation: every access token carries
/// the roles it was issued with, so each ends rather than show stale ones.
pub(crate) async fn set_roles(
    db: &Db,
    id: &str,
    roles_column: &str,
    now_ms: i64,
) -> Result<Option<User>, StoreError> {
    let sql = format!(
        "UPDATE users SET roles = $1, session_generation = session_generation + 1, \
         updated_at = $2 WHERE id = $3 RETURNING {COLUMNS}"
    );
    let params = [Val::from(roles_column), Val::Int(now_ms), Val::from(id)];
    one(db.query_opt(&sql, &params).await?)
}

/// Sets the roles only if they are still `expected` (the bootstrap's
/// read-modify-write, so a concurrent Admin change is not overwritten);
/// `false` when they were not.
pub(crate) async fn replace_roles(
    db: &Db,
    id: &str,
    expected: &str,
    roles_column: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let row = db
        .query_opt(
            "UPDATE users SET roles = $1, session_generation = session_generation + 1, \
             updated_at = $2 WHERE id = $3 AND roles = $4 RETURNING id",
            &[
                Val::from(roles_column),
                Val::Int(now_ms),
                Val::from(id),
                Val::from(expected),
            ],
        )
        .await?;
    Ok(row.is_some())
}

/// Ends every access token of the account at once (logout everywhere, an
/// Admin ending its sessions); `false` when there is no such account.
pub(crate) async fn end_access_tokens(db: &Db, id: &str) -> Result<bool, StoreError> {
    let row = db
        .query_opt(
            "UPDATE users SET session_generation = session_generation + 1 WHERE id = $1 \
             RETURNING id",
            &[Val::from(id)],
        )
        .await?;
    Ok(row.is_some())
}

/// One page, oldest first (ties by id, so pages never overlap).
pub(crate) async fn page(db: &Db, limit: i64, offset: i64) -> Result<Vec<User>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users ORDER BY created_at, id LIMIT $1 OFFSET $2");
    db.query(&sql, &[Val::Int(limit), Val::Int(offset)])
        .await?
        .iter()
        .map(from_row)
        .collect()
}

pub(crate) async fn count(db: &Db) -> Result<i64, StoreError> {
    match db.query_opt("SELECT COUNT(*) FROM users", &[]).await? {
        Some(row) => row.int(0),
        None => Ok(0),
    }
}
