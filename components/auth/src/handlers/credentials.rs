//! Checking a password, for login and for a password change alike: the
//! slow-down per email address, the verification, and counting the outcome.
//!
//! Every attempt is claimed before its password is verified, in one
//! statement that counts it as a failure in advance (a success clears the
//! count): so concurrent guesses are counted as they arrive, not once they
//! have all been checked. The first `throttle::FREE_FAILURES` are verified;
//! from there on each window allows one attempt, the one whose claim
//! started the window. Thirty parallel guesses at a fresh address get six
//! verifications, not thirty.
//!
//! An attempt refused by its claim is not a wrong password, and is not
//! answered as one: it is `Throttled`, with how long to wait, so a client
//! that logs in many times at once with the right password retries rather
//! than believes it wrong. Claims are keyed by the normalised email,
//! account or not, so being throttled says nothing about which exist; and
//! known and unknown addresses run the same statements and one argon2
//! verification each (a dummy one without an account). No database
//! connection is held while argon2 runs.

use http::header::RETRY_AFTER;
use mhmanus_domain::auth::password::{self, Verdict};
use mhmanus_domain::auth::throttle;
use mhmanus_domain::problem::Problem;

use super::Ctx;
use crate::clock;
use crate::response::{Response, problem, with_header};
use crate::store::StoreError;
use crate::store::attempts;
use crate::store::users::User;

/// The outcome of a password check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Check {
    /// The right password, and it counted; `rehash` when the stored hash
    /// should be upgraded (see `password::verify`).
    Verified { rehash: bool },
    /// A wrong password, or no such account: the caller cannot tell which,
    /// and must not.
    Wrong,
    /// Not checked: the address is inside its slow-down delay, or another
    /// attempt holds it. The same for every address, account or not.
    Throttled { retry_after_secs: i64 },
}

/// Checks `password` for the address `email_key` and its account `user`
/// (if any) at `now_ms`, and records the outcome. Releases the request's
/// connection before verifying.
pub(super) async fn check(
    ctx: &mut Ctx<'_>,
    email_key: &str,
    user: Option<&User>,
    password: &str,
    now_ms: i64,
) -> Result<Check, StoreError> {
    // Inside the slow-down delay not even the right password counts, and
    // the attempt does not extend the delay. Past the free attempts the
    // claim holds the address while this attempt is verified; its outcome
    // then replaces the hold.
    let hold_until = now_ms.saturating_add(throttle::HOLD_MS);
    let claim = attempts::claim(ctx.db().await?, email_key, now_ms, hold_until).await?;
    let Some(failures) = claim else {
        let wait = attempts::wait_ms(ctx.db().await?, email_key, clock::now_ms()).await?;
        return Ok(Check::Throttled {
            retry_after_secs: throttle::retry_after_secs(wait),
        });
    };
    ctx.release_db();
    let verdict = match user {
        Some(user) => password::verify(password, &user.password_hash),
        None => {
            password::verify_dummy(password);
            Verdict::Mismatch
        }
    };
    match verdict {
        Verdict::Match { rehash } => {
            attempts::clear(ctx.db().await?, email_key, now_ms).await?;
            Ok(Check::Verified { rehash })
        }
        Verdict::Mismatch => {
            // `failures` counted this attempt: the delay it starts, in
            // place of its hold if it set one. The delay runs from now, the
            // failure's time: `now_ms` is the request's start, which waiting
            // for the database and argon2 may have left well behind.
            let next_attempt_at = throttle::next_attempt_at(clock::now_ms(), failures);
            let held = failures > i64::from(throttle::FREE_FAILURES);
            let hold = held.then_some(hold_until);
            if next_attempt_at != 0 {
                attempts::delay_next(ctx.db().await?, email_key, next_attempt_at, hold).await?;
            }
            Ok(Check::Wrong)
        }
    }
}

/// A refusal that costs what a verification costs, without a connection
/// held meanwhile: for an email that is no address at all.
pub(super) fn refuse(ctx: &mut Ctx<'_>, password: &str) -> Check {
    ctx.release_db();
    password::verify_dummy(password);
    Check::Wrong
}

/// The answer to a `Throttled` check: 429 with `Retry-After`, the same for
/// every address.
pub(super) fn throttled(path: &str, retry_after_secs: i64) -> Response {
    let answer = problem(
        Problem::new(429)
            .detail("too many attempts for this email address; retry after Retry-After seconds")
            .instance(path),
    );
    with_header(answer, RETRY_AFTER, &retry_after_secs.to_string())
}
