//! The shapes every part of the service answers in, whatever runs it:
//! `application/problem+json` errors and `application/health+json`
//! reports. Serde only, so the edge, the host and the components share
//! them without sharing anything else.

pub mod health;
pub mod problem;

/// The service's one name: its health reports' `serviceId`, its tokens'
/// default issuer and audience, its `WWW-Authenticate` realm.
pub const SERVICE_ID: &str = "mhmanus-edge";
