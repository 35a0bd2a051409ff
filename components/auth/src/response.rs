//! The `Failure` handlers return, and the answers every component builds
//! (`mhmanus_guest::response`).

use mhmanus_domain::problem::Problem;
pub use mhmanus_guest::response::{Response, invalid, json, no_content, problem, with_header};

use crate::store::StoreError;

/// Why a handler did not produce its success answer.
#[derive(Debug)]
pub enum Failure {
    /// A finished error answer (a problem with its headers).
    Reply(Response),
    /// The database failed; answered with a 503 that says only that.
    Store(StoreError),
}

impl From<Response> for Failure {
    fn from(response: Response) -> Self {
        Failure::Reply(response)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

impl Failure {
    /// The answer to send; a store error is logged here, and only here.
    pub fn into_response(self, path: &str) -> Response {
        match self {
            Failure::Reply(response) => response,
            Failure::Store(e) => unavailable(e, path),
        }
    }
}

/// The 503 for a store error: the real error goes to the log only.
pub fn unavailable(e: StoreError, path: &str) -> Response {
    eprintln!("auth: database error on {path}: {e}");
    problem(
        Problem::new(503)
            .detail("the database is unavailable")
            .instance(path),
    )
}
