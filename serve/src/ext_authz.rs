//! Envoy's external authorization, gRPC (`envoy.service.auth.v3.Authorization/Check`), on the
//! listener `--grpc-listen` opens. The HTTP request Envoy describes (method, path, host,
//! headers, and the downstream client's address) becomes a Cedar request through the same
//! [mapping](crate::mapping) as forward auth.
//!
//! Answers, in the `CheckResponse`:
//! - allow: status `OK`; with `--reveal`, the upstream request gets `x-thuja-reasons` (the
//!   determining policies).
//! - deny: status `PERMISSION_DENIED` and a 403 `DeniedHttpResponse` whose JSON body says
//!   `{"decision": "deny"}` (and, when nothing was decided, why) — also for anything
//!   malformed, unmapped, invalid for the schema, or when no engine is ready (fail closed).
//! - no principal: status `UNAUTHENTICATED` and a 401 `DeniedHttpResponse`.
//!
//! Every answer carries the gRPC response header `x-thuja-revision` when an engine decided.
//! With `--token`, the call itself must carry `authorization: Bearer <token>` metadata (set it
//! in Envoy's `grpc_service.initial_metadata`); without, the call fails with `UNAUTHENTICATED`,
//! which Envoy (with `failure_mode_allow: false`) turns into a denial.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use envoy_types::ext_authz::v3::pb::{
    Address, Authorization, CheckRequest, CheckResponse, HeaderAppendAction, HttpStatusCode,
};
use envoy_types::ext_authz::v3::{
    CheckResponseExt, DeniedHttpResponseBuilder, OkHttpResponseBuilder,
};
use serde_json::json;
use tonic::metadata::MetadataValue;

use crate::forward_auth::REASONS_HEADER;
use crate::gateway::{self, Verdict};
use crate::mapping::Original;
use crate::state::App;

const API: &str = "ext_authz";

/// The gRPC response header naming the input revision that answered (as `x-thuja-revision`
/// does on HTTP answers).
const REVISION_METADATA: &str = "x-thuja-revision";

/// The `Authorization` service over the server's state.
pub(crate) struct ExtAuthz {
    pub app: Arc<App>,
}

#[tonic::async_trait]
impl Authorization for ExtAuthz {
    async fn check(
        &self,
        request: tonic::Request<CheckRequest>,
    ) -> Result<tonic::Response<CheckResponse>, tonic::Status> {
        if let Some(token) = &self.app.config.token {
            let given = request
                .metadata()
                .get("authorization")
                .and_then(|v| v.to_str().ok());
            if given != Some(format!("Bearer {token}").as_str()) {
                self.app.metrics.decided(API, "error");
                return Err(tonic::Status::unauthenticated(
                    "this server needs `authorization: Bearer <token>` metadata",
                ));
            }
        }
        let started = Instant::now();
        let permit =
            tokio::time::timeout(self.app.config.request_timeout, self.app.permits.acquire()).await;
        let answer = match permit {
            Ok(Ok(_permit)) => answer(&self.app, request.get_ref()),
            _ => {
                self.app.metrics.decided(API, "error");
                return Err(tonic::Status::unavailable(
                    "too many requests in flight: no place within the timeout",
                ));
            }
        };
        self.app
            .metrics
            .duration
            .with_label_values(&[API])
            .observe(started.elapsed().as_secs_f64());
        Ok(answer)
    }
}

/// The answer to one check.
fn answer(app: &App, check: &CheckRequest) -> tonic::Response<CheckResponse> {
    let attributes = check.attributes.as_ref();
    let Some(http) = attributes
        .and_then(|a| a.request.as_ref())
        .and_then(|r| r.http.as_ref())
    else {
        app.metrics.decided(API, "deny");
        return tonic::Response::new(denied(
            tonic::Status::permission_denied("deny"),
            HttpStatusCode::Forbidden,
            Some("the check carries no HTTP request attributes"),
        ));
    };
    let headers = headers_of(http);
    let header = |name: &str| headers.get(name.to_ascii_lowercase().as_str()).cloned();
    let peer_ip = attributes
        .and_then(|a| a.source.as_ref())
        .and_then(|peer| peer.address.as_ref())
        .and_then(|address| address.address.as_ref())
        .and_then(|address| match address {
            Address::SocketAddress(socket) => socket.address.parse::<IpAddr>().ok(),
            _ => None,
        });
    let host = if http.host.is_empty() {
        header("host").unwrap_or_default()
    } else {
        http.host.clone()
    };
    let original = Original {
        method: &http.method,
        uri: &http.path,
        host: &host,
        header: &header,
        peer_ip,
    };
    let request_id =
        header("x-request-id").or_else(|| (!http.id.is_empty()).then(|| http.id.clone()));
    let gated = crate::decision_log::REQUEST_ID
        .sync_scope(request_id, || gateway::decide(app, API, &original));
    let response = match gated.verdict {
        Verdict::Allow { reasons } => {
            let mut ok = OkHttpResponseBuilder::new();
            if app.config.reveal && !reasons.is_empty() {
                // Overwritten, so a client cannot pass its own list upstream.
                ok.add_header(
                    REASONS_HEADER.as_str(),
                    reasons.join(","),
                    Some(HeaderAppendAction::OverwriteIfExistsOrAdd),
                    true,
                );
            }
            let mut response = CheckResponse::with_status(tonic::Status::ok("allow"));
            response.set_http_response(ok);
            response
        }
        Verdict::Deny { why, .. } => denied(
            tonic::Status::permission_denied("deny"),
            HttpStatusCode::Forbidden,
            why.as_deref(),
        ),
        Verdict::NoPrincipal(why) => denied(
            tonic::Status::unauthenticated("no principal"),
            HttpStatusCode::Unauthorized,
            Some(&format!("no principal: {why}")),
        ),
    };
    let mut response = tonic::Response::new(response);
    if let Some(revision) = gated.revision
        && let Ok(value) = MetadataValue::try_from(&*revision)
    {
        response.metadata_mut().insert(REVISION_METADATA, value);
    }
    response
}

/// A denial: the check's status, and the HTTP answer Envoy sends the client (JSON, saying why
/// when nothing was decided).
fn denied(status: tonic::Status, http: HttpStatusCode, why: Option<&str>) -> CheckResponse {
    let body = match why {
        Some(why) => json!({"decision": "deny", "reason": why}).to_string(),
        // The common case, a denial by the policies, costs no serialization.
        None => r#"{"decision":"deny"}"#.to_string(),
    };
    let mut denial = DeniedHttpResponseBuilder::new();
    denial
        .set_http_status(http)
        .add_header("content-type", "application/json", None, false)
        .set_body(body);
    let mut response = CheckResponse::with_status(status);
    response.set_http_response(denial);
    response
}

/// The request's headers by lower-case name: Envoy sends them as a map, or — with
/// `encode_raw_headers` — as raw key/value pairs (repeated names joined with `,`, as HTTP
/// merges them).
fn headers_of(
    http: &envoy_types::pb::envoy::service::auth::v3::attribute_context::HttpRequest,
) -> HashMap<String, String> {
    let mut headers: HashMap<String, String> = http
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    if let Some(map) = &http.header_map {
        for header in &map.headers {
            let value = if header.raw_value.is_empty() {
                header.value.clone()
            } else {
                String::from_utf8_lossy(&header.raw_value).into_owned()
            };
            headers
                .entry(header.key.to_ascii_lowercase())
                .and_modify(|v| {
                    v.push(',');
                    v.push_str(&value);
                })
                .or_insert(value);
        }
    }
    headers
}
