//! Accounts and refresh tokens over the shared SQL layer (`mhmanus_guest::db`).
//!
//! Statements run one at a time, each in its own implicit transaction (only
//! migrations open one). Where requests race, one statement decides the
//! winner: `INSERT ... ON CONFLICT DO NOTHING RETURNING` (registration),
//! `INSERT ... ON CONFLICT DO UPDATE ... WHERE ... RETURNING` (the
//! slow-down's claim of an attempt), `UPDATE ... WHERE <still as read>
//! RETURNING` (refresh-token rotation, the bootstrap's role change). The
//! few sequences of statements that can interleave with another request
//! (a rotation's insert against a revocation; a failure's delay against a
//! concurrent one) say in their documentation why the outcome is still
//! safe, in `tokens` and `attempts`.

pub(crate) mod admin_bootstrap;
pub(crate) mod attempts;
pub(crate) mod tokens;
pub(crate) mod users;

pub(crate) use mhmanus_guest::db::{Db, Row, StoreError, Val};
