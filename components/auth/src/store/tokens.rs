//! The `refresh_tokens` table: only SHA-256 hashes of the tokens, grouped in
//! families (one login and all its rotations).

use super::{Db, StoreError, Val};

/// A new token of `family` for `user_id`.
pub async fn insert(
    db: &Db,
    token_hash: &str,
    user_id: &str,
    family_id: &str,
    now_ms: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO refresh_tokens (token_hash, user_id, family_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
        &[
            Val::from(token_hash),
            Val::from(user_id),
            Val::from(family_id),
            Val::Int(now_ms),
            Val::Int(expires_at),
        ],
    )
    .await
}

/// Marks a live token as used and returns its (user id, family id).
///
/// One conditional UPDATE: of any number of concurrent uses of one token,
/// exactly one gets the row.
pub async fn rotate(
    db: &Db,
    token_hash: &str,
    now_ms: i64,
) -> Result<Option<(String, String)>, StoreError> {
    let row = db
        .query_opt(
            "UPDATE refresh_tokens SET rotated_at = $1 WHERE token_hash = $2 \
             AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > $3 \
             RETURNING user_id, family_id",
            &[Val::Int(now_ms), Val::from(token_hash), Val::Int(now_ms)],
        )
        .await?;
    row.map(|row| Ok((row.text(0)?, row.text(1)?))).transpose()
}

/// What became of a token that did not rotate: (rotated_at, family id).
pub async fn state(db: &Db, token_hash: &str) -> Result<Option<(Option<i64>, String)>, StoreError> {
    let row = db
        .query_opt(
            "SELECT rotated_at, family_id FROM refresh_tokens WHERE token_hash = $1",
            &[Val::from(token_hash)],
        )
        .await?;
    row.map(|row| Ok((row.opt_int(0)?, row.text(1)?)))
        .transpose()
}

/// Ends every live token of a family (reuse of a rotated token, RFC 9700 4.14).
pub async fn revoke_family(db: &Db, family_id: &str, now_ms: i64) -> Result<(), StoreError> {
    db.execute(
        "UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
        &[Val::Int(now_ms), Val::from(family_id)],
    )
    .await
}

/// Ends one token, only if it belongs to `user_id` (logout).
pub async fn revoke_one(
    db: &Db,
    token_hash: &str,
    user_id: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    db.execute(
        "UPDATE refresh_tokens SET revoked_at = $1 WHERE token_hash = $2 AND user_id = $3 \
         AND revoked_at IS NULL",
        &[Val::Int(now_ms), Val::from(token_hash), Val::from(user_id)],
    )
    .await
}

/// Ends every token of the account (logout everywhere, password change).
pub async fn revoke_all(db: &Db, user_id: &str, now_ms: i64) -> Result<(), StoreError> {
    db.execute(
        "UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        &[Val::Int(now_ms), Val::from(user_id)],
    )
    .await
}

/// Drops the account's expired tokens: past expiry they can neither be used
/// nor signal reuse, so keeping them only grows the table.
pub async fn delete_expired(db: &Db, user_id: &str, now_ms: i64) -> Result<(), StoreError> {
    db.execute(
        "DELETE FROM refresh_tokens WHERE user_id = $1 AND expires_at <= $2",
        &[Val::from(user_id), Val::Int(now_ms)],
    )
    .await
}
