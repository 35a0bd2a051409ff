//! A store in this process's memory: lost on exit, shared by every instance.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use super::Backend;
use crate::bindings::spin::key_value::key_value::Error;

#[derive(Debug, Default)]
pub struct InMemory(Mutex<HashMap<String, Vec<u8>>>);

impl InMemory {
    fn map(&self) -> MutexGuard<'_, HashMap<String, Vec<u8>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait::async_trait]
impl Backend for InMemory {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        Ok(self.map().get(key).cloned())
    }

    async fn set(&self, key: &str, value: Vec<u8>) -> Result<(), Error> {
        self.map().insert(key.to_owned(), value);
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), Error> {
        self.map().remove(key);
        Ok(())
    }

    async fn exists(&self, key: &str) -> Result<bool, Error> {
        Ok(self.map().contains_key(key))
    }

    async fn keys(&self) -> Result<Vec<String>, Error> {
        Ok(self.map().keys().cloned().collect())
    }
}
