//! Forward auth for gateways (nginx `auth_request`, Traefik ForwardAuth, Caddy
//! `forward_auth`): any method on `/forward-auth`. The original request's method and URI come
//! from `X-Original-Method`/`X-Original-URI` (nginx, as configured in the README) or
//! `X-Forwarded-Method`/`X-Forwarded-Uri` (Traefik, Caddy), its host from `X-Forwarded-Host` or
//! `Host`; the [mapping](crate::mapping) makes the Cedar request. Answers: 200 allow, 403 deny
//! (also for anything malformed, no mapping, or a failure to decide: fail closed), 401 when no
//! principal is found. With `--reveal`, `x-thuja-reasons` lists the determining policies.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::json;

use crate::gateway::{self, Verdict};
use crate::http::{json_response, with_revision};
use crate::mapping::Original;
use crate::state::App;

const API: &str = "forward_auth";

/// The header listing the determining policies (with `--reveal`).
pub const REASONS_HEADER: HeaderName = HeaderName::from_static("x-thuja-reasons");

/// `/forward-auth`, any method.
pub(crate) async fn forward_auth(State(app): State<Arc<App>>, request: Request) -> Response {
    let started = Instant::now();
    let response = answer(&app, &request);
    app.metrics
        .duration
        .with_label_values(&[API])
        .observe(started.elapsed().as_secs_f64());
    response
}

fn answer(app: &App, request: &Request) -> Response {
    let headers = request.headers();
    let text = |names: &[&str]| {
        names
            .iter()
            .find_map(|name| headers.get(*name).and_then(|v| v.to_str().ok()))
            .map(str::to_string)
    };
    let (Some(method), Some(uri)) = (
        text(&["x-original-method", "x-forwarded-method"]),
        text(&["x-original-uri", "x-forwarded-uri"]),
    ) else {
        app.metrics.decided(API, "deny");
        return json_response(
            StatusCode::FORBIDDEN,
            &json!({"decision": "deny", "reason": "the original method and URI are not given (X-Original-Method and X-Original-URI, or X-Forwarded-Method and X-Forwarded-Uri)"}),
        );
    };
    let host = text(&["x-forwarded-host", "host"]).unwrap_or_default();
    let header = |name: &str| header_text(headers, name);
    let peer_ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let original = Original {
        method: &method,
        uri: &uri,
        host: &host,
        header: &header,
        peer_ip,
    };
    let gated = gateway::decide(app, API, &original);
    let (mut answer, reasons) = match gated.verdict {
        Verdict::Allow { reasons } => (
            json_response(StatusCode::OK, &json!({"decision": "allow"})),
            reasons,
        ),
        Verdict::Deny { why: None, reasons } => (
            json_response(StatusCode::FORBIDDEN, &json!({"decision": "deny"})),
            reasons,
        ),
        Verdict::Deny {
            why: Some(why),
            reasons,
        } => (
            json_response(
                StatusCode::FORBIDDEN,
                &json!({"decision": "deny", "reason": why}),
            ),
            reasons,
        ),
        Verdict::NoPrincipal(why) => (
            json_response(
                StatusCode::UNAUTHORIZED,
                &json!({"decision": "deny", "reason": format!("no principal: {why}")}),
            ),
            Vec::new(),
        ),
    };
    if app.config.reveal
        && !reasons.is_empty()
        && let Ok(value) = HeaderValue::from_str(&reasons.join(","))
    {
        answer.headers_mut().insert(REASONS_HEADER, value);
    }
    match gated.revision {
        Some(revision) => with_revision(answer, &revision),
        None => answer,
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}
