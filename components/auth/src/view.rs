//! What clients see of an account: never the hash or the login counters.

use serde_json::{Value, json};

use crate::clock;
use crate::store::users::User;

/// `{id, email, name, roles, createdAt, updatedAt}`; roles in canonical
/// order (Admin, User, Developer), times RFC 3339 UTC with milliseconds.
pub fn user(user: &User) -> Value {
    let roles: Vec<&str> = user.roles().into_iter().map(|role| role.as_str()).collect();
    json!({
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "roles": roles,
        "createdAt": clock::rfc3339(user.created_at),
        "updatedAt": clock::rfc3339(user.updated_at),
    })
}
