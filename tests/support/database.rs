//! A PostgreSQL database of a test's own on the local server, so tests that
//! migrate or count rows never see each other's; dropped with `remove`.

use crate::{POSTGRES_ADDRESS, POSTGRES_URL};

pub struct TestDatabase {
    pub name: String,
}

impl TestDatabase {
    pub async fn create() -> TestDatabase {
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        connect(POSTGRES_URL)
            .await
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        TestDatabase { name }
    }

    /// Its URL, on `authority` (the server's, or a proxy's address).
    pub fn url_via(&self, authority: &str) -> String {
        format!("postgres://postgres@{authority}/{}", self.name)
    }

    pub fn url(&self) -> String {
        self.url_via(POSTGRES_ADDRESS)
    }

    pub async fn client(&self) -> tokio_postgres::Client {
        connect(&self.url()).await
    }

    pub async fn remove(self) {
        let _ = connect(POSTGRES_URL)
            .await
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await;
    }
}

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}
