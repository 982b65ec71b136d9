//! A probe that returns fixed facts, for unit tests.

use crate::probe::{HostProbe, ProbeError};
use futures::future::BoxFuture;
use lqx_api::{
    CpuInfo, DnsInfo, HostFacts, KernelInfo, LinkState, LoadAverage, MemoryInfo, NetworkInterface,
    OsRelease,
};
use std::sync::Mutex;
use time::OffsetDateTime;

/// Returns the facts it holds; tests may replace them or make the next
/// reads fail.
#[derive(Debug)]
pub struct FakeProbe {
    facts: Mutex<Result<HostFacts, String>>,
}

impl FakeProbe {
    /// A probe answering `facts`.
    pub fn new(facts: HostFacts) -> Self {
        Self {
            facts: Mutex::new(Ok(facts)),
        }
    }

    /// Plausible facts of a small host named `name`.
    pub fn sample(name: &str) -> HostFacts {
        HostFacts {
            hostname: name.into(),
            machine_id: Some("0123456789abcdef0123456789abcdef".into()),
            os: OsRelease {
                id: Some("debian".into()),
                name: Some("Debian GNU/Linux".into()),
                version_id: Some("13".into()),
                pretty_name: Some("Debian GNU/Linux 13 (trixie)".into()),
                image_version: None,
            },
            kernel: KernelInfo {
                name: "Linux".into(),
                release: "6.12.0-1-amd64".into(),
                version: "#1 SMP".into(),
                machine: "x86_64".into(),
            },
            boot_time: OffsetDateTime::UNIX_EPOCH,
            uptime_seconds: 60,
            cpu: CpuInfo {
                model: Some("Test CPU".into()),
                count: 4,
            },
            memory: MemoryInfo {
                total_bytes: 8 << 30,
                available_bytes: 6 << 30,
            },
            load: LoadAverage {
                one: 0.1,
                five: 0.2,
                fifteen: 0.3,
            },
            interfaces: vec![NetworkInterface {
                name: "lo".into(),
                index: 1,
                kind: None,
                mac: None,
                mtu: 65536,
                max_mtu: None,
                admin_up: true,
                link_state: LinkState::Unknown,
                carrier: Some(true),
                controller: None,
                addresses: vec![],
            }],
            default_routes: vec![],
            dns: DnsInfo::default(),
        }
    }

    /// Makes later reads fail with `message` (or succeed again with `Ok`).
    pub fn set(&self, facts: Result<HostFacts, String>) {
        *self.facts.lock().unwrap_or_else(|e| e.into_inner()) = facts;
    }
}

impl HostProbe for FakeProbe {
    fn facts(&self) -> BoxFuture<'_, Result<HostFacts, ProbeError>> {
        let answer = self.facts.lock().unwrap_or_else(|e| e.into_inner()).clone();
        Box::pin(async move {
            answer.map_err(|reason| ProbeError::Parse {
                path: "fake".into(),
                reason,
            })
        })
    }
}
