//! The `login_attempts` table: the per-address slow-down of password
//! checks (`throttle`), keyed by the normalised email whether or not an
//! account has it, so what it answers says nothing about which exist.

use mhmanus_domain::auth::throttle;

use super::{Db, StoreError, Val};

/// A row with no attempt for this long is forgotten: well past the longest
/// delay, so only a quiet address loses its count.
const FORGET_AFTER_MS: i64 = 24 * 60 * 60 * 1_000;

/// Claims a password check for `email_key`, before the password is
/// verified: counts it as a failure in advance and returns the count with
/// it, unless the address is inside its slow-down delay or another check
/// holds it (`None`: the attempt does not count and must not be verified).
/// An attempt past the free ones holds the address until `hold_until`, so
/// it is its window's one attempt. One statement, so every concurrent
/// attempt gets its own count and at most one of them a window.
pub(crate) async fn claim(
    db: &Db,
    email_key: &str,
    now_ms: i64,
    hold_until: i64,
) -> Result<Option<i64>, StoreError> {
    let row = db
        .query_opt(
            "INSERT INTO login_attempts \
             (email_key, failures, next_attempt_at, held_until, last_attempt_at) \
             VALUES ($1, 1, 0, 0, $2) \
             ON CONFLICT (email_key) DO UPDATE SET \
             failures = login_attempts.failures + 1, \
             held_until = CASE WHEN login_attempts.failures >= $3 THEN $4 \
             ELSE login_attempts.held_until END, \
             last_attempt_at = $2 \
             WHERE login_attempts.next_attempt_at <= $2 AND login_attempts.held_until <= $2 \
             RETURNING failures",
            &[
                Val::from(email_key),
                Val::Int(now_ms),
                Val::Int(i64::from(throttle::FREE_FAILURES)),
                Val::Int(hold_until),
            ],
        )
        .await?;
    row.map(|row| row.int(0)).transpose()
}

/// How long a refused claim must wait, in milliseconds: to the end of the
/// delay, or (while another check holds the address) a moment, as that
/// check ends the hold once its password is verified.
pub(crate) async fn wait_ms(db: &Db, email_key: &str, now_ms: i64) -> Result<i64, StoreError> {
    let row = db
        .query_opt(
            "SELECT next_attempt_at, held_until FROM login_attempts WHERE email_key = $1",
            &[Val::from(email_key)],
        )
        .await?;
    let Some(row) = row else {
        return Ok(0);
    };
    let (next_attempt_at, held_until) = (row.int(0)?, row.int(1)?);
    Ok(throttle::wait_ms(now_ms, next_attempt_at, held_until))
}

/// Delays the next attempt until `next_attempt_at` and lifts the attempt's
/// own `hold` (see `claim`) if it is still there; never shortens a delay a
/// concurrent failure set (`GREATEST`/`MAX` differ between the two
/// dialects, `CASE` is the same in both).
pub(crate) async fn delay_next(
    db: &Db,
    email_key: &str,
    next_attempt_at: i64,
    hold: Option<i64>,
) -> Result<(), StoreError> {
    // Stored values are never negative: -1 matches no hold.
    let hold = hold.unwrap_or(-1);
    db.execute(
        "UPDATE login_attempts SET \
         next_attempt_at = CASE WHEN next_attempt_at > $1 THEN next_attempt_at ELSE $1 END, \
         held_until = CASE WHEN held_until = $3 THEN 0 ELSE held_until END \
         WHERE email_key = $2",
        &[
            Val::Int(next_attempt_at),
            Val::from(email_key),
            Val::Int(hold),
        ],
    )
    .await
}

/// A successful check clears the address's slow-down, and forgets the
/// addresses quiet for a day (unknown ones included, which nothing else
/// removes).
pub(crate) async fn clear(db: &Db, email_key: &str, now_ms: i64) -> Result<(), StoreError> {
    db.execute(
        "DELETE FROM login_attempts WHERE email_key = $1 OR last_attempt_at < $2",
        &[
            Val::from(email_key),
            Val::Int(now_ms.saturating_sub(FORGET_AFTER_MS)),
        ],
    )
    .await
}
