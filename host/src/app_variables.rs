//! The application variables the host supplies from its own configuration
//! (`DATABASE_URL` → `database_url`, `JWT_SECRET` → `jwt_secret`, ...), and
//! the start-up rules for the signing secret: nothing secret is generated
//! silently, and production refuses a missing or weak one.

use std::collections::BTreeMap;

use anyhow::bail;
use mhmanus_domain::auth::email::Email;
use mhmanus_domain::auth::jwt::{self, MIN_PRODUCTION_SECRET_BYTES, SecretError};
use mhmanus_domain::auth::policy::NewPassword;

use secrecy::ExposeSecret;

use crate::config::{Environment, HostConfig};
use mhmanus_manifest::Manifest;

pub(crate) const JWT_SECRET: &str = "jwt_secret";

/// The host's values, highest precedence first applied last: configuration,
/// then `--variable NAME=VALUE`. `env` is the process environment.
pub(crate) fn host_values(
    manifest: &Manifest,
    config: &HostConfig,
    env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut values = BTreeMap::new();
    let secrets = [
        ("database_url", &config.database_url),
        ("redis_url", &config.redis_url),
        (JWT_SECRET, &config.jwt_secret),
        ("admin_password", &config.admin_password),
    ];
    for (name, value) in secrets {
        if let Some(value) = value {
            values.insert(name.to_owned(), value.expose_secret().to_owned());
        }
    }
    if let Some(email) = &config.admin_email {
        values.insert("admin_email".to_owned(), email.clone());
    }
    let production = config.environment()? == Environment::Production;
    let app_env = if production {
        "production"
    } else {
        "development"
    };
    values.insert("app_env".to_owned(), app_env.to_owned());
    values.insert("host_runtime".to_owned(), "mhmanus-host".to_owned());
    values.insert(
        "edge_layers".to_owned(),
        config.edge.active_layers().join(","),
    );
    values.extend(config.variables.iter().cloned());

    if production
        && let (Some(email), Some(password)) =
            (values.get("admin_email"), values.get("admin_password"))
    {
        check_admin_password(email, password)?;
    }

    if manifest.variables.contains_key(JWT_SECRET) {
        let secret = values
            .get(JWT_SECRET)
            .cloned()
            .or_else(|| env("SPIN_VARIABLE_JWT_SECRET"));
        match secret {
            Some(secret) if production => match jwt::check_production_secret(secret.as_bytes()) {
                Ok(()) => {}
                Err(SecretError::TooShort(len)) => bail!(
                    "JWT_SECRET has {len} bytes; production needs at least {MIN_PRODUCTION_SECRET_BYTES}"
                ),
                Err(e) => bail!("JWT_SECRET: {e}"),
            },
            Some(_) => {}
            None if production => {
                bail!(
                    "JWT_SECRET is required in production (at least {MIN_PRODUCTION_SECRET_BYTES} bytes)"
                )
            }
            None => {
                tracing::warn!(
                    "JWT_SECRET is unset: signing tokens with a random development secret that dies with this process; set JWT_SECRET to keep sessions across restarts (production refuses to start without it)"
                );
                values.insert(JWT_SECRET.to_owned(), development_secret()?);
            }
        }
    }
    Ok(values)
}

/// Production refuses to create an Admin whose password registration would
/// refuse (too short, too common, the email itself).
fn check_admin_password(email: &str, password: &str) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("ADMIN_EMAIL: {}", e.message))?;
    NewPassword::parse(password, &email, "ADMIN_PASSWORD")
        .map(|_| ())
        .map_err(|e| anyhow::anyhow!("ADMIN_PASSWORD: {}", e.message))
}

/// 256 random bits, hex: strong, and never the same twice.
fn development_secret() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness for a secret: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mhmanus_manifest::LoadedManifest;

    fn manifest() -> Manifest {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spin.toml");
        std::fs::write(
            &path,
            r#"spin_manifest_version = 2
[application]
name = "t"
[variables]
jwt_secret = { required = true, secret = true }
"#,
        )
        .unwrap();
        LoadedManifest::load(&path).unwrap().manifest
    }

    /// 32 bytes as `openssl rand -base64 24` prints them.
    const RANDOM_SECRET: &str = "q8Zr0vTj3LmW6yXc1NpB5sKd9GhF2aEu";

    fn config(production: bool, secret: Option<&str>) -> HostConfig {
        let mut config = HostConfig::defaults("spin.toml", "data");
        config.app_env = Some(
            if production {
                "production"
            } else {
                "development"
            }
            .into(),
        );
        config.jwt_secret = secret.map(Into::into);
        config
    }

    #[test]
    fn outside_production_a_missing_secret_becomes_a_random_one() {
        let first = host_values(&manifest(), &config(false, None), |_| None).unwrap();
        let second = host_values(&manifest(), &config(false, None), |_| None).unwrap();
        assert_eq!(first[JWT_SECRET].len(), 64);
        assert_ne!(first[JWT_SECRET], second[JWT_SECRET]);
        assert_eq!(first["app_env"], "development");
    }

    #[test]
    fn production_refuses_a_missing_or_short_secret() {
        let err = host_values(&manifest(), &config(true, None), |_| None).unwrap_err();
        assert!(err.to_string().contains("JWT_SECRET is required"), "{err}");
        let err =
            host_values(&manifest(), &config(true, Some(&"x".repeat(31))), |_| None).unwrap_err();
        assert!(err.to_string().contains("31 bytes"), "{err}");
        assert!(
            !err.to_string().contains("xxxx"),
            "the secret never shows: {err}"
        );
        let values =
            host_values(&manifest(), &config(true, Some(RANDOM_SECRET)), |_| None).unwrap();
        assert_eq!(values["app_env"], "production");
    }

    #[test]
    fn production_refuses_a_predictable_secret_of_any_length() {
        for predictable in ["x".repeat(64), "ab".repeat(32), "0123456789".repeat(4)] {
            let err =
                host_values(&manifest(), &config(true, Some(&predictable)), |_| None).unwrap_err();
            assert!(err.to_string().contains("predictable"), "{err}");
            assert!(
                !err.to_string().contains(&predictable),
                "never shown: {err}"
            );
        }
    }

    #[test]
    fn production_refuses_an_admin_password_registration_would_refuse() {
        let mut config = config(true, Some(RANDOM_SECRET));
        config.admin_email = Some("root@example.com".into());
        for weak in ["short", "password123", "root@example.com"] {
            config.admin_password = Some(weak.into());
            let err = host_values(&manifest(), &config, |_| None).unwrap_err();
            assert!(err.to_string().starts_with("ADMIN_PASSWORD: "), "{err}");
            assert!(!err.to_string().contains(weak), "never shown: {err}");
        }
        config.admin_password = Some("a sound passphrase for root".into());
        assert!(host_values(&manifest(), &config, |_| None).is_ok());
        // Outside production a weak bootstrap password is the developer's call.
        config.app_env = Some("development".into());
        config.admin_password = Some("short".into());
        assert!(host_values(&manifest(), &config, |_| None).is_ok());
    }

    #[test]
    fn a_secret_from_spin_variable_env_is_respected_and_checked() {
        let env = |name: &str| (name == "SPIN_VARIABLE_JWT_SECRET").then(|| "short".to_owned());
        let values = host_values(&manifest(), &config(false, None), env).unwrap();
        assert!(
            !values.contains_key(JWT_SECRET),
            "left to SPIN_VARIABLE_JWT_SECRET"
        );
        assert!(host_values(&manifest(), &config(true, None), env).is_err());
    }
}
