//! What the status screen says about the host, derived from the API's
//! facts.

use lqx_api::{AddressScope, HostFacts, RemoteApiInfo};

/// Management addresses: the global addresses of the interfaces that
/// carry a default route; when there is none, of every interface except
/// loopback. Formatted `iface address/prefix`.
pub fn management_addresses(facts: &HostFacts) -> Vec<String> {
    let routed: Vec<&str> = facts
        .default_routes
        .iter()
        .filter_map(|r| r.interface.as_deref())
        .collect();
    facts
        .interfaces
        .iter()
        .filter(|i| {
            if routed.is_empty() {
                i.name != "lo"
            } else {
                routed.contains(&i.name.as_str())
            }
        })
        .flat_map(|i| {
            i.addresses
                .iter()
                .filter(|a| a.scope == AddressScope::Global)
                .map(move |a| format!("{} {}/{}", i.name, a.address, a.prefix_len))
        })
        .collect()
}

/// The URL the remote API answers on: the first management address
/// (IPv4 preferred) and the port the agent listens on.
pub fn api_url(facts: &HostFacts, remote: &RemoteApiInfo) -> Option<String> {
    let port = remote
        .listen
        .parse::<std::net::SocketAddr>()
        .map_or(8443, |a| a.port());
    let routed: Vec<&str> = facts
        .default_routes
        .iter()
        .filter_map(|r| r.interface.as_deref())
        .collect();
    let mut addresses: Vec<std::net::IpAddr> = facts
        .interfaces
        .iter()
        .filter(|i| i.name != "lo" && (routed.is_empty() || routed.contains(&i.name.as_str())))
        .flat_map(|i| i.addresses.iter())
        .filter(|a| a.scope == AddressScope::Global)
        .map(|a| a.address)
        .collect();
    addresses.sort_by_key(|a| a.is_ipv6());
    addresses.first().map(|a| match a {
        std::net::IpAddr::V4(v4) => format!("https://{v4}:{port}"),
        std::net::IpAddr::V6(v6) => format!("https://[{v6}]:{port}"),
    })
}

/// A fingerprint as colon-separated byte pairs, in lines of at most
/// `width` characters, the way operators compare them.
pub fn fingerprint_lines(hex: &str, width: usize) -> Vec<String> {
    let pairs: Vec<&str> = hex
        .as_bytes()
        .chunks(2)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect();
    let per_line = (width + 1) / 3;
    pairs
        .chunks(per_line.max(1))
        .map(|chunk| chunk.join(":"))
        .collect()
}

/// Bytes as GiB with one decimal.
pub fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / f64::from(1u32 << 30))
}

/// Seconds as `1d 2h 3m`.
pub fn uptime(seconds: u64) -> String {
    let (d, h, m) = (seconds / 86_400, seconds / 3600 % 24, seconds / 60 % 60);
    if d > 0 {
        format!("{d}d {h}h {m}m")
    } else {
        format!("{h}h {m}m")
    }
}

/// One "name  value" row of the host summaries, names in a 13-column
/// bold gutter.
pub fn row(name: &str, value: String) -> ratatui::text::Line<'static> {
    use ratatui::style::Stylize;
    ratatui::text::Line::from(vec![
        ratatui::text::Span::raw(format!(" {name:<13}")).bold(),
        ratatui::text::Span::raw(value),
    ])
}

/// Which host this is: hostname, host id and management addresses, the
/// first rows of the status screen and of the password forms.
pub fn identity_rows(host: &lqx_api::HostInfo) -> [ratatui::text::Line<'static>; 3] {
    let mgmt = management_addresses(&host.facts);
    [
        row("Hostname", host.facts.hostname.clone()),
        row("Host ID", host.host_id.to_string()),
        row(
            "Management",
            if mgmt.is_empty() {
                "no address".into()
            } else {
                mgmt.join(", ")
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routed_interface_first() {
        let facts = crate::view::sample::sample_host().facts;
        assert_eq!(management_addresses(&facts), vec!["eno1 192.0.2.10/24"]);
    }

    #[test]
    fn api_url_prefers_ipv4() {
        let host = crate::view::sample::sample_host();
        let remote = host.agent.remote_api.unwrap();
        assert_eq!(
            api_url(&host.facts, &remote).as_deref(),
            Some("https://192.0.2.10:8443")
        );
    }

    #[test]
    fn without_default_route_every_global_address() {
        let mut facts = crate::view::sample::sample_host().facts;
        facts.default_routes.clear();
        assert_eq!(management_addresses(&facts), vec!["eno1 192.0.2.10/24"]);
    }
}
