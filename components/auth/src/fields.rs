//! Picking fields out of a JSON object by hand, collecting every problem, so
//! one 422 names all invalid fields instead of the first.

use mhmanus_domain::validation::FieldError;
use serde_json::{Map, Value};

use crate::response::{self, Response};

pub(crate) struct Fields {
    object: Map<String, Value>,
    errors: Vec<FieldError>,
}

impl Fields {
    /// Starts checking `object`. Members not in `known` are errors at once:
    /// a client sending e.g. `roles` where it cannot be set learns so,
    /// rather than believing it was applied.
    pub(crate) fn new(object: Map<String, Value>, known: &[&str]) -> Fields {
        let errors = object
            .keys()
            .filter(|key| !known.contains(&key.as_str()))
            .map(|key| FieldError::new(key.as_str(), "cannot be set here"))
            .collect();
        Fields { object, errors }
    }

    /// A string that must be present (`null` counts as absent).
    pub(crate) fn required_string(&mut self, name: &str) -> Option<String> {
        match self.object.get(name) {
            None | Some(Value::Null) => {
                self.push(FieldError::new(name, "is required"));
                None
            }
            Some(_) => self.optional_string(name),
        }
    }

    /// A string that may be absent or `null`. No field of ours holds a
    /// control character: one is refused here, before any query sees it
    /// (PostgreSQL refuses a NUL in text, SQLite would store it).
    pub(crate) fn optional_string(&mut self, name: &str) -> Option<String> {
        match self.object.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) if text.chars().any(char::is_control) => {
                self.push(FieldError::new(name, "must not contain control characters"));
                None
            }
            Some(Value::String(text)) => Some(text.clone()),
            Some(_) => {
                self.push(FieldError::new(name, "must be a string"));
                None
            }
        }
    }

    /// A boolean that may be absent or `null`.
    pub(crate) fn optional_bool(&mut self, name: &str) -> Option<bool> {
        match self.object.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(flag)) => Some(*flag),
            Some(_) => {
                self.push(FieldError::new(name, "must be true or false"));
                None
            }
        }
    }

    /// The raw value, for shapes the helpers above do not cover.
    pub(crate) fn raw(&self, name: &str) -> Option<&Value> {
        self.object.get(name).filter(|value| !value.is_null())
    }

    pub(crate) fn push(&mut self, error: FieldError) {
        self.errors.push(error);
    }

    /// Keeps the value of a domain check, recording its error.
    pub(crate) fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        result.map_err(|e| self.push(e)).ok()
    }

    /// A 422 naming every invalid field, if there is any.
    pub(crate) fn finish(self, path: &str) -> Result<(), Response> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.rejection(path))
        }
    }

    /// The 422 naming every invalid field found (for callers that already
    /// know some value is missing, which always recorded an error).
    pub(crate) fn rejection(self, path: &str) -> Response {
        response::invalid(&self.errors, path)
    }
}
