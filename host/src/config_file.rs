//! The optional host config file (`--config FILE` or `MHMANUS_CONFIG`):
//! TOML whose keys are the environment variables' names in lower case
//! (`port = 3000`, `cors_origins = ["https://app.example.com"]`). The file
//! only fills what the environment (and `.env`) left unset, so env wins;
//! flags win over both.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context as _, bail};

/// Sets, for each key of `file` whose variable is unset, that variable.
/// `known` are the variables the host reads; any other key is refused, so
/// a typo cannot go unnoticed.
pub fn apply(file: &Path, known: &BTreeSet<String>) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("config file {}", file.display()))?;
    for (name, value) in
        parse(&text, known).with_context(|| format!("config file {}", file.display()))?
    {
        if std::env::var_os(&name).is_none() {
            // SAFETY: called from `main` before the runtime or any other
            // thread exists, as dotenvy's own loading is.
            unsafe { std::env::set_var(&name, value) };
        }
    }
    Ok(())
}

/// The file's settings as (VARIABLE, value) pairs.
fn parse(text: &str, known: &BTreeSet<String>) -> anyhow::Result<Vec<(String, String)>> {
    let table: toml::Table = text.parse()?;
    let mut settings = Vec::new();
    for (key, value) in table {
        let name = key.to_ascii_uppercase();
        if !known.contains(&name) {
            bail!(
                "unknown key {key:?}; keys are the host's variables in lower case (see `mhmanus-host up --help`)"
            );
        }
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    toml::Value::String(s) => Ok(s),
                    toml::Value::Integer(i) => Ok(i.to_string()),
                    other => bail!(
                        "{key}: list items are strings or integers, not {}",
                        other.type_str()
                    ),
                })
                .collect::<anyhow::Result<Vec<_>>>()?
                .join(","),
            other => bail!(
                "{key}: expected a string, number, boolean or list, not {}",
                other.type_str()
            ),
        };
        settings.push((name, value));
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> BTreeSet<String> {
        ["PORT", "CORS_ORIGINS", "RATE_LIMIT", "API_VERSIONS"]
            .map(String::from)
            .into()
    }

    #[test]
    fn keys_are_variables_and_lists_join_with_commas() {
        let settings = parse(
            r#"
port = 8080
cors_origins = ["https://a.example", "https://b.example"]
rate_limit = "20/60s"
api_versions = [1, 2]
"#,
            &known(),
        )
        .unwrap();
        assert_eq!(
            settings,
            [
                ("API_VERSIONS".into(), "1,2".into()),
                (
                    "CORS_ORIGINS".into(),
                    "https://a.example,https://b.example".into()
                ),
                ("PORT".into(), "8080".into()),
                ("RATE_LIMIT".into(), "20/60s".into()),
            ]
        );
    }

    #[test]
    fn an_unknown_key_or_a_table_is_refused() {
        let error = parse("prot = 1", &known()).unwrap_err().to_string();
        assert!(error.contains("unknown key \"prot\""), "{error}");
        assert!(parse("[port]\nx = 1", &known()).is_err());
        assert!(parse("port = ", &known()).is_err());
    }
}
