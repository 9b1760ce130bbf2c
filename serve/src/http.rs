//! What every endpoint shares: JSON error answers, reading a body within the size limit, and
//! the middleware (bearer token, concurrency limit and timeout, request id and revision
//! headers).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;

use crate::state::App;

/// The response header naming the input revision that answered.
pub const REVISION_HEADER: HeaderName = HeaderName::from_static("x-thuja-revision");
/// A request id the client sent, echoed in the response (AuthZEN's request identification).
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// A request that cannot be answered: a status and a message, sent as
/// `{"error": {"status": 400, "message": "..."}}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: message.into(),
        }
    }

    /// The error object, as it appears in a body or in an evaluation's context.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"status": self.status.as_u16(), "message": self.message})
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response =
            json_response(self.status, &serde_json::json!({"error": self.to_json()}));
        if self.status == StatusCode::PAYLOAD_TOO_LARGE {
            // What is left of the body is not read: the connection cannot carry another request.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// `value` as a JSON response with `status`.
/// Runs one API call of `api`: a failure is answered with its error and counted as an
/// `error` decision; the call's duration is observed either way.
pub(crate) async fn answered(
    app: &App,
    api: &'static str,
    call: impl std::future::Future<Output = Result<Response, ApiError>>,
) -> Response {
    let started = std::time::Instant::now();
    let response = match call.await {
        Ok(response) => response,
        Err(e) => {
            app.metrics.decided(api, "error");
            e.into_response()
        }
    };
    app.metrics
        .duration
        .with_label_values(&[api])
        .observe(started.elapsed().as_secs_f64());
    response
}

pub(crate) fn json_response(status: StatusCode, value: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => json_bytes(status, bytes),
        Err(e) => {
            tracing::error!("serializing a response: {e}");
            json_bytes(
                StatusCode::INTERNAL_SERVER_ERROR,
                br#"{"error":{"status":500,"message":"internal error"}}"#.to_vec(),
            )
        }
    }
}

/// JSON text as a response with `status`.
pub(crate) fn json_bytes(status: StatusCode, bytes: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Sets the revision header.
pub(crate) fn with_revision(mut response: Response, revision: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(revision) {
        response.headers_mut().insert(REVISION_HEADER, value);
    }
    response
}

/// How much of a body over the limit is read and thrown away before answering 413, so that the
/// client, still sending, reads the answer instead of a reset connection.
const DRAIN: u64 = 8 * 1024 * 1024;

/// Reads a whole body of at most `limit` bytes: 413 beyond, 400 when the body cannot be read.
/// A body over the limit is read on (and dropped) up to [`DRAIN`] bytes more, unless its
/// declared length already says it is larger than that; the 413 closes the connection.
pub(crate) async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<axum::body::Bytes, ApiError> {
    let too_large = || ApiError {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        message: format!("the request body is larger than the limit of {limit} bytes"),
    };
    let limit = limit as u64;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit.saturating_add(DRAIN)) {
        return Err(too_large());
    }
    let mut body = body;
    let mut bytes = Vec::new();
    let mut total: u64 = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiError::bad_request(format!("the request body could not be read: {e}"))
        })?;
        if let Ok(data) = frame.into_data() {
            total = total.saturating_add(data.len() as u64);
            if total <= limit {
                bytes.extend_from_slice(&data);
            } else if total > limit.saturating_add(DRAIN) {
                break;
            }
        }
    }
    if total > limit {
        return Err(too_large());
    }
    Ok(axum::body::Bytes::from(bytes))
}

/// Parses a body as JSON, naming the syntax error's position.
pub(crate) fn parse_json(bytes: &[u8]) -> Result<serde_json::Value, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))
}

/// Whether a request must show the token: everything but the health endpoints.
fn needs_token(path: &str) -> bool {
    !matches!(path, "/healthz" | "/readyz")
}

/// Refuses requests without the configured bearer token (401, with `WWW-Authenticate`).
pub(crate) async fn require_token(
    State(app): State<Arc<App>>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(token) = &app.config.token
        && needs_token(request.uri().path())
    {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !given.is_some_and(|given| same_secret(given.as_bytes(), token.as_bytes())) {
            let mut response = ApiError {
                status: StatusCode::UNAUTHORIZED,
                message: "a valid `Authorization: Bearer <token>` header is required".into(),
            }
            .into_response();
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return response;
        }
    }
    next.run(request).await
}

/// Compares two secrets in time that depends only on their lengths.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Bounds how many requests are answered at once and how long each may take (waiting for a
/// place included): 503 with a JSON body past the timeout.
pub(crate) async fn limit(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let timeout: Duration = app.config.request_timeout;
    let answer = async {
        let _permit = app.permits.acquire().await;
        next.run(request).await
    };
    match tokio::time::timeout(timeout, answer).await {
        Ok(response) => response,
        Err(_) => ApiError::unavailable(format!(
            "the request was not answered within {} ms",
            timeout.as_millis()
        ))
        .into_response(),
    }
}

/// Echoes `X-Request-ID` (and gives it to the decision log) and, where a handler did not set it,
/// sets the serving revision.
pub(crate) async fn stamp(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let id = request.headers().get(REQUEST_ID_HEADER).cloned();
    let logged = id
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut response = crate::decision_log::REQUEST_ID
        .scope(logged, next.run(request))
        .await;
    if let Some(id) = id {
        response.headers_mut().insert(REQUEST_ID_HEADER, id);
    }
    if !response.headers().contains_key(REVISION_HEADER)
        && let Some(current) = app.current()
    {
        response = with_revision(response, &current.revision());
    }
    response
}

/// The answer to a path no route serves.
pub(crate) async fn not_found(request: Request) -> Response {
    ApiError {
        status: StatusCode::NOT_FOUND,
        message: format!("no endpoint {} {}", request.method(), request.uri().path()),
    }
    .into_response()
}

/// The answer to a method a route does not serve.
pub(crate) async fn method_not_allowed(request: Request) -> Response {
    ApiError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        message: format!(
            "{} is not served on {}",
            request.method(),
            request.uri().path()
        ),
    }
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_by_content_and_length() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
        assert!(!same_secret(b"", b"a"));
    }
}
