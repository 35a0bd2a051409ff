//! What each fuzz target asserts about one input, in one place: libFuzzer
//! runs them from `tests/fuzz` (`scripts/fuzz`), and the test suite replays
//! every committed input through them (`tests/runtime/fuzz_corpus.rs`), so
//! a regression the corpus knows fails CI without a fuzzing build. A check
//! panics on what must not happen.

pub mod accept_encoding;
pub mod access_token;
pub mod component_bodies;
pub mod forwarded_for;
pub mod request_body;
pub mod route_matcher;

/// A target's check of one input.
pub type Check = fn(&[u8]);

/// The targets that need no components, each with its check.
pub const PARSERS: [(&str, Check); 5] = [
    ("accept_encoding", accept_encoding::check),
    ("access_token", access_token::check),
    ("forwarded_for", forwarded_for::check),
    ("request_body", request_body::check),
    ("route_matcher", route_matcher::check),
];
