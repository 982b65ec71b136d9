//! The error envelope every failed request answers with.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Body of every error response: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// A machine-readable code and a message meant for an operator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorDetail {
    /// Stable, machine-readable error code.
    pub code: ErrorCode,
    /// Human-readable explanation; safe to show to an operator as is.
    pub message: String,
}

/// Stable error codes. Clients must accept codes they do not know
/// (they deserialize as [`ErrorCode::Unknown`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request body is not valid JSON.
    InvalidJson,
    /// The body is JSON but does not fit the expected type (wrong type,
    /// missing or unknown field).
    InvalidBody,
    /// A value in the request is not acceptable (e.g. a malformed label).
    InvalidValue,
    /// The body is not declared as `application/json`.
    UnsupportedMediaType,
    /// The body is larger than the agent accepts.
    PayloadTooLarge,
    /// No such route or object.
    NotFound,
    /// The route exists but not for this HTTP method.
    MethodNotAllowed,
    /// The caller is not allowed to use this API.
    Forbidden,
    /// A password was wrong.
    Unauthorized,
    /// Too many attempts; wait and try again.
    TooManyRequests,
    /// The request conflicts with the current state.
    Conflict,
    /// The agent failed while serving the request; nothing was changed.
    Internal,
    /// The agent could not reach a system service it needs.
    Unavailable,
    /// A code this client does not know (sent by a newer agent).
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidJson => "invalid_json",
            Self::InvalidBody => "invalid_body",
            Self::InvalidValue => "invalid_value",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PayloadTooLarge => "payload_too_large",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Forbidden => "forbidden",
            Self::Unauthorized => "unauthorized",
            Self::TooManyRequests => "too_many_requests",
            Self::Conflict => "conflict",
            Self::Internal => "internal",
            Self::Unavailable => "unavailable",
            Self::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ErrorBody {
    /// Builds an error body from a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code,
                message: message.into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_is_the_documented_envelope() {
        let body = ErrorBody::new(ErrorCode::NotFound, "no route GET /v1/nope");
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"error": {"code": "not_found", "message": "no route GET /v1/nope"}})
        );
    }

    #[test]
    fn as_str_matches_serde() {
        for code in [
            ErrorCode::InvalidJson,
            ErrorCode::InvalidBody,
            ErrorCode::InvalidValue,
            ErrorCode::UnsupportedMediaType,
            ErrorCode::PayloadTooLarge,
            ErrorCode::NotFound,
            ErrorCode::MethodNotAllowed,
            ErrorCode::Forbidden,
            ErrorCode::Conflict,
            ErrorCode::Internal,
            ErrorCode::Unavailable,
        ] {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }

    #[test]
    fn unknown_codes_from_newer_agents_are_accepted() {
        let body: ErrorBody =
            serde_json::from_str(r#"{"error":{"code":"quota_exceeded","message":"m"}}"#).unwrap();
        assert_eq!(body.error.code, ErrorCode::Unknown);
    }
}
