//! Checking an account's password, for login and for a password change
//! alike: the per-account slow-down, the verification, and counting the
//! outcome.
//!
//! Below `throttle::FREE_FAILURES` consecutive failures attempts are
//! verified concurrently (parallel logins of one account keep working) and a
//! failure is counted afterwards, in one statement. From there on the
//! account is throttled: each window allows one attempt, claimed with a
//! compare-and-set before the password is verified, so concurrent guesses
//! cannot all be checked in one window. The claim counts the attempt as a
//! failure in advance; a success resets the count.
//!
//! Known limit: attempts below the threshold are not serialised. A burst of
//! concurrent guesses at an account with fewer than `FREE_FAILURES` failures
//! is verified in full before any of it is counted; such a burst is bounded
//! by the host's rate limiter, not here.
//!
//! Every refusal costs one argon2 verification (a dummy one when the real
//! one is skipped), so the timing does not tell a slowed-down account from a
//! wrong password. No database connection is held while argon2 runs.

use mhmanus_domain::auth::password::{self, Verdict};
use mhmanus_domain::auth::throttle;

use super::Ctx;
use crate::store::StoreError;
use crate::store::users::{self, User};

/// The outcome of a password check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The right password, and it counted; `rehash` when the stored hash
    /// should be upgraded (see `password::verify`).
    Verified { rehash: bool },
    /// Wrong, or not counted (inside the slow-down delay, or another attempt
    /// took this window): the caller cannot tell which, and must not.
    Refused,
}

/// Checks `password` for `user`, as read at `now_ms`, and records the
/// outcome. Releases the request's connection before verifying.
pub async fn check(
    ctx: &mut Ctx<'_>,
    user: &User,
    password: &str,
    now_ms: i64,
) -> Result<Check, StoreError> {
    // Inside the slow-down delay not even the right password counts, and
    // the attempt does not extend the delay.
    if now_ms < user.next_login_at {
        return Ok(refuse(ctx, password));
    }
    let throttled = throttle::is_throttled(user.failed_logins);
    let next_login_at = throttle::next_attempt_at(now_ms, user.failed_logins.saturating_add(1));
    if throttled && !users::claim_attempt(ctx.db().await?, user, now_ms, next_login_at).await? {
        return Ok(refuse(ctx, password));
    }
    ctx.release_db();
    match password::verify(password, &user.password_hash) {
        Verdict::Match { rehash } => {
            if user.failed_logins != 0 || user.next_login_at != 0 {
                users::reset_failures(ctx.db().await?, &user.id).await?;
            }
            Ok(Check::Verified { rehash })
        }
        Verdict::Mismatch => {
            // A throttled attempt was counted when it was claimed.
            if !throttled {
                users::record_failure(ctx.db().await?, &user.id, next_login_at).await?;
            }
            Ok(Check::Refused)
        }
    }
}

/// A refusal that costs what a verification costs, without a connection
/// held meanwhile. Also used for unknown accounts.
pub fn refuse(ctx: &mut Ctx<'_>, password: &str) -> Check {
    ctx.release_db();
    password::verify_dummy(password);
    Check::Refused
}
