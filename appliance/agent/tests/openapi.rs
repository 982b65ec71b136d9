//! The committed OpenAPI document is the one the code generates.

#[test]
fn committed_openapi_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = format!("{}\n", lqxd::api::openapi_json());
    assert!(
        committed == generated,
        "{} is out of date: run `cargo xtask openapi` and commit the result",
        path.display()
    );
}
