//! The local servers the live tests use (`.ci/run` starts them): PostgreSQL
//! as user `postgres` with trust authentication, and Redis. Every crate's
//! tests take the addresses from here, so moving the servers is one edit.

macro_rules! postgres_address {
    () => {
        "127.0.0.1:5432"
    };
}

/// `HOST:PORT` of the local PostgreSQL.
pub const POSTGRES_ADDRESS: &str = postgres_address!();
/// The local PostgreSQL's `postgres` database as its superuser.
pub const POSTGRES_URL: &str = concat!("postgres://postgres@", postgres_address!(), "/postgres");
/// The same, in libpq's key=value form.
pub const POSTGRES_KEY_VALUE: &str = "host=127.0.0.1 port=5432 user=postgres dbname=postgres";
pub const REDIS_URL: &str = "redis://127.0.0.1:6379";
/// A port nothing listens on, for dependencies that are down.
pub const CLOSED_REDIS_URL: &str = "redis://127.0.0.1:1";
