//! The join channel: the one request a host holding a join token may
//! make without a certificate of the cluster (ALPN `lqx-join/1` on the
//! API's port; see [`crate::remote`]). Nothing of the API is reachable
//! through it.

use super::error::ApiError;
use super::json::ApiJson;
use crate::agent::Agent;
use crate::remote::JoinClient;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{Method, StatusCode, Uri};
use axum::routing::post;
use axum::{Extension, Json, Router};
use lqx_api::{ErrorCode, PeerJoinRequest, PeerJoinResponse};
use std::sync::Arc;

/// The join request's path.
pub const PATH: &str = "/join";
/// A join request is a few hundred bytes.
const MAX_BODY_BYTES: usize = 16 << 10;

/// The join channel's router.
pub fn router(agent: Arc<Agent>) -> Router {
    Router::new()
        .route(PATH, post(join))
        .fallback(elsewhere)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            super::panicked,
        ))
        .with_state(agent)
}

async fn join(
    State(agent): State<Arc<Agent>>,
    Extension(client): Extension<JoinClient>,
    ApiJson(request): ApiJson<PeerJoinRequest>,
) -> Result<Json<PeerJoinResponse>, ApiError> {
    Ok(Json(agent.cluster().admit(&request, client.addr).await?))
}

async fn elsewhere(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        format!(
            "the join channel serves only POST {PATH}, not {method} {}; the API needs a client \
             certificate",
            uri.path()
        ),
    )
}
