//! Where an OVSDB server listens: `unix:PATH`, `tcp:IP:PORT` or
//! `ssl:IP:PORT`, as OVS and OVN spell them; lists are comma-separated.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use thiserror::Error;

/// A remote that cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("bad OVSDB remote {remote:?}: {why}")]
pub struct RemoteError {
    /// What was given.
    pub remote: String,
    /// What is wrong with it.
    pub why: String,
}

/// One server address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Remote {
    /// A Unix socket.
    Unix(PathBuf),
    /// Plain TCP.
    Tcp(SocketAddr),
    /// TLS over TCP.
    Ssl(SocketAddr),
}

impl fmt::Display for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = |a: &SocketAddr| match a.ip() {
            IpAddr::V4(ip) => format!("{ip}:{}", a.port()),
            IpAddr::V6(ip) => format!("[{ip}]:{}", a.port()),
        };
        match self {
            Remote::Unix(path) => write!(f, "unix:{}", path.display()),
            Remote::Tcp(a) => write!(f, "tcp:{}", host(a)),
            Remote::Ssl(a) => write!(f, "ssl:{}", host(a)),
        }
    }
}

impl std::str::FromStr for Remote {
    type Err = RemoteError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| RemoteError {
            remote: text.to_owned(),
            why: why.to_owned(),
        };
        let (scheme, rest) = text
            .split_once(':')
            .ok_or_else(|| bad("expected unix:PATH, tcp:IP:PORT or ssl:IP:PORT"))?;
        match scheme {
            "unix" if rest.starts_with('/') => Ok(Remote::Unix(rest.into())),
            "unix" => Err(bad("the socket path must be absolute")),
            "tcp" | "ssl" => {
                let (ip, port) = match rest.strip_prefix('[') {
                    Some(v6) => v6
                        .split_once("]:")
                        .ok_or_else(|| bad("expected [IPv6]:PORT"))?,
                    None => rest
                        .rsplit_once(':')
                        .ok_or_else(|| bad("expected IP:PORT"))?,
                };
                let ip: IpAddr = ip
                    .parse()
                    .map_err(|_| bad("the host must be an IP address"))?;
                let port: u16 = port
                    .parse()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| bad("the port must be 1–65535"))?;
                let addr = SocketAddr::new(ip, port);
                Ok(if scheme == "tcp" {
                    Remote::Tcp(addr)
                } else {
                    Remote::Ssl(addr)
                })
            }
            _ => Err(bad("expected unix:PATH, tcp:IP:PORT or ssl:IP:PORT")),
        }
    }
}

/// Parses a comma-separated list of remotes (at least one, no repeats).
pub fn parse_list(text: &str) -> Result<Vec<Remote>, RemoteError> {
    let mut remotes: Vec<Remote> = vec![];
    for part in text.split(',') {
        let remote: Remote = part.trim().parse()?;
        if remotes.contains(&remote) {
            return Err(RemoteError {
                remote: text.to_owned(),
                why: format!("{remote} is listed twice"),
            });
        }
        remotes.push(remote);
    }
    Ok(remotes)
}

/// Joins remotes the way OVS expects them in `ovn-remote`.
pub fn join(remotes: &[Remote]) -> String {
    remotes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_remotes_roundtrip() {
        for text in [
            "unix:/run/openvswitch/db.sock",
            "tcp:127.0.0.1:6642",
            "ssl:10.0.0.1:6642",
            "tcp:[fd00::1]:6641",
        ] {
            let remote: Remote = text.parse().unwrap();
            assert_eq!(remote.to_string(), text);
        }
        let list = parse_list("tcp:127.0.0.1:6642, tcp:127.0.0.2:6642").unwrap();
        assert_eq!(join(&list), "tcp:127.0.0.1:6642,tcp:127.0.0.2:6642");
    }

    #[test]
    fn bad_remotes_say_why() {
        for text in [
            "",
            "127.0.0.1:6642",
            "tcp:127.0.0.1",
            "tcp:hostname:6642",
            "tcp:127.0.0.1:0",
            "tcp:127.0.0.1:70000",
            "unix:relative.sock",
            "udp:127.0.0.1:1",
            "tcp:[fd00::1:6641",
        ] {
            assert!(text.parse::<Remote>().is_err(), "{text}");
        }
        assert!(parse_list("tcp:127.0.0.1:1,tcp:127.0.0.1:1").is_err());
        assert!(parse_list("tcp:127.0.0.1:1,").is_err());
    }
}
