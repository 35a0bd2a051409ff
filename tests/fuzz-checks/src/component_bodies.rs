//! Request bodies of every auth route, sent to the real auth component:
//! the first byte of an input picks the route, the rest is the body.
//! Whatever arrives, the answer is a success or a 4xx problem+json, never
//! a 5xx. The sending is the caller's (the fuzz target drives the host's
//! runtime in process; the corpus replay, the test suite's).

/// The routes an input's first byte picks from, with their methods.
const ROUTES: [(&str, &str); 6] = [
    ("POST", "/v1/auth/register"),
    ("POST", "/v1/auth/login"),
    ("POST", "/v1/auth/refresh"),
    ("POST", "/v1/auth/logout"),
    ("PATCH", "/v1/auth/profile"),
    ("PUT", "/v1/users/fuzz-user/roles"),
];

/// An input as a request: method, path and body (none for an empty input).
pub fn request(data: &[u8]) -> Option<(&'static str, &'static str, &[u8])> {
    let (&pick, body) = data.split_first()?;
    let (method, path) = ROUTES[usize::from(pick) % ROUTES.len()];
    Some((method, path, body))
}

/// What the component answered to `body`, checked.
pub fn check_answer(method: &str, path: &str, body: &[u8], status: u16, content_type: &str) {
    assert!(
        status < 500,
        "{method} {path} answered {status} to {body:?}"
    );
    if status >= 400 {
        assert_eq!(
            content_type, "application/problem+json",
            "{method} {path}: {status}"
        );
    }
}
