//! A JSON body extractor whose every rejection is the API's error
//! envelope, with a message that says what to fix.

use super::error::ApiError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use lqx_api::ErrorCode;
use serde::de::DeserializeOwned;

/// Like [`axum::Json`], rejecting with [`ApiError`].
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(reject(&rejection)),
        }
    }
}

fn reject(rejection: &JsonRejection) -> ApiError {
    use std::error::Error as _;
    let detail = rejection
        .source()
        .and_then(|s| s.source())
        .map_or_else(|| rejection.body_text(), ToString::to_string);
    match rejection {
        JsonRejection::JsonSyntaxError(_) => ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidJson,
            format!("request body is not valid JSON: {detail}"),
        ),
        JsonRejection::JsonDataError(_) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidBody,
            format!("request body does not match the expected shape: {detail}"),
        ),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "request body must be sent with Content-Type: application/json",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            format!(
                "request body is larger than {} bytes",
                super::MAX_BODY_BYTES
            ),
        ),
        other => ApiError::new(
            other.status(),
            ErrorCode::InvalidBody,
            format!("cannot read request body: {}", other.body_text()),
        ),
    }
}
