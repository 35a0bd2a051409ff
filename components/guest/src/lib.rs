//! What the components share inside Wasm (spin-sdk 7, so under Spin and
//! under the native host alike): JSON and problem+json answers, the
//! bearer-token door, Spin variables read with manifest defaults, and SQL
//! over `spin:sqlite` or `spin:postgres`.

pub mod auth_guard;
pub mod db;
pub mod response;
pub mod variables;
