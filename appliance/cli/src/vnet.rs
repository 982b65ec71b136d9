//! `lqx network` (virtual networks), `lqx router`, `lqx floating-ip`,
//! `lqx security-group`, `lqx lb`, `lqx port`, `lqx ovn central|sync`:
//! their arguments, requests and text output.

use crate::{invalid, show};
use clap::{Subcommand, ValueEnum};
use lqx_api::{
    Direction, FloatingIpCreate, LbProtocol, LoadBalancerCreate, NetworkCreate, OvnCentral,
    PortCreate, Protocol, RouterCreate, SecurityGroupCreate, SecurityRuleCreate,
};
use lqx_client::{Client, ClientError};
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};

/// The options of `lqx network create`.
#[derive(Debug, clap::Args)]
pub struct NetworkCreateArgs {
    /// Its name: a-z, 0-9 and '-'.
    pub name: String,
    /// Its subnets: an IPv4 one (10.0.0.0/24), an IPv6 /64 (fd00:1::/64),
    /// or one of each (give --subnet twice). On IPv6, ports take their
    /// EUI-64 addresses by SLAAC from the router the network is attached
    /// to.
    #[arg(long, value_name = "CIDR")]
    pub subnet: Vec<String>,
    /// The gateway of a subnet (IPv4 or IPv6, once each); default the
    /// subnet's first address.
    #[arg(long, value_name = "IP")]
    pub gateway: Vec<IpAddr>,
    /// Serve DHCP (OVN answers it): DHCPv4, and stateless DHCPv6 (DNS)
    /// on an IPv6 subnet.
    #[arg(long)]
    pub dhcp: bool,
    /// DNS servers handed out by DHCP (IPv4 ones by DHCPv4, IPv6 ones by
    /// DHCPv6).
    #[arg(long, value_name = "IP", num_args = 1..)]
    pub dns: Vec<IpAddr>,
    /// The MTU handed out by DHCP.
    #[arg(long)]
    pub mtu: Option<u16>,
    /// A provider network: the physical network name hosts map to a
    /// bridge.
    #[arg(long, value_name = "NAME")]
    pub physnet: Option<String>,
    /// Its VLAN on the physical network.
    #[arg(long, value_name = "ID", requires = "physnet")]
    pub vlan: Option<u16>,
}

/// `lqx router ...`.
#[derive(Debug, Subcommand)]
pub enum RouterCommand {
    /// Creates a router.
    Create {
        /// Its name.
        name: String,
    },
    /// The routers.
    List,
    /// A router.
    Show {
        /// The router.
        router: String,
    },
    /// Deletes a router without attached networks.
    Delete {
        /// The router.
        router: String,
    },
    /// Attaches a network (the router becomes its gateway).
    Attach {
        /// The router.
        router: String,
        /// The network.
        network: String,
    },
    /// Detaches a network.
    Detach {
        /// The router.
        router: String,
        /// The network.
        network: String,
    },
    /// Sets (--external) or clears (--clear) the external gateway.
    Gateway {
        /// The router.
        router: String,
        /// The external network.
        #[arg(long, value_name = "NETWORK", conflicts_with = "clear")]
        external: Option<String>,
        /// Clear the gateway.
        #[arg(long)]
        clear: bool,
    },
}

/// `lqx floating-ip ...`.
#[derive(Debug, Subcommand)]
pub enum FloatingIpCommand {
    /// Takes an address from an external network.
    Create {
        /// The external network.
        #[arg(long, value_name = "NETWORK")]
        external: String,
        /// The address; default the first free one.
        #[arg(long)]
        ip: Option<Ipv4Addr>,
    },
    /// The floating IPs.
    List,
    /// Translates it to a port.
    Associate {
        /// The address (or id).
        ip: String,
        /// The port (name or id).
        port: String,
    },
    /// Stops translating it.
    Disassociate {
        /// The address (or id).
        ip: String,
    },
    /// Gives it back.
    Delete {
        /// The address (or id).
        ip: String,
    },
}

/// `lqx security-group ...`.
#[derive(Debug, Subcommand)]
pub enum SecurityGroupCommand {
    /// Creates a group (all egress allowed, no ingress but replies).
    Create {
        /// Its name.
        name: String,
        /// What it is for.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// The groups.
    List,
    /// A group and its rules.
    Show {
        /// The group.
        group: String,
    },
    /// Deletes an unused group.
    Delete {
        /// The group.
        group: String,
    },
    /// Its rules.
    Rule {
        /// What to do.
        #[command(subcommand)]
        command: RuleCommand,
    },
}

/// Ingress or egress.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DirectionArg {
    /// Into the group's ports.
    Ingress,
    /// Out of them.
    Egress,
}

/// A rule's protocol.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ProtocolArg {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP.
    Icmp,
    /// Any IPv4.
    Any,
}

/// `lqx security-group rule ...`.
#[derive(Debug, Subcommand)]
pub enum RuleCommand {
    /// Adds a rule.
    Add {
        /// The group.
        group: String,
        /// Ingress or egress.
        #[arg(long, value_enum)]
        direction: DirectionArg,
        /// The protocol.
        #[arg(long, value_enum)]
        protocol: ProtocolArg,
        /// A port or range, N or N-M (tcp and udp).
        #[arg(long, value_name = "N[-M]")]
        port: Option<String>,
        /// The peer's addresses (`--remote` is the global option naming
        /// a remote API).
        #[arg(long, value_name = "CIDR", conflicts_with = "remote_group")]
        remote_cidr: Option<String>,
        /// The peer: the ports of this group.
        #[arg(long, value_name = "GROUP")]
        remote_group: Option<String>,
    },
    /// Removes a rule by id.
    Remove {
        /// The group.
        group: String,
        /// The rule's id.
        rule: String,
    },
}

/// `lqx lb ...`.
#[derive(Debug, Subcommand)]
pub enum LbCommand {
    /// Creates a load balancer.
    Create {
        /// Its name.
        name: String,
        /// The virtual address, IP:PORT.
        #[arg(long)]
        vip: String,
        /// A backend, IP:PORT (repeat).
        #[arg(long = "member", value_name = "IP:PORT", required = true)]
        members: Vec<String>,
        /// tcp or udp.
        #[arg(long, value_enum, default_value_t = LbProtocolArg::Tcp)]
        protocol: LbProtocolArg,
        /// The network whose ports reach it.
        #[arg(long)]
        network: String,
        /// Check members and send only to live ones.
        #[arg(long)]
        health_check: bool,
    },
    /// The load balancers.
    List,
    /// Deletes one.
    Delete {
        /// Its name.
        name: String,
    },
}

/// A load balancer's protocol.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LbProtocolArg {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

/// `lqx port ...`.
#[derive(Debug, Subcommand)]
pub enum PortCommand {
    /// Creates a port.
    Create {
        /// The network.
        #[arg(long)]
        network: String,
        /// Its name; default port-ID.
        #[arg(long)]
        name: Option<String>,
        /// Its address; default the first free one.
        #[arg(long)]
        ip: Option<Ipv4Addr>,
        /// Its MAC.
        #[arg(long)]
        mac: Option<String>,
        /// A security group (repeat).
        #[arg(long = "security-group", value_name = "GROUP")]
        security_groups: Vec<String>,
    },
    /// The ports.
    List,
    /// A port.
    Show {
        /// Its name or id.
        port: String,
    },
    /// Deletes a port no VM owns.
    Delete {
        /// Its name or id.
        port: String,
    },
}

/// `lqx network create|list|delete`, and `show NAME`.
pub async fn network_create(
    client: &Client,
    args: NetworkCreateArgs,
    json: bool,
) -> Result<(), ClientError> {
    let (subnet, subnet6) = one_per_family("--subnet", args.subnet, |c: &String| c.contains(':'))?;
    let (gateway, gateway6) = one_per_family("--gateway", args.gateway, IpAddr::is_ipv6)?;
    let request = NetworkCreate {
        name: args.name,
        subnet,
        subnet6,
        gateway: gateway.map(|g| match g {
            IpAddr::V4(g) => g,
            IpAddr::V6(_) => unreachable!("split by family"),
        }),
        gateway6: gateway6.map(|g| match g {
            IpAddr::V6(g) => g,
            IpAddr::V4(_) => unreachable!("split by family"),
        }),
        dhcp: args.dhcp,
        dns: args.dns,
        mtu: args.mtu,
        physnet: args.physnet,
        vlan: args.vlan,
    };
    let network = client.create_network(&request).await?;
    show(json, &network, network_text);
    Ok(())
}

/// Splits a repeated option into its IPv4 and IPv6 values, at most one
/// of each.
fn one_per_family<T>(
    flag: &str,
    values: Vec<T>,
    is_v6: impl Fn(&T) -> bool,
) -> Result<(Option<T>, Option<T>), ClientError> {
    let (mut v4, mut v6) = (None, None);
    for value in values {
        let slot = if is_v6(&value) { &mut v6 } else { &mut v4 };
        if slot.replace(value).is_some() {
            return Err(invalid(format!(
                "{flag}: give at most one IPv4 and one IPv6 value"
            )));
        }
    }
    Ok((v4, v6))
}

/// `lqx network show NAME`.
pub async fn network_show(client: &Client, name: &str, json: bool) -> Result<(), ClientError> {
    let network = client.network_named(name).await?;
    show(json, &network, network_text);
    Ok(())
}

/// `lqx network list`.
pub async fn network_list(client: &Client, json: bool) -> Result<(), ClientError> {
    let list = client.networks().await?;
    show(json, &list, |list| {
        let mut out = format!(
            "{:<20} {:<18} {:<15} {:>5}  ROUTERS\n",
            "NAME", "SUBNET", "GATEWAY", "PORTS"
        );
        for n in list {
            let _ = writeln!(
                out,
                "{:<20} {:<18} {:<15} {:>5}  {}",
                n.spec.name,
                n.spec.subnet.as_deref().unwrap_or("-"),
                n.spec.gateway.map_or_else(|| "-".into(), |g| g.to_string()),
                n.ports,
                n.routers.join(",")
            );
        }
        out
    });
    Ok(())
}

fn network_text(n: &lqx_api::Network) -> String {
    let mut out = format!("network {} ({})\n", n.spec.name, n.id);
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let _ = writeln!(out, "  subnet:   {}", opt(n.spec.subnet.clone()));
    let _ = writeln!(
        out,
        "  gateway:  {}",
        opt(n.spec.gateway.map(|g| g.to_string()))
    );
    if let Some(subnet6) = &n.spec.subnet6 {
        let _ = writeln!(out, "  subnet6:  {subnet6}");
        let _ = writeln!(
            out,
            "  gateway6: {}",
            opt(n.spec.gateway6.map(|g| g.to_string()))
        );
    }
    let _ = writeln!(
        out,
        "  dhcp:     {}",
        if n.spec.dhcp { "on" } else { "off" }
    );
    if !n.spec.dns.is_empty() {
        let dns: Vec<String> = n.spec.dns.iter().map(ToString::to_string).collect();
        let _ = writeln!(out, "  dns:      {}", dns.join(", "));
    }
    if let Some(mtu) = n.spec.mtu {
        let _ = writeln!(out, "  mtu:      {mtu}");
    }
    if let Some(p) = &n.spec.physnet {
        let vlan = n
            .spec
            .vlan
            .map_or_else(|| "untagged".into(), |v| format!("vlan {v}"));
        let _ = writeln!(out, "  provider: {p} ({vlan})");
    }
    let _ = writeln!(out, "  ports:    {}", n.ports);
    let _ = writeln!(
        out,
        "  routers:  {}",
        if n.routers.is_empty() {
            "-".into()
        } else {
            n.routers.join(", ")
        }
    );
    out
}

fn router_text(r: &lqx_api::Router) -> String {
    let mut out = format!("router {} ({})\n", r.name, r.id);
    let _ = writeln!(
        out,
        "  networks: {}",
        if r.networks.is_empty() {
            "-".into()
        } else {
            r.networks.join(", ")
        }
    );
    match &r.gateway {
        Some(g) => {
            let _ = writeln!(out, "  gateway:  {} on {}", g.ip, g.network);
        }
        None => out.push_str("  gateway:  -\n"),
    }
    out
}

/// `lqx router ...`.
pub async fn router(
    client: &Client,
    command: RouterCommand,
    json: bool,
) -> Result<(), ClientError> {
    match command {
        RouterCommand::Create { name } => {
            let r = client.create_router(&RouterCreate { name }).await?;
            show(json, &r, router_text);
        }
        RouterCommand::List => {
            let list = client.routers().await?;
            show(json, &list, |list| list.iter().map(router_text).collect());
        }
        RouterCommand::Show { router } => {
            let r = client.router(&router).await?;
            show(json, &r, router_text);
        }
        RouterCommand::Delete { router } => client.delete_router(&router).await?,
        RouterCommand::Attach { router, network } => {
            let r = client.attach_network(&router, &network).await?;
            show(json, &r, router_text);
        }
        RouterCommand::Detach { router, network } => {
            let r = client.detach_network(&router, &network).await?;
            show(json, &r, router_text);
        }
        RouterCommand::Gateway {
            router,
            external,
            clear,
        } => match (external, clear) {
            (Some(network), false) => {
                let g = client.set_gateway(&router, &network).await?;
                show(json, &g, |g| format!("gateway {} on {}\n", g.ip, g.network));
            }
            (None, true) => client.clear_gateway(&router).await?,
            _ => return Err(invalid("give --external NETWORK or --clear".into())),
        },
    }
    Ok(())
}

fn fip_text(f: &lqx_api::FloatingIp) -> String {
    let port = f.port.map_or_else(|| "-".into(), |p| p.to_string());
    format!(
        "{:<15} {:<16} port {} router {}\n",
        f.ip,
        f.external,
        port,
        f.router.as_deref().unwrap_or("-")
    )
}

/// `lqx floating-ip ...`.
pub async fn floating_ip(
    client: &Client,
    command: FloatingIpCommand,
    json: bool,
) -> Result<(), ClientError> {
    match command {
        FloatingIpCommand::Create { external, ip } => {
            let f = client
                .create_floating_ip(&FloatingIpCreate { external, ip })
                .await?;
            show(json, &f, fip_text);
        }
        FloatingIpCommand::List => {
            let list = client.floating_ips().await?;
            show(json, &list, |l| l.iter().map(fip_text).collect());
        }
        FloatingIpCommand::Associate { ip, port } => {
            let f = client.associate_floating_ip(&ip, &port).await?;
            show(json, &f, fip_text);
        }
        FloatingIpCommand::Disassociate { ip } => {
            let f = client.disassociate_floating_ip(&ip).await?;
            show(json, &f, fip_text);
        }
        FloatingIpCommand::Delete { ip } => client.delete_floating_ip(&ip).await?,
    }
    Ok(())
}

fn rule_text(r: &lqx_api::SecurityRule) -> String {
    let s = &r.spec;
    let ports = match (s.port_min, s.port_max) {
        (Some(a), Some(b)) if a != b => format!(" {a}-{b}"),
        (Some(a), _) => format!(" {a}"),
        _ => String::new(),
    };
    let peer = s
        .remote_cidr
        .clone()
        .or_else(|| s.remote_group.as_ref().map(|g| format!("group {g}")))
        .unwrap_or_else(|| "anywhere".into());
    format!(
        "  {} {:?} {:?}{ports} {} {peer}\n",
        r.id,
        s.direction,
        s.protocol,
        match s.direction {
            Direction::Ingress => "from",
            Direction::Egress => "to",
        }
    )
    .to_lowercase()
}

fn group_text(g: &lqx_api::SecurityGroup) -> String {
    let mut out = format!(
        "security group {} ({}), {} port(s)\n",
        g.name, g.id, g.ports
    );
    if !g.description.is_empty() {
        let _ = writeln!(out, "  {}", g.description);
    }
    for r in &g.rules {
        out.push_str(&rule_text(r));
    }
    out
}

fn port_range(text: &str) -> Result<(u16, Option<u16>), ClientError> {
    let bad = || invalid(format!("--port {text:?}: N or N-M, 1 to 65535"));
    match text.split_once('-') {
        Some((a, b)) => Ok((
            a.parse().map_err(|_| bad())?,
            Some(b.parse().map_err(|_| bad())?),
        )),
        None => Ok((text.parse().map_err(|_| bad())?, None)),
    }
}

/// `lqx security-group ...`.
pub async fn security_group(
    client: &Client,
    command: SecurityGroupCommand,
    json: bool,
) -> Result<(), ClientError> {
    match command {
        SecurityGroupCommand::Create { name, description } => {
            let g = client
                .create_security_group(&SecurityGroupCreate { name, description })
                .await?;
            show(json, &g, group_text);
        }
        SecurityGroupCommand::List => {
            let list = client.security_groups().await?;
            show(json, &list, |l| l.iter().map(group_text).collect());
        }
        SecurityGroupCommand::Show { group } => {
            let g = client.security_group(&group).await?;
            show(json, &g, group_text);
        }
        SecurityGroupCommand::Delete { group } => client.delete_security_group(&group).await?,
        SecurityGroupCommand::Rule {
            command:
                RuleCommand::Add {
                    group,
                    direction,
                    protocol,
                    port,
                    remote_cidr,
                    remote_group,
                },
        } => {
            let (port_min, port_max) = match port.as_deref().map(port_range).transpose()? {
                Some((a, b)) => (Some(a), b),
                None => (None, None),
            };
            let request = SecurityRuleCreate {
                direction: match direction {
                    DirectionArg::Ingress => Direction::Ingress,
                    DirectionArg::Egress => Direction::Egress,
                },
                protocol: match protocol {
                    ProtocolArg::Tcp => Protocol::Tcp,
                    ProtocolArg::Udp => Protocol::Udp,
                    ProtocolArg::Icmp => Protocol::Icmp,
                    ProtocolArg::Any => Protocol::Any,
                },
                port_min,
                port_max,
                remote_cidr,
                remote_group,
            };
            let r = client.add_rule(&group, &request).await?;
            show(json, &r, rule_text);
        }
        SecurityGroupCommand::Rule {
            command: RuleCommand::Remove { group, rule },
        } => client.remove_rule(&group, &rule).await?,
    }
    Ok(())
}

fn lb_text(l: &lqx_api::LoadBalancer) -> String {
    format!(
        "{} {:?} {} -> {} on {}{}\n",
        l.spec.name,
        l.spec.protocol,
        l.spec.vip,
        l.spec.members.join(","),
        l.spec.network,
        l.health_source
            .map_or_else(String::new, |s| format!(" (checked from {s})"))
    )
}

/// `lqx lb ...`.
pub async fn lb(client: &Client, command: LbCommand, json: bool) -> Result<(), ClientError> {
    match command {
        LbCommand::Create {
            name,
            vip,
            members,
            protocol,
            network,
            health_check,
        } => {
            let request = LoadBalancerCreate {
                name,
                vip,
                members,
                protocol: match protocol {
                    LbProtocolArg::Tcp => LbProtocol::Tcp,
                    LbProtocolArg::Udp => LbProtocol::Udp,
                },
                network,
                health_check,
            };
            let l = client.create_load_balancer(&request).await?;
            show(json, &l, lb_text);
        }
        LbCommand::List => {
            let list = client.load_balancers().await?;
            show(json, &list, |l| l.iter().map(lb_text).collect());
        }
        LbCommand::Delete { name } => client.delete_load_balancer(&name).await?,
    }
    Ok(())
}

fn port_text(p: &lqx_api::Port) -> String {
    format!(
        "{:<24} {:<16} {:<17} {:<15} {:<25} {:<5} {}\n",
        p.name,
        p.network,
        p.mac,
        p.ip.map_or_else(|| "-".into(), |i| i.to_string()),
        p.ip6.map_or_else(|| "-".into(), |i| i.to_string()),
        match p.up {
            Some(true) => "up",
            Some(false) => "down",
            None => "-",
        },
        p.security_groups.join(",")
    )
}

/// `lqx port ...`.
pub async fn port(client: &Client, command: PortCommand, json: bool) -> Result<(), ClientError> {
    match command {
        PortCommand::Create {
            network,
            name,
            ip,
            mac,
            security_groups,
        } => {
            let request = PortCreate {
                name,
                network,
                ip,
                mac,
                security_groups,
            };
            let p = client.create_port(&request).await?;
            show(json, &p, port_text);
        }
        PortCommand::List => {
            let list = client.ports().await?;
            show(json, &list, |l| l.iter().map(port_text).collect());
        }
        PortCommand::Show { port } => {
            let p = client.port(&port).await?;
            show(json, &p, port_text);
        }
        PortCommand::Delete { port } => client.delete_port(&port).await?,
    }
    Ok(())
}

/// `lqx ovn central [--nb-remote R --sb-remote R]`.
pub async fn central(
    client: &Client,
    nb_remote: Option<String>,
    sb_remote: Option<String>,
    ca_cert: Option<std::path::PathBuf>,
    json: bool,
) -> Result<(), ClientError> {
    let central = match (nb_remote, sb_remote, ca_cert) {
        (Some(nb_remote), Some(sb_remote), ca_cert) => {
            client
                .set_ovn_central(&OvnCentral {
                    nb_remote,
                    sb_remote,
                    ca_cert: ca_cert.as_deref().map(crate::read_pem).transpose()?,
                })
                .await?
        }
        (None, None, None) => client.ovn_central().await?,
        _ => {
            return Err(invalid(
                "give both --nb-remote and --sb-remote (and --ca-cert for ssl:), or nothing".into(),
            ));
        }
    };
    show(json, &central, |c| {
        let tls = if c.ca_cert.is_some() {
            "TLS: servers checked against the given authority\n"
        } else {
            ""
        };
        format!(
            "northbound: {}\nsouthbound: {}\n{tls}",
            c.nb_remote, c.sb_remote
        )
    });
    Ok(())
}

/// `lqx ovn sync`.
pub async fn sync(client: &Client, json: bool) -> Result<(), ClientError> {
    let sync = client.ovn_sync().await?;
    show(json, &sync, |s| {
        let mut out = format!("generation {} written {}\n", s.generation, s.applied);
        if let Some(w) = s.writer {
            let _ = writeln!(out, "writer: {w}");
        }
        if let Some(e) = &s.error {
            let _ = writeln!(out, "last error: {e}");
        }
        out
    });
    Ok(())
}
