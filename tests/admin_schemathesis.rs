//! Schemathesis (PyPI, pinned in scripts/bootstrap) against the admin API's
//! own OpenAPI document, with a tenant token on the demo tenant: every
//! generated request (valid and invalid) must get no server error, a
//! documented status, and a body that matches the document.
//!
//! Bounded to stay cheap: a few examples per operation, fixed seed. The
//! time it took is printed (see docs/admin-api.md for the measured cost).

mod common;

use std::time::Instant;

use common::TestDb;
use common::admin::{Api, token_for};

/// The schemathesis command (`RATIBA_SCHEMATHESIS` or `schemathesis` on
/// PATH; scripts/bootstrap --ci installs it).
fn schemathesis() -> String {
    std::env::var("RATIBA_SCHEMATHESIS").unwrap_or_else(|_| "schemathesis".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_schema_mismatch() {
    let db = TestDb::new().await;
    let demo = db.seed_demo().await;
    let rec = db.db().tenant_by_slug(demo.slug()).await.unwrap().unwrap();
    let (token, _) = token_for(&db, &rec, "+254722999001").await;
    let api = Api::start_unthrottled(&db).await;
    let bin = schemathesis();
    let started = Instant::now();
    let out = tokio::process::Command::new(&bin)
        .args([
            "run",
            &format!("{}/api/v1/openapi.json", api.base),
            "--header",
            &format!("Authorization: Bearer {token}"),
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "8",
            "--seed",
            "20261207",
            // One worker: with two, 2 runs in 5 failed inside schemathesis
            // itself (a KeyError from Hypothesis' lambda-source cache, shared
            // by the worker threads; cf. HypothesisWorks/hypothesis#4442), a
            // runtime error and not a finding. One worker is no slower here.
            "--workers",
            "1",
            "--no-shrink",
            "--request-timeout",
            "10",
            "--warnings",
            "off",
        ])
        .env("NO_COLOR", "1")
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .kill_on_drop(true)
        .output()
        .await
        .unwrap_or_else(|e| {
            panic!("cannot run {bin} ({e}): install it with scripts/bootstrap --ci")
        });
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!(
        "schemathesis took {:.1} s\n{stdout}\n{stderr}",
        started.elapsed().as_secs_f64()
    );
    assert!(out.status.success(), "schemathesis failed ({})", out.status);
}
