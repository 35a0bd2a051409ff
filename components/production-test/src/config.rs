//! `GET config`: the effective configuration this component sees, every
//! secret redacted.

use mhmanus_domain::auth::refresh;
use mhmanus_guest::admin::AdminState;
use serde_json::{Value, json};

use crate::edge::EdgeInFront;
use crate::redact;
use crate::settings::Settings;

/// The report; `for_admin` adds the URLs (their secrets still hidden).
pub(crate) fn report(
    settings: &Settings,
    edge: &EdgeInFront,
    admin: AdminState,
    for_admin: bool,
) -> Value {
    let url = |value: &str| {
        if for_admin {
            json!(redact::url(value))
        } else {
            json!("[shown to an Admin only]")
        }
    };
    let running_under_host = settings.host_runtime == "mhmanus-host";
    let key_value_backend = match (running_under_host, settings.redis_url.is_empty()) {
        (true, false) => "redis",
        (true, true) => "in-process",
        // Spin decides from its runtime config; the component cannot see it.
        (false, _) => "runtime-config",
    };
    json!({
        "service": mhmanus_domain::SERVICE_ID,
        "version": env!("CARGO_PKG_VERSION"),
        "runtime": settings.host_runtime,
        "environment": if settings.production { "production" } else { "development" },
        "database": {
            "backend": settings.database_backend(),
            "url": url(&settings.database_url),
        },
        "keyValue": { "store": "default", "backend": key_value_backend },
        "redis": {
            "configured": !settings.redis_url.is_empty(),
            "url": url(&settings.redis_url),
        },
        "tokens": {
            "algorithm": "HS256",
            "issuer": settings.issuer,
            "audience": settings.audience,
            "accessTokenTtlSecs": settings.ttl_secs,
            "refreshTokenTtlSecs": refresh::TTL_SECS,
            "secret": redact::secret(&settings.jwt_secret),
        },
        // Whether an Admin is bootstrapped, not who: this route is public.
        // Configured means the account is an Admin, not only that its email
        // is set (an account registered before keeps its own roles).
        "admin": {
            "configured": admin == AdminState::Bootstrapped,
            "state": admin.as_str(),
            "password": redact::secret(&settings.admin_password),
        },
        "edgeLayers": edge.layers,
        "edgeProvidedBy": edge.provided_by,
    })
}
