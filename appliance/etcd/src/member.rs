//! What one etcd member is started with: its name, addresses, data
//! directory, certificates and how it enters the cluster, rendered as
//! etcd's command-line flags.

use std::ffi::OsString;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

/// etcd's default client port.
pub const DEFAULT_CLIENT_PORT: u16 = 2379;
/// etcd's default peer port.
pub const DEFAULT_PEER_PORT: u16 = 2380;
/// The common name every member's peer certificate carries, and the only
/// one a peer listener accepts: admin client certificates, signed by the
/// same authority, must not be able to speak raft.
pub const PEER_COMMON_NAME: &str = "lqx-etcd-peer";

/// The PEM files a member serves and authenticates with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// The cluster authority's certificate: peers and clients must chain
    /// to it.
    pub ca: PathBuf,
    /// The member's certificate (server and client use, CN
    /// [`PEER_COMMON_NAME`], the host's address as SAN).
    pub cert: PathBuf,
    /// Its private key (0600).
    pub key: PathBuf,
}

/// How a member enters the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bootstrap {
    /// The first member of a new cluster; `token` keeps two clusters
    /// created from the same configuration apart.
    New {
        /// etcd's initial cluster token (the cluster's id).
        token: String,
    },
    /// A member already added with `member add`: `peers` are all members'
    /// names and peer URLs, this one's included.
    Existing {
        /// Name and peer URL of every member.
        peers: Vec<(String, String)>,
    },
    /// A member restarting from its data directory: etcd reads the
    /// membership from there and ignores the initial-cluster flags.
    Restart,
}

/// A member's configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberConfig {
    /// The member's name: the host's id.
    pub name: String,
    /// Where it keeps its data.
    pub data_dir: PathBuf,
    /// The host's address: both listeners bind to it only.
    pub address: IpAddr,
    /// The client port.
    pub client_port: u16,
    /// The peer port.
    pub peer_port: u16,
    /// Its certificates.
    pub tls: TlsFiles,
    /// How it enters the cluster.
    pub bootstrap: Bootstrap,
}

/// `https://ADDRESS:PORT`, with IPv6 addresses in brackets.
pub fn https_url(address: IpAddr, port: u16) -> String {
    format!("https://{}", SocketAddr::new(address, port))
}

impl MemberConfig {
    /// The URL other members reach this one on.
    pub fn peer_url(&self) -> String {
        https_url(self.address, self.peer_port)
    }

    /// The URL clients reach this member on.
    pub fn client_url(&self) -> String {
        https_url(self.address, self.client_port)
    }

    /// etcd's flags for this member (3.4 and 3.5 accept the same ones).
    pub fn args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        let mut flag = |name: &str, value: OsString| {
            let mut arg = OsString::from(format!("--{name}="));
            arg.push(value);
            args.push(arg);
        };
        flag("name", self.name.clone().into());
        flag("data-dir", self.data_dir.clone().into());
        flag("listen-client-urls", self.client_url().into());
        flag("advertise-client-urls", self.client_url().into());
        flag("listen-peer-urls", self.peer_url().into());
        flag("initial-advertise-peer-urls", self.peer_url().into());
        match &self.bootstrap {
            Bootstrap::New { token } => {
                flag(
                    "initial-cluster",
                    format!("{}={}", self.name, self.peer_url()).into(),
                );
                flag("initial-cluster-state", "new".into());
                flag("initial-cluster-token", token.clone().into());
            }
            Bootstrap::Existing { peers } => {
                let cluster: Vec<String> = peers
                    .iter()
                    .map(|(name, url)| format!("{name}={url}"))
                    .collect();
                flag("initial-cluster", cluster.join(",").into());
                flag("initial-cluster-state", "existing".into());
            }
            Bootstrap::Restart => {}
        }
        for prefix in ["", "peer-"] {
            flag(&format!("{prefix}cert-file"), self.tls.cert.clone().into());
            flag(&format!("{prefix}key-file"), self.tls.key.clone().into());
            flag(
                &format!("{prefix}trusted-ca-file"),
                self.tls.ca.clone().into(),
            );
            flag(&format!("{prefix}client-cert-auth"), "true".into());
        }
        flag("peer-cert-allowed-cn", PEER_COMMON_NAME.into());
        // A peer's connections come from whatever source address its
        // routing table picks (127.0.0.1 for every loopback address, the
        // primary address on a multi-homed host), not necessarily the
        // address its certificate names; the CN check above is what keeps
        // non-members out.
        flag(
            "experimental-peer-skip-client-san-verification",
            "true".into(),
        );
        // etcd 3.4 refuses `member add` for 5 s after a start unless told
        // not to; joins retry anyway and check quorum themselves.
        flag("strict-reconfig-check", "false".into());
        flag("auto-compaction-mode", "periodic".into());
        flag("auto-compaction-retention", "1h".into());
        flag("logger", "zap".into());
        flag("log-outputs", "stderr".into());
        flag("log-level", "warn".into());
        args
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(bootstrap: Bootstrap) -> MemberConfig {
        MemberConfig {
            name: "h1".into(),
            data_dir: "/var/lib/lqx/etcd".into(),
            address: "10.0.0.5".parse().unwrap(),
            client_port: DEFAULT_CLIENT_PORT,
            peer_port: DEFAULT_PEER_PORT,
            tls: TlsFiles {
                ca: "/s/ca.crt".into(),
                cert: "/s/etcd.crt".into(),
                key: "/s/etcd.key".into(),
            },
            bootstrap,
        }
    }

    fn strings(config: &MemberConfig) -> Vec<String> {
        config
            .args()
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn a_new_cluster_names_only_itself() {
        let args = strings(&config(Bootstrap::New { token: "c1".into() }));
        assert!(args.contains(&"--initial-cluster=h1=https://10.0.0.5:2380".into()));
        assert!(args.contains(&"--initial-cluster-state=new".into()));
        assert!(args.contains(&"--initial-cluster-token=c1".into()));
        assert!(args.contains(&"--listen-client-urls=https://10.0.0.5:2379".into()));
        assert!(args.contains(&"--peer-client-cert-auth=true".into()));
        assert!(args.contains(&"--client-cert-auth=true".into()));
        assert!(args.contains(&format!("--peer-cert-allowed-cn={PEER_COMMON_NAME}")));
    }

    #[test]
    fn an_existing_cluster_lists_every_peer() {
        let peers = vec![
            ("h0".into(), "https://10.0.0.4:2380".into()),
            ("h1".into(), "https://10.0.0.5:2380".into()),
        ];
        let args = strings(&config(Bootstrap::Existing { peers }));
        assert!(args.contains(
            &"--initial-cluster=h0=https://10.0.0.4:2380,h1=https://10.0.0.5:2380".into()
        ));
        assert!(args.contains(&"--initial-cluster-state=existing".into()));
        assert!(
            !args
                .iter()
                .any(|a| a.starts_with("--initial-cluster-token"))
        );
    }

    #[test]
    fn a_restart_relies_on_the_data_directory() {
        let args = strings(&config(Bootstrap::Restart));
        assert!(!args.iter().any(|a| a.starts_with("--initial-cluster")));
        assert!(args.contains(&"--data-dir=/var/lib/lqx/etcd".into()));
    }

    #[test]
    fn ipv6_urls_are_bracketed() {
        let mut c = config(Bootstrap::Restart);
        c.address = "fd00::5".parse().unwrap();
        assert_eq!(c.peer_url(), "https://[fd00::5]:2380");
    }
}
