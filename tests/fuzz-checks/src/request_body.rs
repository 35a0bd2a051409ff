//! A request body as the auth routes read it: JSON, then each route's
//! fields through the domain's constructors (register, login, profile,
//! roles, refresh and logout). Nothing panics, and whatever a constructor
//! accepts it accepts again, unchanged, from its own output.

use mhmanus_domain::auth::email::{Email, key_of};
use mhmanus_domain::auth::name::DisplayName;
use mhmanus_domain::auth::policy::NewPassword;
use mhmanus_domain::auth::refresh;
use mhmanus_domain::auth::role::{self, Role};
use serde_json::Value;

pub fn check(body: &[u8]) {
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let text = |name: &str| object.get(name).and_then(Value::as_str);

    if let Some(raw) = text("email") {
        let login_key = key_of(raw);
        if let Ok(email) = Email::parse(raw) {
            let again = Email::parse(email.as_str()).expect("an accepted email parses again");
            assert_eq!(again.as_str(), email.as_str());
            assert_eq!(key_of(email.as_str()).as_deref(), Some(email.key()));
            assert_eq!(
                login_key.as_deref(),
                Some(email.key()),
                "login finds what registration stored"
            );
            for field in ["password", "newPassword"] {
                if let Some(password) = text(field)
                    && let Ok(accepted) = NewPassword::parse(password, &email, field)
                {
                    assert_eq!(accepted.as_str(), password, "passwords are never altered");
                }
            }
        }
    }
    if let Some(raw) = text("name")
        && let Ok(name) = DisplayName::parse(raw)
    {
        let again = DisplayName::parse(name.as_str()).expect("an accepted name parses again");
        assert_eq!(again.as_str(), name.as_str());
    }
    if let Some(Value::Array(names)) = object.get("roles") {
        let roles: Vec<Role> = names
            .iter()
            .filter_map(|name| Role::parse(name.as_str()?))
            .collect();
        let column = role::to_column(&roles);
        let back = role::from_column(&column);
        assert_eq!(
            role::to_column(&back),
            column,
            "the stored column round-trips"
        );
        assert!(roles.iter().all(|r| back.contains(r)));
    }
    if let Some(token) = text("refresh_token") {
        let hashed = refresh::hash(token);
        assert_eq!(hashed.len(), 64);
        assert!(hashed.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
