//! The committed corpus of the `component_bodies` fuzz target, replayed as
//! a plain test: that target drives the components, so libFuzzer would need
//! an instrumented wasmtime of its own, and CI runs libFuzzer on the parsers
//! only (`scripts/fuzz` runs all six). Each input goes through the real auth
//! component with the target's checks: never a 5xx, and a 4xx is a problem.

use mhmanus_tests::{TestRuntime, workspace_root};

const SECRET: &str = "corpus-replay-secret-of-at-least-32-bytes";
const ADMIN_EMAIL: &str = "corpus-admin@example.com";
const ADMIN_PASSWORD: &str = "a corpus replay admin passphrase";

/// As `tests/fuzz/fuzz_targets/component_bodies.rs` reads an input: the
/// first byte picks the route, the rest is the body.
const ROUTES: [(&str, &str); 6] = [
    ("POST", "/v1/auth/register"),
    ("POST", "/v1/auth/login"),
    ("POST", "/v1/auth/refresh"),
    ("POST", "/v1/auth/logout"),
    ("PATCH", "/v1/auth/profile"),
    ("PUT", "/v1/users/fuzz-user/roles"),
];

#[tokio::test]
async fn no_input_of_the_component_bodies_corpus_gets_a_server_error() {
    let app = TestRuntime::start_repo(|config| {
        config.jwt_secret = Some(SECRET.into());
        config.admin_email = Some(ADMIN_EMAIL.into());
        config.admin_password = Some(ADMIN_PASSWORD.into());
    })
    .await
    .unwrap();
    let login = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let bearer = format!("Bearer {}", login["access_token"].as_str().unwrap());
    let corpus = workspace_root().join("tests/fuzz/corpus/component_bodies");
    let mut inputs: Vec<_> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    inputs.sort();
    assert!(inputs.len() > 10, "{} holds the corpus", corpus.display());
    for input in inputs {
        let data = std::fs::read(&input).unwrap();
        let Some((&pick, body)) = data.split_first() else {
            continue;
        };
        let (method, path) = ROUTES[usize::from(pick) % ROUTES.len()];
        let headers = [
            ("content-type", "application/json"),
            ("authorization", bearer.as_str()),
        ];
        let reply = app.call(method, path, &headers, body.to_vec()).await;
        let name = input.file_name().unwrap().to_string_lossy();
        assert!(
            reply.status < 500,
            "{name}: {method} {path} answered {}: {}",
            reply.status,
            reply.body
        );
        if reply.status >= 400 {
            assert_eq!(
                reply.content_type(),
                "application/problem+json",
                "{name}: {method} {path} {}",
                reply.status
            );
        }
    }
}
