//! `spin:redis` (stub; being implemented).

/// Host-wide multiplexed clients, one per address.
#[derive(Default)]
pub struct Clients {}

pub struct Connection {}
