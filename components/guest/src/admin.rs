//! What became of the bootstrap Admin (`admin_email`), as the reports that
//! mention it must say: configuring an email does not make its account an
//! Admin when someone registered it first (see auth's `bootstrap`).

use mhmanus_domain::auth::email::key_of;
use mhmanus_domain::auth::role::{self, Role};

use crate::db::{Db, Val};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminState {
    /// No `admin_email`: nobody is bootstrapped.
    Unset,
    /// Set, but no account has it yet (auth creates it on its first request).
    Pending,
    /// The account exists and is an Admin.
    Bootstrapped,
    /// The account existed before as someone else's, without the Admin
    /// role, and was not promoted.
    NotPromoted,
    /// Bootstrapped once, then demoted or deleted by an Admin: the
    /// bootstrap leaves it so.
    Retired,
}

impl AdminState {
    pub fn as_str(self) -> &'static str {
        match self {
            AdminState::Unset => "unset",
            AdminState::Pending => "pending",
            AdminState::Bootstrapped => "bootstrapped",
            AdminState::NotPromoted => "not-promoted",
            AdminState::Retired => "retired",
        }
    }
}

/// The state of `admin_email`'s account. A database that cannot say
/// (unreachable, not migrated yet) is `Pending`: the report that asks has
/// its own line for the database.
pub async fn state(db: Option<&Db>, admin_email: &str) -> AdminState {
    let Some(key) = key_of(admin_email) else {
        return if admin_email.trim().is_empty() {
            AdminState::Unset
        } else {
            // An address auth refuses to bootstrap (it logs why).
            AdminState::NotPromoted
        };
    };
    let Some(db) = db else {
        return AdminState::Pending;
    };
    let account = db
        .query_opt(
            "SELECT roles FROM users WHERE email_key = $1",
            &[Val::from(key.as_str())],
        )
        .await;
    // Before migration 5 there is no record: none was made.
    let recorded = db
        .query_opt(
            "SELECT 1 FROM admin_bootstrap WHERE email_key = $1",
            &[Val::from(key)],
        )
        .await
        .is_ok_and(|row| row.is_some());
    match account {
        Ok(Some(row)) => match row.text(0) {
            Ok(roles) if role::from_column(&roles).contains(&Role::Admin) => {
                AdminState::Bootstrapped
            }
            Ok(_) if recorded => AdminState::Retired,
            Ok(_) => AdminState::NotPromoted,
            Err(_) => AdminState::Pending,
        },
        Ok(None) if recorded => AdminState::Retired,
        Ok(None) | Err(_) => AdminState::Pending,
    }
}
