//! What clients see of an account: never the hash or the login counters.

use serde_json::{Value, json};

use mhmanus_domain::auth::role::Role;
use mhmanus_guest::auth_guard::{Account, Caller};

use crate::clock;
use crate::store::users::User;

/// `{id, email, name, roles, createdAt, updatedAt}`; roles in canonical
/// order (Admin, User, Developer), times RFC 3339 UTC with milliseconds.
pub(crate) fn user(user: &User) -> Value {
    let account = Account {
        email: user.email.clone(),
        name: user.name.clone(),
        created_at: user.created_at,
        updated_at: user.updated_at,
    };
    view(&user.id, &account, &user.roles())
}

/// The same, of the caller, from what the door read.
pub(crate) fn caller(caller: &Caller) -> Value {
    view(caller.id(), caller.account(), caller.roles())
}

fn view(id: &str, account: &Account, roles: &[Role]) -> Value {
    let roles: Vec<&str> = roles.iter().map(|role| role.as_str()).collect();
    json!({
        "id": id,
        "email": account.email,
        "name": account.name,
        "roles": roles,
        "createdAt": clock::rfc3339(account.created_at),
        "updatedAt": clock::rfc3339(account.updated_at),
    })
}
