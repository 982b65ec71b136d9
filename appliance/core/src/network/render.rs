//! Rendering a validated [`NetworkConfig`] into systemd configuration
//! files. Pure: the caller writes the files and asks the daemons to
//! reload.

use lqx_api::{BondMode, Ipv4Config, Ipv6Config, LinkConfig, LinkKind, NetworkConfig};
use std::fmt::Write as _;

/// Prefix of every networkd file lqxd owns; files with it that a new
/// rendering does not contain are removed.
pub const OWNED_PREFIX: &str = "10-lqx-";

/// Name of the file that masks the image's fallback (DHCP on every NIC):
/// the same name under /etc overrides the one under /usr/lib, so NICs the
/// configuration does not list get no address.
pub const FALLBACK_MASK: &str = "99-lqx-default-dhcp.network";

/// Drop-in name for resolved.conf.d and timesyncd.conf.d.
pub const DROP_IN: &str = "50-lqx.conf";

/// One file, relative to /etc/systemd.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedFile {
    /// Path under /etc/systemd, e.g. `network/10-lqx-eth0.network`.
    pub path: String,
    /// Contents.
    pub contents: String,
}

/// Every file `config` needs, in a stable order. `config` must have
/// passed [`super::validate`].
pub fn render(config: &NetworkConfig) -> Vec<RenderedFile> {
    let mut files = vec![];
    let header =
        "# Written by lqxd from its network configuration; changes here are overwritten.\n";
    for link in &config.links {
        match &link.kind {
            LinkKind::Ethernet => {}
            LinkKind::Bond { members, mode } => {
                files.push(file(
                    format!("{OWNED_PREFIX}{}.netdev", link.name),
                    format!("{header}{}", bond_netdev(&link.name, *mode)),
                ));
                for member in members {
                    files.push(file(
                        format!("{OWNED_PREFIX}{member}.network"),
                        format!(
                            "{header}[Match]\nName={member}\n\n[Network]\nBond={}\nLinkLocalAddressing=no\n",
                            link.name
                        ),
                    ));
                }
            }
            LinkKind::Vlan { id, .. } => files.push(file(
                format!("{OWNED_PREFIX}{}.netdev", link.name),
                format!(
                    "{header}[NetDev]\nName={}\nKind=vlan\n{}\n[VLAN]\nId={id}\n",
                    link.name,
                    link.mtu
                        .map(|m| format!("MTUBytes={m}\n"))
                        .unwrap_or_default()
                ),
            )),
        }
        files.push(file(
            format!("{OWNED_PREFIX}{}.network", link.name),
            format!("{header}{}", network_file(link, config)),
        ));
    }
    files.push(file(
        FALLBACK_MASK.to_string(),
        format!(
            "{header}# NICs the configuration does not list stay without addresses.\n\
             [Match]\nKind=!*\nType=ether\n\n[Network]\nDHCP=no\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n"
        ),
    ));
    let mut resolved = format!("{header}[Resolve]\n");
    if !config.dns.servers.is_empty() {
        let _ = writeln!(resolved, "DNS={}", trimmed(&config.dns.servers).join(" "));
    }
    if !config.dns.search.is_empty() {
        let _ = writeln!(
            resolved,
            "Domains={}",
            trimmed(&config.dns.search).join(" ")
        );
    }
    files.push(RenderedFile {
        path: format!("resolved.conf.d/{DROP_IN}"),
        contents: resolved,
    });
    let mut timesyncd = format!("{header}[Time]\n");
    if !config.ntp.is_empty() {
        let _ = writeln!(timesyncd, "NTP={}", trimmed(&config.ntp).join(" "));
    }
    files.push(RenderedFile {
        path: format!("timesyncd.conf.d/{DROP_IN}"),
        contents: timesyncd,
    });
    files
}

fn file(name: String, contents: String) -> RenderedFile {
    RenderedFile {
        path: format!("network/{name}"),
        contents,
    }
}

fn trimmed(values: &[String]) -> Vec<&str> {
    values.iter().map(|v| v.trim()).collect()
}

fn bond_netdev(name: &str, mode: BondMode) -> String {
    let mut out = format!(
        "[NetDev]\nName={name}\nKind=bond\n\n[Bond]\nMode={}\nMIIMonitorSec=100ms\n",
        mode.as_str()
    );
    if mode == BondMode::Lacp {
        out.push_str("LACPTransmitRate=fast\nTransmitHashPolicy=layer3+4\n");
    }
    out
}

fn network_file(link: &LinkConfig, config: &NetworkConfig) -> String {
    let mut out = format!("[Match]\nName={}\n", link.name);
    if let LinkKind::Ethernet = link.kind {
        // A bond or VLAN device may carry the NIC's name pattern; only
        // the NIC itself is meant.
        out.push_str("Kind=!*\n");
    }
    if let Some(mtu) = link.mtu {
        let _ = write!(out, "\n[Link]\nMTUBytes={mtu}\n");
    }
    out.push_str("\n[Network]\n");
    let dhcp = match (&link.ipv4, &link.ipv6) {
        (Ipv4Config::Dhcp, Ipv6Config::Dhcp) => "yes",
        (Ipv4Config::Dhcp, _) => "ipv4",
        (_, Ipv6Config::Dhcp) => "ipv6",
        _ => "no",
    };
    let _ = writeln!(out, "DHCP={dhcp}");
    let ipv6_on = link.ipv6 != Ipv6Config::Disabled;
    let _ = writeln!(
        out,
        "LinkLocalAddressing={}",
        if ipv6_on { "ipv6" } else { "no" }
    );
    let accept_ra = matches!(link.ipv6, Ipv6Config::Slaac | Ipv6Config::Dhcp);
    let _ = writeln!(out, "IPv6AcceptRA={}", if accept_ra { "yes" } else { "no" });
    for vlan in config
        .links
        .iter()
        .filter(|l| matches!(&l.kind, LinkKind::Vlan { parent, .. } if parent == &link.name))
    {
        let _ = writeln!(out, "VLAN={}", vlan.name);
    }
    let mut gateways = vec![];
    if let Ipv4Config::Static { addresses, gateway } = &link.ipv4 {
        for a in addresses {
            let _ = writeln!(out, "Address={}", a.trim());
        }
        gateways.extend(gateway.as_deref().map(str::trim).filter(|g| !g.is_empty()));
    }
    if let Ipv6Config::Static { addresses, gateway } = &link.ipv6 {
        for a in addresses {
            let _ = writeln!(out, "Address={}", a.trim());
        }
        gateways.extend(gateway.as_deref().map(str::trim).filter(|g| !g.is_empty()));
    }
    for g in gateways {
        let _ = writeln!(out, "Gateway={g}");
    }
    if link.ipv6 == Ipv6Config::Slaac {
        out.push_str("\n[IPv6AcceptRA]\nDHCPv6Client=no\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::samples::{bonded, simple};

    fn text(config: &NetworkConfig) -> String {
        crate::network::validate(config, Some(&crate::network::samples::nics())).unwrap();
        render(config)
            .into_iter()
            .map(|f| format!("==> {} <==\n{}", f.path, f.contents))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn simple_static() {
        insta::assert_snapshot!(text(&simple()));
    }

    #[test]
    fn lacp_bond_with_management_vlan() {
        insta::assert_snapshot!(text(&bonded()));
    }

    #[test]
    fn every_owned_network_file_carries_the_prefix() {
        for f in render(&bonded()) {
            if let Some(name) = f.path.strip_prefix("network/") {
                assert!(
                    name.starts_with(OWNED_PREFIX) || name == FALLBACK_MASK,
                    "{name}"
                );
            }
        }
    }
}
