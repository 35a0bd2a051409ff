//! Accounts and tokens: the rules shared by the auth and production-test
//! components and the host (which verifies bearer tokens for its rate limiter).

pub mod email;
pub mod jwt;
pub mod name;
pub mod password;
pub mod policy;
pub mod refresh;
pub mod role;
pub mod throttle;
