//! Accounts and refresh tokens over the shared SQL layer (`mhmanus_guest::db`).
//!
//! Statements run one at a time, each in its own implicit transaction (only
//! migrations open one). Where requests race, one statement decides the
//! winner: `INSERT ... ON CONFLICT DO NOTHING RETURNING` (registration),
//! `UPDATE ... WHERE <still as read> RETURNING` (refresh-token rotation, the
//! slow-down's claim of an attempt, the bootstrap's role change). The few
//! sequences of statements that can interleave with another request
//! (a rotation's insert against a revocation; counting failed logins below
//! the slow-down threshold) say in their documentation why the outcome is
//! still safe, in `tokens` and `users`.

pub(crate) mod tokens;
pub(crate) mod users;

pub(crate) use mhmanus_guest::db::{Db, Row, StoreError, Val};
