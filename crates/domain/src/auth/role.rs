//! Roles: Admin, User, Developer. Registration gives User; only an Admin
//! changes roles.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    Admin,
    User,
    Developer,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::User, Role::Developer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::User => "User",
            Role::Developer => "Developer",
        }
    }

    /// Exact names only (`Admin`, `User`, `Developer`).
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == name)
    }
}

/// Roles as one database column: sorted, deduplicated, comma-separated.
///
/// A canonical form means equal role sets store equal strings.
pub fn to_column(roles: &[Role]) -> String {
    let mut roles = roles.to_vec();
    roles.sort_unstable();
    roles.dedup();
    roles
        .iter()
        .map(|role| role.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// The column back; unknown names are dropped.
///
/// Dropping rather than failing keeps an account usable if a role is ever
/// retired; repeats are dropped too so a hand-edited row cannot double up.
pub fn from_column(column: &str) -> Vec<Role> {
    let mut roles = Vec::new();
    for role in column
        .split(',')
        .filter_map(|name| Role::parse(name.trim()))
    {
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    roles
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_is_sorted_and_deduplicated() {
        assert_eq!(to_column(&[]), "");
        assert_eq!(to_column(&[Role::User]), "User");
        assert_eq!(
            to_column(&[Role::Developer, Role::User, Role::Admin, Role::User]),
            "Admin,User,Developer"
        );
    }

    #[test]
    fn column_round_trips() {
        for roles in [
            vec![],
            vec![Role::Admin],
            Role::ALL.to_vec(),
            vec![Role::User, Role::Developer],
        ] {
            assert_eq!(from_column(&to_column(&roles)), roles);
        }
    }

    #[test]
    fn from_column_is_lenient() {
        assert_eq!(from_column(""), vec![]);
        assert_eq!(
            from_column(" User , ,Root,admin,Developer,User,"),
            vec![Role::User, Role::Developer]
        );
    }

    #[test]
    fn serde_uses_variant_names() {
        assert_eq!(serde_json::to_string(&Role::Admin).unwrap(), "\"Admin\"");
        assert_eq!(
            serde_json::from_str::<Role>("\"Developer\"").unwrap(),
            Role::Developer
        );
        assert!(serde_json::from_str::<Role>("\"admin\"").is_err());
        assert_eq!(Role::parse("User"), Some(Role::User));
        assert_eq!(Role::parse("user"), None);
    }
}
