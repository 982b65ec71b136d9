//! Refusing oversized bodies so that the client actually receives the
//! refusal.
//!
//! Answering 413 while the client is still sending makes the server close
//! the connection, and the client sees a broken pipe instead of the JSON
//! error. For bodies that announce their size and are not absurd, the rest
//! is read and discarded first; the answer then always arrives.

use super::MAX_BODY_BYTES;
use super::error::ApiError;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::BodyExt;
use lqx_api::ErrorCode;

/// Beyond this, the body is not drained: the connection is simply closed.
const DRAIN_CAP: u64 = 64 << 20;

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::PayloadTooLarge,
        format!("request body is larger than {MAX_BODY_BYTES} bytes"),
    )
}

/// Whether the request uploads a pool volume's contents, which streams
/// to a file with its own limit.
fn is_upload(request: &Request) -> bool {
    let path = request.uri().path();
    request.method() == axum::http::Method::PUT
        && path.starts_with("/v1/pools/")
        && path.ends_with("/content")
}

/// Middleware: refuses bodies whose `Content-Length` exceeds the limit.
pub async fn refuse_oversized(request: Request, next: Next) -> Result<Response, ApiError> {
    if is_upload(&request) {
        return Ok(next.run(request).await);
    }
    let length = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match length {
        Some(n) if n > MAX_BODY_BYTES as u64 => {
            if n <= DRAIN_CAP {
                let mut body = request.into_body();
                while let Some(Ok(_)) = body.frame().await {}
            }
            Err(too_large())
        }
        _ => Ok(next.run(request).await),
    }
}
