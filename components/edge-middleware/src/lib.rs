//! The edge middleware: what the native host's layers put around the
//! components, for Spin (4.1+), which composes this component in front of
//! each trigger's component (`dependencies.middleware` in spin.toml).
//! Outermost first: security headers, CORS, the rate limit, then the
//! component, whose answer is compressed, and sent whole when small. The rules are the host's
//! (`mhmanus_edge_rules`); the native host serves its own layers instead of
//! this component (`[component.edge-middleware.tool.mhmanus-host]`).

mod compression;
mod cors;
mod rate_limit;
mod request_id;
mod security_headers;
mod settings;

use http::{HeaderValue, StatusCode, header};
use mhmanus_domain::problem::{self, Problem};
use mhmanus_edge_rules::attestation;
use spin_sdk::http::{BoxBody, Request, box_body};
use spin_sdk::http_service;
use spin_sdk::wasip3::http::types::ErrorCode;

use rate_limit::Verdict;
use settings::Settings;

#[http_service]
async fn handle(request: Request) -> Result<http::Response<BoxBody>, ErrorCode> {
    let settings = Settings::current().await;
    let https = security_headers::came_over_https(request.headers(), &settings.proxies);
    let (request, id) = request_id::assign(request);
    let mut response = answer(request, settings).await?;
    security_headers::apply(response.headers_mut(), settings.hsts_max_age_secs, https);
    response.headers_mut().insert(request_id::HEADER, id);
    Ok(response)
}

async fn answer(
    request: Request,
    settings: &Settings,
) -> Result<http::Response<BoxBody>, ErrorCode> {
    let origin = cors::allowed_origin(request.headers(), settings);
    if cors::is_preflight(request.method(), request.headers(), settings) {
        let (status, headers) = cors::preflight(origin, settings);
        let mut response = empty(status);
        *response.headers_mut() = headers;
        return Ok(response);
    }
    let gzip = compression::accepted(request.headers());
    let (mut parts, body) = request.into_parts();
    let verdict = rate_limit::decide(&parts, settings).await;
    let mut response = match &verdict {
        Verdict::Decided {
            decision, quota, ..
        } if !decision.allowed => {
            let problem = Problem::new(429)
                .detail(mhmanus_edge_rules::rate_limit::limited_detail(
                    *quota, decision,
                ))
                .instance(parts.uri.path());
            let mut refused = problem_response(problem);
            let retry = mhmanus_edge_rules::rate_limit::seconds(decision.retry_after);
            refused
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry));
            refused
        }
        _ => {
            // Forbidden on a forwarded request; wasip3 takes the authority
            // from the URI.
            parts.headers.remove(header::HOST);
            parts.headers.remove(header::CONNECTION);
            // Only this middleware says which layers are in front.
            parts.headers.remove(attestation::HEADER);
            if let Some(signed) = &settings.attestation
                && let Ok(value) = HeaderValue::try_from(signed.as_str())
            {
                parts.headers.insert(attestation::HEADER, value);
            }
            let answer = spin_sdk::http::next(Request::from_parts(parts, body)).await?;
            compression::finish(answer, gzip, settings.compression_min_bytes).await
        }
    };
    if let Verdict::Decided { headers, .. } = verdict {
        for (name, value) in headers {
            if let Ok(value) = HeaderValue::try_from(value) {
                response.headers_mut().insert(name, value);
            }
        }
    }
    cors::decorate(response.headers_mut(), origin, settings);
    Ok(response)
}

fn problem_response(problem: Problem) -> http::Response<BoxBody> {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = http_body_util::Full::new(bytes::Bytes::from(problem.to_json()));
    let mut response = http::Response::new(box_body(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(problem::MEDIA_TYPE),
    );
    response
}

fn empty(status: StatusCode) -> http::Response<BoxBody> {
    let mut response = http::Response::new(box_body(http_body_util::Empty::<bytes::Bytes>::new()));
    *response.status_mut() = status;
    response
}
