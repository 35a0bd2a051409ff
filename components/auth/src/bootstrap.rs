//! The bootstrap Admin: when `admin_email` and `admin_password` are set,
//! that account is made an Admin, once.
//!
//! Once: the first instance to serve an address records it
//! (`admin_bootstrap`), and later ones leave the account alone. An Admin
//! who demotes or deletes it is obeyed, and changing `admin_password`
//! later promotes nobody. To bootstrap again, name another address.
//!
//! Safe to race: the account is created with `INSERT ... ON CONFLICT DO
//! NOTHING`, an existing account's password is never overwritten, and the
//! Admin role is added only if missing, with a compare-and-set.
//!
//! An existing account without the Admin role is promoted only if
//! `admin_password` is its password (otherwise whoever registered that
//! email first, as anyone may, would become Admin by it being named in the
//! configuration), and only while no other account is an Admin (one
//! demoted by an Admin before this rule, and before the record, stays so).

use mhmanus_domain::auth::email::Email;
use mhmanus_domain::auth::password::{self, Verdict};
use mhmanus_domain::auth::policy::NewPassword;
use mhmanus_domain::auth::role::{self, Role};

use crate::settings::Settings;
use crate::store::admin_bootstrap;
use crate::store::users::{self, NewUser};
use crate::store::{Db, StoreError};

const ADMIN_NAME: &str = "Administrator";

pub(crate) async fn ensure_admin(
    db: &Db,
    settings: &Settings,
    now_ms: i64,
) -> Result<(), StoreError> {
    if settings.admin_email.is_empty() || settings.admin_password.is_empty() {
        return Ok(());
    }
    let email = match Email::parse(&settings.admin_email) {
        Ok(email) => email,
        Err(e) => {
            eprintln!("auth: admin_email {}; no Admin is bootstrapped", e.message);
            return Ok(());
        }
    };
    if admin_bootstrap::is_done(db, email.key()).await? {
        return Ok(());
    }
    let user = match users::by_email_key(db, email.key()).await? {
        Some(user) => user,
        None => {
            if let Err(e) = NewPassword::parse(&settings.admin_password, &email, "admin_password") {
                // Refusing would leave the service without an Admin; say it loudly.
                eprintln!(
                    "auth: warning: admin_password {}; change it after signing in",
                    e.message
                );
            }
            let id = uuid::Uuid::new_v4().to_string();
            let hash = password::hash(&settings.admin_password);
            users::insert(
                db,
                NewUser {
                    id: &id,
                    email: email.as_str(),
                    email_key: email.key(),
                    name: ADMIN_NAME,
                    password_hash: &hash,
                    roles_column: &role::to_column(&[Role::Admin, Role::User]),
                    now_ms,
                },
            )
            .await?;
            // Ours, or another instance's that won the race.
            match users::by_email_key(db, email.key()).await? {
                Some(user) => user,
                None => return Err(StoreError::new("the bootstrap Admin vanished")),
            }
        }
    };
    let mut roles = user.roles();
    if roles.contains(&Role::Admin) {
        return admin_bootstrap::record(db, email.key(), now_ms).await;
    }
    if !matches!(
        password::verify(&settings.admin_password, &user.password_hash),
        Verdict::Match { .. }
    ) {
        eprintln!(
            "auth: warning: the account for admin_email exists and its password does not match \
             admin_password; not promoting it"
        );
        return Ok(());
    }
    if users::any_admin(db).await? {
        eprintln!(
            "auth: the account for admin_email is not an Admin and another account is; \
             an Admin decided, so the bootstrap leaves it as it is"
        );
        return admin_bootstrap::record(db, email.key(), now_ms).await;
    }
    roles.push(Role::Admin);
    let column = role::to_column(&roles);
    if users::replace_roles(db, &user.id, &user.roles_column, &column, now_ms).await? {
        eprintln!("auth: gave the Admin role to the bootstrap account");
    } else {
        // Another instance, or an Admin, changed the roles since we read
        // them; theirs stand.
        eprintln!("auth: the bootstrap account's roles changed meanwhile; left them as they are");
    }
    admin_bootstrap::record(db, email.key(), now_ms).await
}
