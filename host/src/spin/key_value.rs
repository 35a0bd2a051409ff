//! `spin:key-value` (stub; being implemented).

pub struct Backend {}

pub struct Store {}
