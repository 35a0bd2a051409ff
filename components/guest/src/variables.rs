//! Spin variables as the components read them: an undefined variable is
//! empty (the manifest gives defaults, and empty means "use the default").

use spin_sdk::variables;

/// The variable's value; `Err` only when the runtime cannot answer.
pub async fn get(name: &str) -> Result<String, variables::Error> {
    match variables::get(name).await {
        Ok(value) => Ok(value),
        Err(variables::Error::Undefined(_)) => Ok(String::new()),
        Err(e) => Err(e),
    }
}

/// Empty (unset) means the documented default.
pub fn or_default(value: String, default: &str) -> String {
    match value.trim() {
        "" => default.to_owned(),
        text => text.to_owned(),
    }
}
