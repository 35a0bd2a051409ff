//! CORS from the allow-list (`cors_origins`), as the host's layer answers:
//! an allowed origin is echoed with credentials; a preflight is answered
//! here, empty, with the methods, headers and max-age; any other origin
//! gets no CORS header.

use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use mhmanus_edge_rules::cors as rules;

use crate::settings::Settings;

/// The request's `Origin`, when the allow-list has it.
pub(crate) fn allowed_origin(request: &HeaderMap, settings: &Settings) -> Option<HeaderValue> {
    let origin = request.get(header::ORIGIN)?;
    settings
        .cors_origins
        .iter()
        .any(|allowed| allowed.as_bytes() == origin.as_bytes())
        .then(|| origin.clone())
}

/// Whether the request is a CORS preflight, answered without the component.
pub(crate) fn is_preflight(method: &Method, request: &HeaderMap, settings: &Settings) -> bool {
    *method == Method::OPTIONS
        && !settings.cors_origins.is_empty()
        && request.contains_key(header::ORIGIN)
        && request.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The preflight's answer: 200, empty.
pub(crate) fn preflight(
    origin: Option<HeaderValue>,
    settings: &Settings,
) -> (StatusCode, HeaderMap) {
    let mut headers = HeaderMap::new();
    decorate(&mut headers, origin.clone(), settings);
    if origin.is_some() {
        let list = |items: &[&str]| HeaderValue::try_from(items.join(",")).expect("ASCII names");
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, list(&rules::METHODS));
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            list(&rules::ALLOWED_HEADERS),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from(settings.cors_max_age_secs),
        );
        headers.remove(header::ACCESS_CONTROL_EXPOSE_HEADERS);
    }
    (StatusCode::OK, headers)
}

/// The CORS headers of an answer to `origin`.
pub(crate) fn decorate(headers: &mut HeaderMap, origin: Option<HeaderValue>, settings: &Settings) {
    if settings.cors_origins.is_empty() {
        return;
    }
    for vary in [
        "origin",
        "access-control-request-method",
        "access-control-request-headers",
    ] {
        headers.append(header::VARY, HeaderValue::from_static(vary));
    }
    let Some(origin) = origin else {
        return;
    };
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
    let exposed = HeaderValue::try_from(rules::EXPOSED_HEADERS.join(",")).expect("ASCII names");
    headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, exposed);
}
