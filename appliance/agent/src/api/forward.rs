//! Requests for another member: a request naming a host in the
//! `lqx-host` header (its id, or its hostname when unique) is served here
//! if it names this host, and otherwise forwarded to that member's API
//! over mutual TLS with this host's certificate. A forwarded request
//! carries `lqx-forwarded-by` and is never forwarded again.

use super::MAX_BODY_BYTES;
use super::error::ApiError;
use super::peer::Caller;
use crate::agent::Agent;
use crate::cluster::Located;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use lqx_api::{ErrorCode, FORWARDED_BY_HEADER, TARGET_HOST_HEADER};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// How long a forwarded request may take: as long as the slowest
/// request of the API (a Ceph join, a network apply).
const FORWARD_TIMEOUT: Duration = Duration::from_secs(120);

/// Middleware: serves or forwards requests that name a host.
pub async fn route(
    State(agent): State<Arc<Agent>>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let Some(target) = request.headers().get(TARGET_HOST_HEADER) else {
        return Ok(next.run(request).await);
    };
    // WebSockets (VM consoles) find the VM's host themselves and relay
    // frames; a buffered forward cannot carry them.
    if request.headers().contains_key(header::UPGRADE) {
        return Ok(next.run(request).await);
    }
    let target = target.to_str().map(|t| t.trim().to_owned()).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidValue,
            format!("the {TARGET_HOST_HEADER} header must be a host id or hostname"),
        )
    })?;
    match agent.locate(&target).await? {
        Located::Here => Ok(next.run(request).await),
        Located::Member { id, .. } if request.headers().contains_key(FORWARDED_BY_HEADER) => {
            Err(ApiError::new(
                StatusCode::MISDIRECTED_REQUEST,
                ErrorCode::Conflict,
                format!(
                    "this request was forwarded here for {target}, which is member {id}, not \
                     this host; it is not forwarded again"
                ),
            ))
        }
        Located::Member { id, address } => forward(&agent, id, address, request).await,
    }
}

async fn forward(
    agent: &Agent,
    id: Uuid,
    address: SocketAddr,
    request: Request,
) -> Result<Response, ApiError> {
    let caller = request
        .extensions()
        .get::<Caller>()
        .map(ToString::to_string)
        .unwrap_or_default();
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                format!("cannot read the request body to forward it: {e}"),
            )
        })?;
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned());
    tracing::debug!(%id, %address, method = %parts.method, %path, %caller, "forwarding");
    let body = (!bytes.is_empty()).then(|| bytes.to_vec());
    send(agent, id, address, parts.method, &path, body).await
}

/// Sends a request to member `id` at `address` over mutual TLS with this
/// host's certificate, marked as forwarded, and answers what it answers.
pub async fn send(
    agent: &Agent,
    id: Uuid,
    address: SocketAddr,
    method: axum::http::Method,
    path: &str,
    body: Option<Vec<u8>>,
) -> Result<Response, ApiError> {
    let tls = agent.remote_client_tls()?;
    let unreachable = |why: String| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            ErrorCode::Unavailable,
            format!("member {id} at {address} did not answer: {why}"),
        )
    };
    let client = lqx_client::Client::https(&format!("https://{address}"), tls)
        .map_err(|e| unreachable(e.to_string()))?
        .with_timeout(FORWARD_TIMEOUT)
        .with_header(TARGET_HOST_HEADER, &id.to_string())
        .with_header(FORWARDED_BY_HEADER, &agent.host_id().await.to_string());
    let (status, answer) = client
        .raw(method, path, body)
        .await
        .map_err(|e| unreachable(super::error::chain(&e)))?;
    let mut response = Response::new(Body::from(answer));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}
