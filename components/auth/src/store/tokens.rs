//! The `refresh_tokens` table: only SHA-256 hashes of the tokens, grouped in
//! families (one login and all its rotations).
//!
//! A family with any revoked token is dead. Rotation marks the used token
//! `rotated_at` and never `revoked_at`, so a healthy family has no revoked
//! row; every revocation (reuse detection, logout, logout everywhere, a
//! password change) sets `revoked_at` on at least one row of each family it
//! ends. Logging out with one token of a family thus ends the whole family,
//! which is what logging out of that session means.
//!
//! Rotation is two statements (mark the old token, insert its successor),
//! and a revocation may run between them; `insert_successor` and the
//! revocations below are written so that the successor never outlives it.
//! A login's first token is checked the same way against the account's
//! session generation (`insert_first`). And a family is purged only whole
//! (`delete_expired`): purging its revoked row alone would bring it back.

use super::{Db, StoreError, Val};

/// A new token of `family` for `user_id`, in a session that began at
/// `started_at`.
pub(crate) async fn insert(
    db: &Db,
    token_hash: &str,
    user_id: &str,
    family: &Family,
    now_ms: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO refresh_tokens (token_hash, user_id, family_id, family_started_at, \
         created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            Val::from(token_hash),
            Val::from(user_id),
            Val::from(family.id.as_str()),
            Val::Int(family.started_at),
            Val::Int(now_ms),
            Val::Int(expires_at),
        ],
    )
    .await
}

/// A session: the family its tokens share, and when its login was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Family {
    pub id: String,
    pub started_at: i64,
}

/// Marks a live token as used and returns its user id and family (a
/// token from before sessions recorded their start stands for its own).
///
/// One conditional UPDATE: of any number of concurrent uses of one token,
/// exactly one gets the row.
pub(crate) async fn rotate(
    db: &Db,
    token_hash: &str,
    now_ms: i64,
) -> Result<Option<(String, Family)>, StoreError> {
    let row = db
        .query_opt(
            "UPDATE refresh_tokens SET rotated_at = $1 WHERE token_hash = $2 \
             AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > $3 \
             RETURNING user_id, family_id, COALESCE(family_started_at, created_at)",
            &[Val::Int(now_ms), Val::from(token_hash), Val::Int(now_ms)],
        )
        .await?;
    row.map(|row| {
        let family = Family {
            id: row.text(1)?,
            started_at: row.int(2)?,
        };
        Ok((row.text(0)?, family))
    })
    .transpose()
}

/// Stores the successor of a token that `rotate` just marked, then checks
/// that its family is still alive. If a revocation reached the family in the
/// meantime the successor is revoked too and `false` returned: the caller
/// must refuse, as for an invalid token.
///
/// The check runs after the insert has committed, as its own statement, so
/// it sees every revocation that committed before the successor did; the
/// revocations that commit later are the ones `revoke` catches by running
/// twice (see there).
pub(crate) async fn insert_successor(
    db: &Db,
    token_hash: &str,
    user_id: &str,
    family: &Family,
    now_ms: i64,
    expires_at: i64,
) -> Result<bool, StoreError> {
    insert(db, token_hash, user_id, family, now_ms, expires_at).await?;
    let dead = db
        .query_opt(
            "SELECT 1 FROM refresh_tokens WHERE family_id = $1 AND revoked_at IS NOT NULL LIMIT 1",
            &[Val::from(family.id.as_str())],
        )
        .await?
        .is_some();
    if dead {
        db.execute(
            "UPDATE refresh_tokens SET revoked_at = $1 WHERE token_hash = $2 \
             AND revoked_at IS NULL",
            &[Val::Int(now_ms), Val::from(token_hash)],
        )
        .await?;
    }
    Ok(!dead)
}

/// Stores the first token of a new session (a login), then checks that
/// the account's session generation is still `generation`, the one the
/// login read and its access token names. If a password change, a role
/// change or logging out everywhere moved it meanwhile, the token is
/// revoked and `false` returned: the session must not outlive the change.
///
/// As in `insert_successor` the check is its own statement after the
/// insert committed: a change committed before it is seen here; one
/// committed after it revokes the account's tokens (`revoke_all`) or ends
/// the access tokens with a generation this token's session never had.
pub(crate) async fn insert_first(
    db: &Db,
    token_hash: &str,
    user_id: &str,
    family: &Family,
    generation: i64,
    now_ms: i64,
    expires_at: i64,
) -> Result<bool, StoreError> {
    insert(db, token_hash, user_id, family, now_ms, expires_at).await?;
    let current = db
        .query_opt(
            "SELECT session_generation FROM users WHERE id = $1",
            &[Val::from(user_id)],
        )
        .await?
        .map(|row| row.int(0))
        .transpose()?;
    if current == Some(generation) {
        return Ok(true);
    }
    db.execute(
        "UPDATE refresh_tokens SET revoked_at = $1 WHERE token_hash = $2",
        &[Val::Int(now_ms), Val::from(token_hash)],
    )
    .await?;
    Ok(false)
}

/// What is known about a token that did not rotate.
pub(crate) struct Spent {
    pub family_id: String,
    /// When it was used, if it was: presenting it again is reuse, or a
    /// duplicate of a request still in flight.
    pub rotated_at: Option<i64>,
}

/// What became of a token that did not rotate, if it exists.
pub(crate) async fn state(db: &Db, token_hash: &str) -> Result<Option<Spent>, StoreError> {
    let row = db
        .query_opt(
            "SELECT rotated_at, family_id FROM refresh_tokens WHERE token_hash = $1",
            &[Val::from(token_hash)],
        )
        .await?;
    row.map(|row| {
        Ok(Spent {
            rotated_at: row.opt_int(0)?,
            family_id: row.text(1)?,
        })
    })
    .transpose()
}

/// Ends every live token of a family (reuse of a rotated token, RFC 9700 4.14).
pub(crate) async fn revoke_family(db: &Db, family_id: &str, now_ms: i64) -> Result<(), StoreError> {
    revoke(
        db,
        "UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
        &[Val::Int(now_ms), Val::from(family_id)],
    )
    .await
}

/// Ends the session of one token, only if the token belongs to `user_id`
/// (logout): every token of its family, each row marked, so the family
/// stays dead whichever of its rows expire and are purged first.
pub(crate) async fn revoke_session(
    db: &Db,
    token_hash: &str,
    user_id: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    revoke(
        db,
        "UPDATE refresh_tokens SET revoked_at = $1 WHERE revoked_at IS NULL AND family_id = \
         (SELECT family_id FROM refresh_tokens WHERE token_hash = $2 AND user_id = $3)",
        &[Val::Int(now_ms), Val::from(token_hash), Val::from(user_id)],
    )
    .await
}

/// Ends every token of the account (logout everywhere, password change).
pub(crate) async fn revoke_all(db: &Db, user_id: &str, now_ms: i64) -> Result<(), StoreError> {
    revoke(
        db,
        "UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        &[Val::Int(now_ms), Val::from(user_id)],
    )
    .await
}

/// Runs a revocation that must also end a successor being inserted by a
/// concurrent rotation, by running the same UPDATE twice in a row.
///
/// On PostgreSQL (READ COMMITTED: each statement sees what committed before
/// it started) a successor that committed before the second UPDATE started
/// is revoked by it. One that committed later was inserted after the first
/// UPDATE had committed, and that UPDATE revoked at least one row of its
/// family (the token it rotated from, which is marked rotated, not revoked);
/// so the rotation's check in `insert_successor`, which starts only after
/// its insert committed, sees a revoked row and revokes its own successor.
/// Either way the successor dies.
///
/// On SQLite writes are serialised: the insert commits either before the
/// first UPDATE (which then revokes it) or after it (and the check sees the
/// revoked rows), so the first UPDATE alone suffices and the second changes
/// nothing.
async fn revoke(db: &Db, sql: &str, params: &[Val]) -> Result<(), StoreError> {
    db.execute(sql, params).await?;
    db.execute(sql, params).await
}

/// Drops the account's sessions whose every token has expired: past
/// expiry they can neither be used nor signal reuse, so keeping them only
/// grows the table. Never part of a family: its revoked row, expiring
/// first, is what keeps a later token of it dead.
pub(crate) async fn delete_expired(db: &Db, user_id: &str, now_ms: i64) -> Result<(), StoreError> {
    db.execute(
        "DELETE FROM refresh_tokens WHERE user_id = $1 AND family_id IN \
         (SELECT family_id FROM refresh_tokens WHERE user_id = $1 \
         GROUP BY family_id HAVING MAX(expires_at) <= $2)",
        &[Val::from(user_id), Val::Int(now_ms)],
    )
    .await
}
