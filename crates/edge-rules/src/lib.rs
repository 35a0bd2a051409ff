//! The edge's rules, one implementation for two runtimes: the native host's
//! axum layers (`mhmanus-edge-layers`) and the edge middleware component Spin
//! composes in front of the components (`components/edge-middleware`).
//! Plain values and arithmetic only, so it builds for wasm32 too.

pub mod attestation;
pub mod compression;
pub mod cors;
pub mod forwarding;
pub mod rate_limit;
pub mod request_id;
pub mod security_headers;
pub mod versions;
