//! `kill -9` during state writes never leaves unreadable state, and every
//! write the agent acknowledged survives.

use lqx_api::LabelsPatch;
use lqx_test_support::AgentFixture;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Crash/restart rounds. Each round kills the agent at a different point
/// of a stream of writes.
const ROUNDS: u64 = 25;

fn jitter_ms(round: u64) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    // 1..=40 ms, varying with the clock and the round.
    1 + (u64::from(nanos) ^ round.wrapping_mul(0x9e37_79b9)) % 40
}

#[tokio::test]
async fn kill_during_writes_never_corrupts_state() {
    let mut agent = AgentFixture::start().await;
    let host_id = agent.client().host().await.unwrap().host_id;
    let acknowledged = Arc::new(AtomicU64::new(0));
    let attempted = Arc::new(AtomicU64::new(0));

    for round in 0..ROUNDS {
        let client = agent.client().with_timeout(Duration::from_secs(2));
        let (ack, att) = (Arc::clone(&acknowledged), Arc::clone(&attempted));
        let writer = tokio::spawn(async move {
            loop {
                let n = att.fetch_add(1, Ordering::SeqCst) + 1;
                let patch = LabelsPatch {
                    set: [
                        ("counter".into(), n.to_string()),
                        ("pad".into(), "x".repeat(200)),
                    ]
                    .into(),
                    remove: vec![],
                };
                if client.patch_labels(&patch).await.is_err() {
                    return;
                }
                ack.fetch_max(n, Ordering::SeqCst);
            }
        });
        tokio::time::sleep(Duration::from_millis(jitter_ms(round))).await;
        agent.kill9();
        writer.await.unwrap();

        // A crash may have interrupted a write at any instant: the agent
        // must start, read its state, and show a value at least as new as
        // the last acknowledged one and no newer than the last attempted.
        agent.start_again().await;
        let host = agent.client().host().await.unwrap();
        assert_eq!(host.host_id, host_id, "identity changed in round {round}");
        let counter: u64 = host.labels.get("counter").map_or(0, |v| v.parse().unwrap());
        let (ack, att) = (
            acknowledged.load(Ordering::SeqCst),
            attempted.load(Ordering::SeqCst),
        );
        assert!(
            ack <= counter && counter <= att,
            "round {round}: counter {counter} outside [{ack}, {att}]; log:\n{}",
            agent.log()
        );
        let leftovers: Vec<_> = std::fs::read_dir(agent.state_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".tmp-"))
            .collect();
        assert!(leftovers.is_empty(), "debris after restart: {leftovers:?}");
    }
    assert!(
        acknowledged.load(Ordering::SeqCst) > ROUNDS,
        "writes actually happened"
    );
}
