//! Preflight checks of the management network: link, address, gateway
//! reachable, DNS answers, NTP synchronised. The same checks back the
//! console's diagnostics screen and the safe-apply cycle.

use lqx_api::{AddressScope, Check, CheckStatus, HostFacts, LinkState};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::io::{self, Read};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// How long one probe waits for an answer.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Runs every check for `management` (a link name) on the host as
/// `facts` describe it.
pub async fn run(facts: &HostFacts, management: Option<&str>) -> Vec<Check> {
    let link = management.and_then(|m| facts.interfaces.iter().find(|i| i.name == m));
    let mut checks = vec![];
    checks.push(match (management, link) {
        (None, _) => check(
            "link",
            CheckStatus::Fail,
            "no management link is configured",
        ),
        (Some(m), None) => check("link", CheckStatus::Fail, format!("{m} does not exist")),
        (Some(m), Some(i)) if i.link_state == LinkState::Up || i.carrier == Some(true) => {
            check("link", CheckStatus::Pass, format!("{m} is up"))
        }
        (Some(m), Some(i)) => check(
            "link",
            CheckStatus::Fail,
            format!("{m} is {:?} (no carrier?)", i.link_state).to_lowercase(),
        ),
    });
    let addresses: Vec<String> = link
        .map(|i| {
            i.addresses
                .iter()
                .filter(|a| a.scope == AddressScope::Global)
                .map(|a| format!("{}/{}", a.address, a.prefix_len))
                .collect()
        })
        .unwrap_or_default();
    checks.push(if addresses.is_empty() {
        check(
            "address",
            CheckStatus::Fail,
            "no global address on the management link",
        )
    } else {
        check("address", CheckStatus::Pass, addresses.join(", "))
    });
    checks.push(gateway_check(facts, management).await);
    checks.push(dns_check(&facts.dns.servers).await);
    checks.push(ntp_check().await);
    checks
}

fn check(name: &str, status: CheckStatus, detail: impl Into<String>) -> Check {
    Check {
        name: name.into(),
        status,
        detail: detail.into(),
    }
}

async fn gateway_check(facts: &HostFacts, management: Option<&str>) -> Check {
    let route = facts
        .default_routes
        .iter()
        .filter(|r| r.gateway.is_some())
        .find(|r| management.is_none() || r.interface.as_deref() == management)
        .or_else(|| facts.default_routes.iter().find(|r| r.gateway.is_some()));
    let Some(gateway) = route.and_then(|r| r.gateway) else {
        return check("gateway", CheckStatus::Skip, "no default gateway");
    };
    let scope = route.and_then(|r| r.interface.clone());
    match tokio::task::spawn_blocking(move || ping(gateway, PROBE_TIMEOUT, 3)).await {
        Ok(Ok(rtt)) => check(
            "gateway",
            CheckStatus::Pass,
            format!("{gateway} answered in {:.1} ms", rtt.as_secs_f64() * 1e3),
        ),
        Ok(Err(error)) => check(
            "gateway",
            CheckStatus::Fail,
            format!(
                "{gateway}{} did not answer: {error}",
                scope.map(|s| format!(" via {s}")).unwrap_or_default()
            ),
        ),
        Err(error) => check("gateway", CheckStatus::Fail, error.to_string()),
    }
}

async fn dns_check(servers: &[IpAddr]) -> Check {
    if servers.is_empty() {
        return check("dns", CheckStatus::Fail, "no DNS server configured");
    }
    let mut failures = vec![];
    for server in servers {
        match dns_probe(SocketAddr::new(*server, 53), PROBE_TIMEOUT).await {
            Ok(rcode) if rcode == 0 || rcode == 3 => {
                return check("dns", CheckStatus::Pass, format!("{server} answers"));
            }
            Ok(rcode) => failures.push(format!("{server} answered {}", rcode_name(rcode))),
            Err(error) => failures.push(format!("{server}: {error}")),
        }
    }
    check("dns", CheckStatus::Fail, failures.join("; "))
}

#[zbus::proxy(
    interface = "org.freedesktop.timedate1",
    default_service = "org.freedesktop.timedate1",
    default_path = "/org/freedesktop/timedate1"
)]
trait Timedate {
    #[zbus(property, name = "NTPSynchronized")]
    fn ntp_synchronized(&self) -> zbus::Result<bool>;
}

async fn ntp_check() -> Check {
    let synced = async {
        let bus = zbus::Connection::system().await?;
        TimedateProxy::new(&bus).await?.ntp_synchronized().await
    };
    match tokio::time::timeout(PROBE_TIMEOUT, synced).await {
        Ok(Ok(true)) => check("ntp", CheckStatus::Pass, "clock synchronised"),
        Ok(Ok(false)) => check("ntp", CheckStatus::Fail, "clock not synchronised yet"),
        Ok(Err(error)) => check(
            "ntp",
            CheckStatus::Skip,
            format!("cannot ask timedated: {error}"),
        ),
        Err(_) => check("ntp", CheckStatus::Skip, "timedated did not answer"),
    }
}

/// Sends ICMP echo requests to `addr` until one is answered or `tries`
/// have timed out; returns the round-trip time. Needs CAP_NET_RAW.
pub fn ping(addr: IpAddr, timeout: Duration, tries: u16) -> io::Result<Duration> {
    let (domain, protocol, request, reply) = match addr {
        IpAddr::V4(_) => (Domain::IPV4, Protocol::ICMPV4, 8u8, 0u8),
        IpAddr::V6(_) => (Domain::IPV6, Protocol::ICMPV6, 128, 129),
    };
    let socket = Socket::new(domain, Type::RAW, Some(protocol))?;
    socket.set_read_timeout(Some(Duration::from_millis(100)))?;
    let id = (std::process::id() & 0xffff) as u16;
    let target = SockAddr::from(SocketAddr::new(addr, 0));
    let mut last = io::Error::new(io::ErrorKind::TimedOut, "no answer");
    for seq in 1..=tries {
        let packet = echo_request(request, id, seq);
        let sent = Instant::now();
        socket.send_to(&packet, &target)?;
        let mut buf = [0u8; 1500];
        while sent.elapsed() < timeout {
            let n = match (&socket).read(&mut buf) {
                Ok(n) => n,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    continue;
                }
                Err(e) => return Err(e),
            };
            // Raw IPv4 sockets deliver the IP header; IPv6 ones do not.
            let icmp = match addr {
                IpAddr::V4(_) => {
                    let ihl = usize::from(buf[0] & 0x0f) * 4;
                    buf.get(ihl..n).unwrap_or_default()
                }
                IpAddr::V6(_) => &buf[..n],
            };
            if is_reply(icmp, reply, id, seq) {
                return Ok(sent.elapsed());
            }
        }
        last = io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no echo reply within {} s", timeout.as_secs()),
        );
    }
    Err(last)
}

fn echo_request(kind: u8, id: u16, seq: u16) -> Vec<u8> {
    let mut packet = vec![kind, 0, 0, 0];
    packet.extend_from_slice(&id.to_be_bytes());
    packet.extend_from_slice(&seq.to_be_bytes());
    packet.extend_from_slice(b"lqx-preflight-00");
    // The kernel fills in the ICMPv6 checksum; ICMPv4's is ours.
    let sum = checksum(&packet);
    packet[2..4].copy_from_slice(&sum.to_be_bytes());
    packet
}

fn is_reply(icmp: &[u8], kind: u8, id: u16, seq: u16) -> bool {
    icmp.len() >= 8
        && icmp[0] == kind
        && icmp[4..6] == id.to_be_bytes()
        && icmp[6..8] == seq.to_be_bytes()
}

/// The Internet checksum (RFC 1071).
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Asks `server` for the root zone's name servers over UDP; returns the
/// answer's response code (0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, ...).
pub async fn dns_probe(server: SocketAddr, timeout: Duration) -> io::Result<u8> {
    let bind: SocketAddr = if server.is_ipv4() {
        "0.0.0.0:0".parse().expect("literal")
    } else {
        "[::]:0".parse().expect("literal")
    };
    let socket = tokio::net::UdpSocket::bind(bind).await?;
    socket.connect(server).await?;
    let id = (std::process::id() as u16) ^ 0x5a5a;
    let mut query = vec![];
    query.extend_from_slice(&id.to_be_bytes());
    query.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    query.extend_from_slice(&[0, 0, 2, 0, 1]); // ".", NS, IN
    socket.send(&query).await?;
    let mut buf = [0u8; 1500];
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let n = tokio::time::timeout_at(deadline, socket.recv(&mut buf))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no answer"))??;
        if n >= 12 && buf[..2] == id.to_be_bytes() && buf[2] & 0x80 != 0 {
            return Ok(buf[3] & 0x0f);
        }
    }
}

fn rcode_name(rcode: u8) -> String {
    match rcode {
        1 => "FORMERR".into(),
        2 => "SERVFAIL".into(),
        4 => "NOTIMP".into(),
        5 => "REFUSED".into(),
        other => format!("rcode {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_an_echo_request_verifies() {
        let packet = echo_request(8, 0x1234, 1);
        assert_eq!(
            checksum(&packet),
            0,
            "a packet with its checksum sums to zero"
        );
        assert!(is_reply(&[0, 0, 0, 0, 0x12, 0x34, 0, 1], 0, 0x1234, 1));
        assert!(!is_reply(&[0, 0, 0, 0, 0x12, 0x34, 0, 2], 0, 0x1234, 1));
    }

    #[test]
    fn loopback_answers_ping() {
        let rtt = ping("127.0.0.1".parse().unwrap(), Duration::from_secs(1), 2).unwrap();
        assert!(rtt < Duration::from_secs(1));
    }

    #[test]
    fn no_answer_is_an_error() {
        // In a fresh network namespace loopback is down: nothing answers.
        let result = std::thread::spawn(|| {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).expect("unshare netns");
            ping("127.0.0.1".parse().unwrap(), Duration::from_millis(300), 2)
        })
        .join()
        .unwrap();
        assert!(result.is_err(), "{result:?}");
    }

    #[tokio::test]
    async fn dns_probe_reads_the_rcode_and_ignores_strangers() {
        let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = server.local_addr().unwrap();
        let responder = std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            let (n, from) = server.recv_from(&mut buf).unwrap();
            // First an answer with the wrong id, then the real SERVFAIL.
            let mut stranger = buf[..n].to_vec();
            stranger[0] ^= 0xff;
            stranger[2] |= 0x80;
            server.send_to(&stranger, from).unwrap();
            let mut answer = buf[..n].to_vec();
            answer[2] |= 0x80;
            answer[3] = (answer[3] & 0xf0) | 2;
            server.send_to(&answer, from).unwrap();
            buf[12..n].to_vec()
        });
        let rcode = dns_probe(addr, Duration::from_secs(2)).await.unwrap();
        assert_eq!(rcode, 2);
        assert_eq!(
            responder.join().unwrap(),
            [0, 0, 2, 0, 1],
            "root NS IN question"
        );
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let err = dns_probe(silent.local_addr().unwrap(), Duration::from_millis(200))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }
}
