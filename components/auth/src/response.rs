//! The answers every component builds (`mhmanus_guest::response`).

pub(crate) use mhmanus_guest::response::{
    Failure, Response, invalid, json, no_content, problem, unavailable, with_header,
};
