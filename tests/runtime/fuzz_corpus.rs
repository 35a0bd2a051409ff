//! Every committed input of the fuzz targets (`tests/fuzz/corpus/<target>`),
//! replayed through the targets' own checks (`mhmanus_fuzz_checks`) in the
//! test build: an input that once found a bug fails CI if the bug comes
//! back, without a fuzzing build. `scripts/fuzz` looks for new ones.

use std::path::PathBuf;

use mhmanus_fuzz_checks::{PARSERS, component_bodies};
use mhmanus_tests::{InProcessHost, workspace_root};

const SECRET: &str = "corpus-replay-secret-of-at-least-32-bytes";
const ADMIN_EMAIL: &str = "corpus-admin@example.com";
const ADMIN_PASSWORD: &str = "a corpus replay admin passphrase";

/// A target's committed inputs, in a stable order.
fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = workspace_root().join("tests/fuzz/corpus").join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    inputs.sort();
    assert!(inputs.len() > 10, "{} holds the corpus", dir.display());
    inputs
}

#[test]
fn every_parser_corpus_input_passes_its_fuzz_check() {
    for (target, check) in PARSERS {
        for input in corpus(target) {
            let data = std::fs::read(&input).unwrap();
            if std::panic::catch_unwind(|| check(&data)).is_err() {
                panic!("{target}: {} fails its check", input.display());
            }
        }
    }
}

#[tokio::test]
async fn no_input_of_the_component_bodies_corpus_gets_a_server_error() {
    let app = InProcessHost::start_repo(|config| {
        config.jwt_secret = Some(SECRET.into());
        config.admin_email = Some(ADMIN_EMAIL.into());
        config.admin_password = Some(ADMIN_PASSWORD.into());
    })
    .await
    .unwrap();
    let login = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let bearer = format!("Bearer {}", login["access_token"].as_str().unwrap());
    for input in corpus("component_bodies") {
        let data = std::fs::read(&input).unwrap();
        let Some((method, path, body)) = component_bodies::request(&data) else {
            continue;
        };
        let headers = [
            ("content-type", "application/json"),
            ("authorization", bearer.as_str()),
        ];
        let reply = app.call(method, path, &headers, body.to_vec()).await;
        let name = input.file_name().unwrap().to_string_lossy();
        assert!(reply.status.as_u16() < 500, "{name}: {}", reply.text());
        component_bodies::check_answer(
            method,
            path,
            body,
            reply.status.as_u16(),
            reply.content_type(),
        );
    }
}
