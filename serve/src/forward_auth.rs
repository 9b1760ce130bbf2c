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
use thuja::Decision;

use crate::http::{json_response, with_revision};
use crate::mapping::{Mapped, Original};
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
    let deny = |why: String| {
        tracing::debug!("forward auth: deny: {why}");
        app.metrics.decided(API, "deny");
        json_response(
            StatusCode::FORBIDDEN,
            &json!({"decision": "deny", "reason": why}),
        )
    };
    let Some(mapping) = &app.mapping else {
        return deny("no forward-auth mapping is configured (--forward-auth)".into());
    };
    let Some(current) = app.current() else {
        return deny("no engine yet".into());
    };
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
        return deny("the original method and URI are not given (X-Original-Method and X-Original-URI, or X-Forwarded-Method and X-Forwarded-Uri)".into());
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
    let request = match mapping.map(&original) {
        Mapped::Request(request) => request,
        Mapped::NoPrincipal => {
            app.metrics.decided(API, "unauthenticated");
            return json_response(
                StatusCode::UNAUTHORIZED,
                &json!({"decision": "deny", "reason": "no principal: the request carries no identity header"}),
            );
        }
        Mapped::Deny(why) => return deny(why),
    };
    let engine = current.live.engine();
    let mut request = *request;
    if let Some(schema) = engine.schema().filter(|_| engine.validates_requests())
        && let Err(e) = request.validate(schema)
    {
        return with_revision(
            deny(format!(
                "the mapped request is not valid for the schema: {e}"
            )),
            &current.revision_of(&engine),
        );
    }
    let response = match app.decide(&engine, &request) {
        Ok(response) => response,
        Err(e) => return deny(format!("the mapped request is not valid: {e}")),
    };
    let revision = current.revision_of(&engine);
    let mut answer = match response.decision {
        Decision::Allow => {
            app.metrics.decided(API, "allow");
            json_response(StatusCode::OK, &json!({"decision": "allow"}))
        }
        Decision::Deny => {
            app.metrics.decided(API, "deny");
            json_response(StatusCode::FORBIDDEN, &json!({"decision": "deny"}))
        }
    };
    if app.config.reveal {
        let reasons: Vec<&str> = response.reasons.iter().map(AsRef::as_ref).collect();
        if let Ok(value) = HeaderValue::from_str(&reasons.join(",")) {
            answer.headers_mut().insert(REASONS_HEADER, value);
        }
    }
    with_revision(answer, &revision)
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}
