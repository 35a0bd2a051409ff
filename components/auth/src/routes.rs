//! Method and path to action. `/v1/...` is canonical; the same paths without
//! the version serve the original system's clients (spin.toml routes both
//! here).

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    Register,
    Login,
    Refresh,
    Logout,
    ReadProfile,
    UpdateProfile,
    ListUsers,
    SetRoles { user_id: String },
    EndSessions { user_id: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolved {
    Found(Action),
    /// The path exists; `allow` lists its methods (the `Allow` header).
    WrongMethod {
        allow: &'static str,
    },
    NotFound,
}

pub(crate) fn resolve(method: &str, path: &str) -> Resolved {
    let path = unversioned(path);
    // HEAD is GET without the body (the runtime drops it), as RFC 9110 asks.
    let method = if method == "HEAD" { "GET" } else { method };
    let segments: Vec<&str> = match path.strip_prefix('/') {
        Some(rest) => rest.split('/').collect(),
        None => return Resolved::NotFound,
    };
    let (allow, action) = match segments.as_slice() {
        ["auth", "register"] => ("POST", (method == "POST").then_some(Action::Register)),
        ["auth", "login"] => ("POST", (method == "POST").then_some(Action::Login)),
        ["auth", "refresh"] => ("POST", (method == "POST").then_some(Action::Refresh)),
        ["auth", "logout"] => ("POST", (method == "POST").then_some(Action::Logout)),
        ["auth", "profile"] => (
            "GET, HEAD, PATCH",
            match method {
                "GET" => Some(Action::ReadProfile),
                "PATCH" => Some(Action::UpdateProfile),
                _ => None,
            },
        ),
        ["users"] => ("GET, HEAD", (method == "GET").then_some(Action::ListUsers)),
        ["users", id, "roles"] if !id.is_empty() => (
            "PUT",
            (method == "PUT").then(|| Action::SetRoles {
                user_id: (*id).to_owned(),
            }),
        ),
        ["users", id, "sessions"] if !id.is_empty() => (
            "DELETE",
            (method == "DELETE").then(|| Action::EndSessions {
                user_id: (*id).to_owned(),
            }),
        ),
        _ => return Resolved::NotFound,
    };
    match action {
        Some(action) => Resolved::Found(action),
        None => Resolved::WrongMethod { allow },
    }
}

/// Strips a leading `/v1` segment (not `/v10` or `/v1x`).
fn unversioned(path: &str) -> &str {
    match path.strip_prefix("/v1") {
        Some(rest) if rest.starts_with('/') => rest,
        _ => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versioned_and_unversioned_paths_match() {
        for prefix in ["", "/v1"] {
            assert_eq!(
                resolve("POST", &format!("{prefix}/auth/login")),
                Resolved::Found(Action::Login)
            );
            assert_eq!(
                resolve("PATCH", &format!("{prefix}/auth/profile")),
                Resolved::Found(Action::UpdateProfile)
            );
            assert_eq!(
                resolve("PUT", &format!("{prefix}/users/abc/roles")),
                Resolved::Found(Action::SetRoles {
                    user_id: "abc".into()
                })
            );
            assert_eq!(
                resolve("DELETE", &format!("{prefix}/users/abc/sessions")),
                Resolved::Found(Action::EndSessions {
                    user_id: "abc".into()
                })
            );
        }
    }

    #[test]
    fn wrong_methods_and_unknown_paths() {
        assert_eq!(
            resolve("GET", "/v1/auth/login"),
            Resolved::WrongMethod { allow: "POST" }
        );
        assert_eq!(
            resolve("DELETE", "/auth/profile"),
            Resolved::WrongMethod {
                allow: "GET, HEAD, PATCH"
            }
        );
        assert_eq!(
            resolve("POST", "/v1/users/abc/sessions"),
            Resolved::WrongMethod { allow: "DELETE" }
        );
        for path in [
            "/v1/auth/nope",
            "/v1",
            "/v10/auth/login",
            "/auth/login/",
            "/users//roles",
            "/users/a/b/roles",
            "/users//sessions",
            "",
        ] {
            assert_eq!(resolve("POST", path), Resolved::NotFound, "{path}");
        }
    }
}
