//! What the components share inside Wasm (spin-sdk 7, so under Spin and
//! under the native host alike): JSON and problem+json answers, the
//! bearer-token door, Spin variables read with manifest defaults, SQL over
//! `spin:sqlite` or `spin:postgres`, and the accounts schema both stand on.

pub mod admin;
pub mod auth_guard;
pub mod db;
pub mod response;
pub mod schema;
pub mod variables;
