//! Malformed requests get 4xx JSON errors, change nothing, and never take
//! the agent down.

use hyper::{Method, StatusCode};
use lqx_api::{ErrorBody, ErrorCode, LabelsPatch};
use lqx_test_support::AgentFixture;

async fn expect_error(
    agent: &AgentFixture,
    method: Method,
    path: &str,
    body: Option<Vec<u8>>,
    status: StatusCode,
    code: ErrorCode,
) -> String {
    let (got, bytes) = agent
        .client()
        .raw(method.clone(), path, body)
        .await
        .unwrap();
    let err: ErrorBody = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{method} {path}: not the error envelope ({e}): {bytes:?}"));
    assert_eq!(
        (got, err.error.code),
        (status, code),
        "{method} {path}: {}",
        err.error.message
    );
    assert!(!err.error.message.is_empty());
    err.error.message
}

#[tokio::test]
async fn every_bad_request_is_a_json_4xx_and_the_agent_stays_up() {
    let agent = AgentFixture::start().await;
    let client = agent.client();
    let before = client
        .patch_labels(&LabelsPatch {
            set: [("rack".into(), "r1".into())].into(),
            remove: vec![],
        })
        .await
        .unwrap();

    let labels = "/v1/host/labels";
    let msg = expect_error(
        &agent,
        Method::PATCH,
        labels,
        Some(b"{\"set\": {".to_vec()),
        StatusCode::BAD_REQUEST,
        ErrorCode::InvalidJson,
    )
    .await;
    assert!(msg.contains("not valid JSON"), "{msg}");
    let msg = expect_error(
        &agent,
        Method::PATCH,
        labels,
        Some(br#"{"set": ["a"]}"#.to_vec()),
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::InvalidBody,
    )
    .await;
    assert!(msg.contains("set"), "{msg}");
    let msg = expect_error(
        &agent,
        Method::PATCH,
        labels,
        Some(br#"{"sett": {}}"#.to_vec()),
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::InvalidBody,
    )
    .await;
    assert!(msg.contains("unknown field"), "{msg}");
    let msg = expect_error(
        &agent,
        Method::PATCH,
        labels,
        Some(br#"{"set": {"Bad Key": "v"}}"#.to_vec()),
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::InvalidValue,
    )
    .await;
    assert!(msg.contains("Bad Key"), "{msg}");
    expect_error(
        &agent,
        Method::PATCH,
        labels,
        None,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::UnsupportedMediaType,
    )
    .await;
    let msg = expect_error(
        &agent,
        Method::GET,
        "/v1/nope",
        None,
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
    )
    .await;
    assert!(msg.contains("/v1/nope"), "{msg}");
    expect_error(
        &agent,
        Method::DELETE,
        "/v1/host",
        None,
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::MethodNotAllowed,
    )
    .await;

    // 10 MiB of valid JSON: refused for its size, not parsed.
    let mut big = br#"{"set": {"k": ""#.to_vec();
    big.extend(std::iter::repeat_n(b'x', 10 << 20));
    big.extend(br#""}}"#);
    expect_error(
        &agent,
        Method::PATCH,
        labels,
        Some(big),
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::PayloadTooLarge,
    )
    .await;

    // Nothing changed and the same process still answers.
    let pid = agent.pid().unwrap();
    let info = client.agent().await.unwrap();
    assert_eq!(info.pid, pid);
    let host = client.host().await.unwrap();
    assert_eq!(host.labels, before.labels);
}
