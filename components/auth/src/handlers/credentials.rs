//! Checking an account's password, for login and for a password change
//! alike: the per-account slow-down, the verification, and counting the
//! outcome.
//!
//! Every attempt is claimed before its password is verified, in one
//! statement that counts it as a failure in advance (a success resets the
//! count): so concurrent guesses are counted as they arrive, not once they
//! have all been checked. The first `throttle::FREE_FAILURES` are verified;
//! from there on each window allows one attempt, the one whose claim
//! started the window. Thirty parallel guesses at a fresh account get six
//! verifications, not thirty.
//!
//! Trade-off: the account's own parallel logins count the same way, so
//! more than `FREE_FAILURES` at once are refused beyond those (until one
//! succeeds and resets the count). People do not log in six times at once.
//!
//! Every refusal costs one argon2 verification (a dummy one when the real
//! one is skipped), so the timing does not tell a slowed-down account from a
//! wrong password. No database connection is held while argon2 runs.

use mhmanus_domain::auth::password::{self, Verdict};
use mhmanus_domain::auth::throttle;

use super::Ctx;
use crate::clock;
use crate::store::StoreError;
use crate::store::users::{self, User};

/// The outcome of a password check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Check {
    /// The right password, and it counted; `rehash` when the stored hash
    /// should be upgraded (see `password::verify`).
    Verified { rehash: bool },
    /// Wrong, or not counted (inside the slow-down delay, or another attempt
    /// took this window): the caller cannot tell which, and must not.
    Refused,
}

/// Checks `password` for `user` at `now_ms`, and records the outcome.
/// Releases the request's connection before verifying.
pub(super) async fn check(
    ctx: &mut Ctx<'_>,
    user: &User,
    password: &str,
    now_ms: i64,
) -> Result<Check, StoreError> {
    // Inside the slow-down delay not even the right password counts, and
    // the attempt does not extend the delay. Past the free attempts the
    // claim holds the account while this attempt is verified; its outcome
    // then replaces the hold.
    let hold_until = now_ms.saturating_add(throttle::HOLD_MS);
    let claim = users::claim_check(ctx.db().await?, &user.id, now_ms, hold_until).await?;
    let Some(failures) = claim else {
        return Ok(refuse(ctx, password));
    };
    ctx.release_db();
    match password::verify(password, &user.password_hash) {
        Verdict::Match { rehash } => {
            users::reset_failures(ctx.db().await?, &user.id).await?;
            Ok(Check::Verified { rehash })
        }
        Verdict::Mismatch => {
            // `failures` counted this attempt: the delay it starts, in
            // place of its hold if it set one. The delay runs from now, the
            // failure's time: `now_ms` is the request's start, which waiting
            // for the database and argon2 may have left well behind.
            let next_login_at = throttle::next_attempt_at(clock::now_ms(), failures);
            let held = failures > i64::from(throttle::FREE_FAILURES);
            let hold = held.then_some(hold_until);
            if next_login_at != 0 {
                users::delay_next(ctx.db().await?, &user.id, next_login_at, hold).await?;
            }
            Ok(Check::Refused)
        }
    }
}

/// A refusal that costs what a verification costs, without a connection
/// held meanwhile. Also used for unknown accounts.
pub(super) fn refuse(ctx: &mut Ctx<'_>, password: &str) -> Check {
    ctx.release_db();
    password::verify_dummy(password);
    Check::Refused
}
