//! The `admin_bootstrap` table: which `admin_email` addresses the bootstrap
//! has served, so it serves each once (see `bootstrap`).

use super::{Db, StoreError, Val};

/// Whether the bootstrap has been done for `email_key`.
pub(crate) async fn is_done(db: &Db, email_key: &str) -> Result<bool, StoreError> {
    let row = db
        .query_opt(
            "SELECT 1 FROM admin_bootstrap WHERE email_key = $1",
            &[Val::from(email_key)],
        )
        .await?;
    Ok(row.is_some())
}

/// Records that it was; a record another instance made first stands.
pub(crate) async fn record(db: &Db, email_key: &str, now_ms: i64) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO admin_bootstrap (email_key, done_at) VALUES ($1, $2) \
         ON CONFLICT (email_key) DO NOTHING",
        &[Val::from(email_key), Val::Int(now_ms)],
    )
    .await
}
