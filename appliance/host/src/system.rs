//! The real host.

use crate::netlink;
use crate::parse;
use crate::probe::{HostProbe, ProbeError};
use futures::future::BoxFuture;
use lqx_api::{CpuInfo, DnsInfo, HostFacts, KernelInfo};
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// Where the system files are; tests point these at fixture trees.
#[derive(Clone, Debug)]
pub struct SystemPaths {
    /// procfs mount point.
    pub proc: PathBuf,
    /// `os-release` candidates, first existing wins.
    pub os_release: Vec<PathBuf>,
    /// The machine id file.
    pub machine_id: PathBuf,
    /// Resolver files, first existing wins. resolved's upstream list comes
    /// before `/etc/resolv.conf`, which on a resolved host names only the
    /// local stub.
    pub resolv_conf: Vec<PathBuf>,
}

impl Default for SystemPaths {
    fn default() -> Self {
        Self {
            proc: "/proc".into(),
            os_release: vec!["/etc/os-release".into(), "/usr/lib/os-release".into()],
            machine_id: "/etc/machine-id".into(),
            resolv_conf: vec![
                "/run/systemd/resolve/resolv.conf".into(),
                "/etc/resolv.conf".into(),
            ],
        }
    }
}

/// Reads the host this process runs on.
#[derive(Clone, Debug, Default)]
pub struct SystemProbe {
    paths: SystemPaths,
}

impl SystemProbe {
    /// A probe reading the given paths.
    pub fn new(paths: SystemPaths) -> Self {
        Self { paths }
    }
}

impl HostProbe for SystemProbe {
    fn facts(&self) -> BoxFuture<'_, Result<HostFacts, ProbeError>> {
        Box::pin(async move {
            let paths = self.paths.clone();
            let files = tokio::task::spawn_blocking(move || read_files(&paths));
            let network = netlink::snapshot().await?;
            let mut facts = files.await.map_err(|e| ProbeError::Parse {
                path: "host files".into(),
                reason: e.to_string(),
            })??;
            facts.interfaces = network.interfaces;
            facts.default_routes = network.default_routes;
            Ok(facts)
        })
    }
}

fn read(path: &Path) -> Result<String, ProbeError> {
    std::fs::read_to_string(path).map_err(|source| ProbeError::Read {
        path: path.to_owned(),
        source,
    })
}

fn read_first(paths: &[PathBuf]) -> Option<(PathBuf, String)> {
    paths
        .iter()
        .find_map(|p| Some((p.clone(), std::fs::read_to_string(p).ok()?)))
}

fn parsed<T>(path: &Path, parse: impl FnOnce(&str) -> Result<T, String>) -> Result<T, ProbeError> {
    parse(&read(path)?).map_err(|reason| ProbeError::Parse {
        path: path.to_owned(),
        reason,
    })
}

/// Everything but the network, from files and system calls.
fn read_files(paths: &SystemPaths) -> Result<HostFacts, ProbeError> {
    let syscall = |call| move |source| ProbeError::Syscall { call, source };
    let hostname = nix::unistd::gethostname()
        .map_err(syscall("gethostname"))?
        .to_string_lossy()
        .into_owned();
    let uts = nix::sys::utsname::uname().map_err(syscall("uname"))?;
    let count = nix::unistd::sysconf(nix::unistd::SysconfVar::_NPROCESSORS_ONLN)
        .map_err(syscall("sysconf"))?
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(1);
    let btime = parsed(&paths.proc.join("stat"), parse::boot_time)?;
    let boot_time = OffsetDateTime::from_unix_timestamp(btime).map_err(|e| ProbeError::Parse {
        path: paths.proc.join("stat"),
        reason: e.to_string(),
    })?;
    let os = read_first(&paths.os_release)
        .map(|(_, text)| parse::os_release(&text))
        .unwrap_or_default();
    let machine_id = std::fs::read_to_string(&paths.machine_id)
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()));
    let dns = read_first(&paths.resolv_conf)
        .map(|(path, text)| {
            let r = parse::resolv_conf(&text);
            DnsInfo {
                servers: r.servers,
                search: r.search,
                source: path.display().to_string(),
            }
        })
        .unwrap_or_default();
    Ok(HostFacts {
        hostname,
        machine_id,
        os,
        kernel: KernelInfo {
            name: uts.sysname().to_string_lossy().into_owned(),
            release: uts.release().to_string_lossy().into_owned(),
            version: uts.version().to_string_lossy().into_owned(),
            machine: uts.machine().to_string_lossy().into_owned(),
        },
        boot_time,
        uptime_seconds: parsed(&paths.proc.join("uptime"), parse::uptime_seconds)?,
        cpu: CpuInfo {
            model: std::fs::read_to_string(paths.proc.join("cpuinfo"))
                .ok()
                .and_then(|t| parse::cpu_model(&t)),
            count,
        },
        memory: parsed(&paths.proc.join("meminfo"), parse::meminfo)?,
        load: parsed(&paths.proc.join("loadavg"), parse::load_average)?,
        interfaces: Vec::new(),
        default_routes: Vec::new(),
        dns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_this_machine() {
        let facts = SystemProbe::default().facts().await.unwrap();
        assert!(!facts.hostname.is_empty());
        assert!(facts.memory.total_bytes >= facts.memory.available_bytes);
        assert!(facts.cpu.count >= 1);
        assert!(
            facts.interfaces.iter().any(|i| i.name == "lo"),
            "{:?}",
            facts.interfaces
        );
        assert_eq!(facts.kernel.name, "Linux");
    }

    #[tokio::test]
    async fn missing_procfs_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let probe = SystemProbe::new(SystemPaths {
            proc: dir.path().to_owned(),
            ..SystemPaths::default()
        });
        let err = probe.facts().await.unwrap_err();
        assert!(err.to_string().contains("stat"), "{err}");
    }

    #[tokio::test]
    async fn fixture_tree_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::write(p.join("stat"), "cpu 1\nbtime 1700000000\n").unwrap();
        std::fs::write(p.join("uptime"), "42.5 1.0\n").unwrap();
        std::fs::write(p.join("meminfo"), "MemTotal: 2 kB\nMemAvailable: 1 kB\n").unwrap();
        std::fs::write(p.join("loadavg"), "1.00 2.00 3.00 1/1 1\n").unwrap();
        std::fs::write(p.join("os-release"), "ID=lqx\n").unwrap();
        std::fs::write(p.join("resolv.conf"), "nameserver 192.0.2.53\n").unwrap();
        let probe = SystemProbe::new(SystemPaths {
            proc: p.to_owned(),
            os_release: vec![p.join("absent"), p.join("os-release")],
            machine_id: p.join("machine-id"),
            resolv_conf: vec![p.join("resolv.conf")],
        });
        let facts = probe.facts().await.unwrap();
        assert_eq!(facts.uptime_seconds, 42);
        assert_eq!(facts.boot_time.unix_timestamp(), 1_700_000_000);
        assert_eq!(facts.memory.total_bytes, 2048);
        assert_eq!(facts.os.id.as_deref(), Some("lqx"));
        assert_eq!(facts.machine_id, None);
        assert_eq!(
            facts.dns.servers,
            vec!["192.0.2.53".parse::<std::net::IpAddr>().unwrap()]
        );
    }
}
