//! `spin:postgres` (stub; being implemented).

/// Host-wide connection pools, one per address.
#[derive(Default)]
pub struct Pools {}

pub struct Connection {}
pub struct ConnectionBuilder {}
