//! The changes the API makes to the document. Each checks everything
//! before it changes anything, so an error leaves the document as it was.
//! Ids are given by the caller (random in the agent, fixed in tests).

use super::addresses::{
    check_free, eui64, free_mac, next_free, parse_cidr, parse_endpoint, parse_subnet,
    parse_subnet6, subnet_of, subnet6_of,
};
use super::{NetworkRecord, RouterRecord, SecurityGroupRecord, VnetError, VnetState};
use crate::vm::{check_mac, is_name};
use lqx_api::{
    Direction, FloatingIp, FloatingIpCreate, LoadBalancer, LoadBalancerCreate, NetworkCreate,
    OvnCentral, Port, PortCreate, Protocol, RouterGateway, SecurityGroupCreate, SecurityRule,
    SecurityRuleCreate,
};
use std::collections::BTreeSet;
use std::net::IpAddr;
use uuid::Uuid;

fn check_name(what: &str, name: &str) -> Result<(), VnetError> {
    if is_name(name, 63) {
        Ok(())
    } else {
        Err(VnetError::Invalid(format!(
            "{what} name {name:?}: use 1 to 63 of a-z, 0-9 and '-', not at either end"
        )))
    }
}

fn physnet_ok(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b))
}

/// The parsed value, or none with the error added to `problems` (so every
/// problem of a request is reported at once).
fn noted<T>(parsed: Option<Result<T, VnetError>>, problems: &mut Vec<String>) -> Option<T> {
    match parsed.transpose() {
        Ok(value) => value,
        Err(e) => {
            problems.push(e.to_string());
            None
        }
    }
}

fn missing(what: &str, name: &str) -> VnetError {
    VnetError::NotFound(format!("no {what} {name:?}"))
}

impl VnetState {
    fn network(&self, name: &str) -> Result<&NetworkRecord, VnetError> {
        self.networks
            .get(name)
            .ok_or_else(|| missing("network", name))
    }

    fn router_mut(&mut self, name: &str) -> Result<&mut RouterRecord, VnetError> {
        self.routers
            .get_mut(name)
            .ok_or_else(|| missing("router", name))
    }

    /// Sets the OVN central databases (the caller checked the remotes'
    /// syntax).
    pub fn set_central(&mut self, central: OvnCentral) {
        self.central = Some(central);
    }

    /// Creates a network.
    pub fn create_network(
        &mut self,
        id: Uuid,
        mut spec: NetworkCreate,
    ) -> Result<NetworkRecord, VnetError> {
        check_name("network", &spec.name)?;
        if self.networks.contains_key(&spec.name) {
            return Err(VnetError::Conflict(format!(
                "a network named {:?} exists",
                spec.name
            )));
        }
        let mut problems = Vec::new();
        let subnet = noted(spec.subnet.as_deref().map(parse_subnet), &mut problems);
        if let Some(net) = subnet {
            let gateway = spec
                .gateway
                .unwrap_or_else(|| net.hosts().next().unwrap_or(net.network()));
            if !super::addresses::is_host(net, gateway) {
                problems.push(format!("gateway {gateway} is not a host address of {net}"));
            }
            spec.gateway = Some(gateway);
        } else if spec.subnet.is_none() && spec.gateway.is_some() {
            problems.push("a gateway needs a subnet".into());
        }
        let subnet6 = noted(spec.subnet6.as_deref().map(parse_subnet6), &mut problems);
        if let Some(net) = subnet6 {
            let gateway = spec
                .gateway6
                .unwrap_or_else(|| (u128::from(net.network()) | 1).into());
            let iid = u128::from(gateway) & u128::from(u64::MAX);
            if !net.contains(&gateway) || iid == 0 {
                problems.push(format!(
                    "IPv6 gateway {gateway} is not a host address of {net}"
                ));
            } else if (iid >> 24) & 0xffff == 0xfffe {
                problems.push(format!(
                    "IPv6 gateway {gateway} has the form of an EUI-64 address, which ports take"
                ));
            }
            spec.gateway6 = Some(gateway);
        } else if spec.subnet6.is_none() && spec.gateway6.is_some() {
            problems.push("an IPv6 gateway needs an IPv6 subnet".into());
        }
        if spec.dhcp && spec.subnet.is_none() && spec.subnet6.is_none() {
            problems.push("DHCP needs a subnet".into());
        }
        if spec.subnet6.is_none() && spec.dns.iter().any(IpAddr::is_ipv6) {
            problems.push("IPv6 DNS servers need an IPv6 subnet (DHCPv6 hands them out)".into());
        }
        if spec.subnet.is_none() && spec.dns.iter().any(IpAddr::is_ipv4) {
            problems.push("IPv4 DNS servers need an IPv4 subnet (DHCPv4 hands them out)".into());
        }
        if let Some(mtu) = spec.mtu
            && !(576..=9000).contains(&mtu)
        {
            problems.push(format!("MTU {mtu}: 576 to 9000"));
        }
        match (&spec.physnet, spec.vlan) {
            (Some(p), _) if !physnet_ok(p) => problems.push(format!(
                "physical network {p:?}: 1 to 64 of A-Z, a-z, 0-9, '_' and '-'"
            )),
            (None, Some(_)) => problems.push("a VLAN needs a physical network".into()),
            (_, Some(v)) if !(1..=4094).contains(&v) => {
                problems.push(format!("VLAN {v}: 1 to 4094"));
            }
            _ => {}
        }
        if !problems.is_empty() {
            return Err(VnetError::Invalid(problems.join("; ")));
        }
        let record = NetworkRecord { id, spec };
        self.networks
            .insert(record.spec.name.clone(), record.clone());
        Ok(record)
    }

    /// Deletes a network nothing uses.
    pub fn delete_network(&mut self, name: &str) -> Result<(), VnetError> {
        self.network(name)?;
        let mut users = Vec::new();
        let ports = self.ports.values().filter(|p| p.network == name).count();
        if ports > 0 {
            users.push(format!("{ports} port(s)"));
        }
        for r in self.routers.values() {
            if r.networks.iter().any(|n| n == name) {
                users.push(format!("router {:?}", r.name));
            }
            if r.gateway.as_ref().is_some_and(|g| g.network == name) {
                users.push(format!("router {:?}'s gateway", r.name));
            }
        }
        let fips = self
            .floating_ips
            .values()
            .filter(|f| f.external == name)
            .count();
        if fips > 0 {
            users.push(format!("{fips} floating IP(s)"));
        }
        for lb in self.load_balancers.values() {
            if lb.spec.network == name {
                users.push(format!("load balancer {:?}", lb.spec.name));
            }
        }
        if !users.is_empty() {
            return Err(VnetError::Conflict(format!(
                "network {name:?} is in use by {}",
                users.join(", ")
            )));
        }
        self.networks.remove(name);
        Ok(())
    }

    /// Creates a router.
    pub fn create_router(&mut self, id: Uuid, name: &str) -> Result<RouterRecord, VnetError> {
        check_name("router", name)?;
        if self.routers.contains_key(name) {
            return Err(VnetError::Conflict(format!(
                "a router named {name:?} exists"
            )));
        }
        let record = RouterRecord {
            id,
            name: name.to_owned(),
            networks: Vec::new(),
            gateway: None,
        };
        self.routers.insert(name.to_owned(), record.clone());
        Ok(record)
    }

    /// Deletes a router with no networks attached (its gateway goes with
    /// it, unless a floating IP is translated through it).
    pub fn delete_router(&mut self, name: &str) -> Result<(), VnetError> {
        let router = self
            .routers
            .get(name)
            .ok_or_else(|| missing("router", name))?;
        if !router.networks.is_empty() {
            return Err(VnetError::Conflict(format!(
                "router {name:?} still has networks attached: {}; detach them first",
                router.networks.join(", ")
            )));
        }
        self.routers.remove(name);
        Ok(())
    }

    /// The subnets of `network`, both families.
    fn subnets(&self, network: &str) -> Vec<ipnet::IpNet> {
        let v4 = subnet_of(self, network).map(ipnet::IpNet::V4);
        let v6 = subnet6_of(self, network).map(ipnet::IpNet::V6);
        v4.into_iter().chain(v6).collect()
    }

    /// Subnets the router already routes (attached and external).
    fn router_subnets(&self, router: &RouterRecord) -> Vec<(String, ipnet::IpNet)> {
        router
            .networks
            .iter()
            .chain(router.gateway.as_ref().map(|g| &g.network))
            .flat_map(|n| self.subnets(n).into_iter().map(|s| (n.clone(), s)))
            .collect()
    }

    /// `external`: the network is to be the gateway's, where only its
    /// IPv4 subnet is routed.
    fn check_no_overlap(
        &self,
        router: &RouterRecord,
        network: &str,
        external: bool,
    ) -> Result<(), VnetError> {
        let mut subnets = self.subnets(network);
        if external {
            subnets.retain(|s| s.addr().is_ipv4());
        }
        if subnets.is_empty() {
            return Err(VnetError::Invalid(format!(
                "network {network:?} has no subnet to route"
            )));
        }
        for (other, net) in self.router_subnets(router) {
            if let Some(subnet) = subnets.iter().find(|s| {
                other != network && (net.contains(&s.network()) || s.contains(&net.network()))
            }) {
                return Err(VnetError::Conflict(format!(
                    "network {network:?} ({subnet}) overlaps {other:?} ({net}) on router {:?}",
                    router.name
                )));
            }
        }
        Ok(())
    }

    /// Attaches a network: the router takes its gateway address.
    pub fn attach(&mut self, router: &str, network: &str) -> Result<(), VnetError> {
        let record = self
            .routers
            .get(router)
            .ok_or_else(|| missing("router", router))?;
        self.network(network)?;
        if record.networks.iter().any(|n| n == network) {
            return Err(VnetError::Conflict(format!(
                "network {network:?} is already attached to router {router:?}"
            )));
        }
        if let Some(other) = self.router_of(network) {
            return Err(VnetError::Conflict(format!(
                "network {network:?} is attached to router {:?}: a network has one gateway",
                other.name
            )));
        }
        if record
            .gateway
            .as_ref()
            .is_some_and(|g| g.network == network)
        {
            return Err(VnetError::Conflict(format!(
                "network {network:?} is router {router:?}'s external network"
            )));
        }
        self.check_no_overlap(record, network, false)?;
        self.router_mut(router)?.networks.push(network.to_owned());
        Ok(())
    }

    /// Detaches a network, unless a floating IP still reaches one of its
    /// ports through the router.
    pub fn detach(&mut self, router: &str, network: &str) -> Result<(), VnetError> {
        let record = self
            .routers
            .get(router)
            .ok_or_else(|| missing("router", router))?;
        if !record.networks.iter().any(|n| n == network) {
            return Err(VnetError::NotFound(format!(
                "network {network:?} is not attached to router {router:?}"
            )));
        }
        if let Some(fip) = self.floating_ips.values().find(|f| {
            f.port
                .and_then(|id| self.ports.values().find(|p| p.id == id))
                .is_some_and(|p| p.network == network)
                && record
                    .gateway
                    .as_ref()
                    .is_some_and(|g| g.network == f.external)
        }) {
            return Err(VnetError::Conflict(format!(
                "floating IP {} reaches a port of {network:?} through router {router:?}; disassociate it first",
                fip.ip
            )));
        }
        self.router_mut(router)?.networks.retain(|n| n != network);
        Ok(())
    }

    /// Sets the router's external gateway on `network`, taking an
    /// address there; attached networks are then SNATed to it.
    pub fn set_gateway(&mut self, router: &str, network: &str) -> Result<RouterGateway, VnetError> {
        let record = self
            .routers
            .get(router)
            .ok_or_else(|| missing("router", router))?;
        self.network(network)?;
        if record.networks.iter().any(|n| n == network) {
            return Err(VnetError::Conflict(format!(
                "network {network:?} is attached to router {router:?} as an internal network"
            )));
        }
        if record.gateway.is_some() {
            return Err(VnetError::Conflict(format!(
                "router {router:?} has a gateway; clear it first"
            )));
        }
        self.check_no_overlap(record, network, true)?;
        let ip = next_free(self, network)?;
        let gateway = RouterGateway {
            network: network.to_owned(),
            ip,
        };
        self.router_mut(router)?.gateway = Some(gateway.clone());
        Ok(gateway)
    }

    /// Clears the router's gateway, unless floating IPs use it.
    pub fn clear_gateway(&mut self, router: &str) -> Result<(), VnetError> {
        let record = self
            .routers
            .get(router)
            .ok_or_else(|| missing("router", router))?;
        if let Some(fip) = self
            .floating_ips
            .values()
            .find(|f| self.fip_router(f).is_some_and(|r| r.id == record.id))
        {
            return Err(VnetError::Conflict(format!(
                "floating IP {} is translated by router {router:?}; disassociate it first",
                fip.ip
            )));
        }
        self.router_mut(router)?.gateway = None;
        Ok(())
    }

    /// Takes a floating IP from an external network.
    pub fn create_floating_ip(
        &mut self,
        id: Uuid,
        request: &FloatingIpCreate,
    ) -> Result<FloatingIp, VnetError> {
        self.network(&request.external)?;
        let ip = match request.ip {
            Some(ip) => {
                check_free(self, &request.external, ip)?;
                ip
            }
            None => next_free(self, &request.external)?,
        };
        let fip = FloatingIp {
            id,
            external: request.external.clone(),
            ip,
            port: None,
            router: None,
        };
        self.floating_ips.insert(id, fip.clone());
        Ok(fip)
    }

    /// The floating IP with this id or address.
    pub fn find_floating_ip(&self, key: &str) -> Result<Uuid, VnetError> {
        self.floating_ips
            .values()
            .find(|f| f.id.to_string() == key || f.ip.to_string() == key)
            .map(|f| f.id)
            .ok_or_else(|| missing("floating IP", key))
    }

    /// Points a floating IP at a port: the port's network must be
    /// attached to a router whose gateway is on the floating IP's network.
    pub fn associate(&mut self, fip: &str, port: &str) -> Result<FloatingIp, VnetError> {
        let id = self.find_floating_ip(fip)?;
        let port = self
            .port(port)
            .ok_or_else(|| missing("port", port))?
            .clone();
        let external = self.floating_ips[&id].external.clone();
        if port.ip.is_none() {
            return Err(VnetError::Invalid(format!(
                "port {:?} has no address to translate to",
                port.name
            )));
        }
        let routed = self
            .router_of(&port.network)
            .is_some_and(|r| r.gateway.as_ref().is_some_and(|g| g.network == external));
        if !routed {
            return Err(VnetError::Conflict(format!(
                "port {:?}'s network {:?} is not attached to a router with its gateway on {external:?}",
                port.name, port.network
            )));
        }
        if let Some(other) = self
            .floating_ips
            .values()
            .find(|f| f.port == Some(port.id) && f.id != id)
        {
            return Err(VnetError::Conflict(format!(
                "port {:?} already has floating IP {}",
                port.name, other.ip
            )));
        }
        let entry = self.floating_ips.get_mut(&id).expect("found above");
        entry.port = Some(port.id);
        Ok(entry.clone())
    }

    /// Detaches a floating IP from its port.
    pub fn disassociate(&mut self, fip: &str) -> Result<FloatingIp, VnetError> {
        let id = self.find_floating_ip(fip)?;
        let entry = self.floating_ips.get_mut(&id).expect("found above");
        entry.port = None;
        Ok(entry.clone())
    }

    /// Gives a floating IP back.
    pub fn delete_floating_ip(&mut self, fip: &str) -> Result<(), VnetError> {
        let id = self.find_floating_ip(fip)?;
        self.floating_ips.remove(&id);
        Ok(())
    }

    /// Creates a security group that allows all egress.
    pub fn create_security_group(
        &mut self,
        id: Uuid,
        rule_ids: [Uuid; 1],
        request: &SecurityGroupCreate,
    ) -> Result<SecurityGroupRecord, VnetError> {
        check_name("security group", &request.name)?;
        if self.security_groups.contains_key(&request.name) {
            return Err(VnetError::Conflict(format!(
                "a security group named {:?} exists",
                request.name
            )));
        }
        if request.description.len() > 255 {
            return Err(VnetError::Invalid("description: at most 255 bytes".into()));
        }
        let record = SecurityGroupRecord {
            id,
            name: request.name.clone(),
            description: request.description.clone(),
            rules: vec![SecurityRule {
                id: rule_ids[0],
                spec: SecurityRuleCreate {
                    direction: Direction::Egress,
                    protocol: Protocol::Any,
                    port_min: None,
                    port_max: None,
                    remote_cidr: None,
                    remote_group: None,
                },
            }],
        };
        self.security_groups
            .insert(record.name.clone(), record.clone());
        Ok(record)
    }

    /// Deletes a security group no port and no other group's rule uses.
    pub fn delete_security_group(&mut self, name: &str) -> Result<(), VnetError> {
        if !self.security_groups.contains_key(name) {
            return Err(missing("security group", name));
        }
        let ports = self
            .ports
            .values()
            .filter(|p| p.security_groups.iter().any(|s| s == name))
            .count();
        if ports > 0 {
            return Err(VnetError::Conflict(format!(
                "security group {name:?} is used by {ports} port(s)"
            )));
        }
        if let Some(other) = self.security_groups.values().find(|g| {
            g.name != name
                && g.rules
                    .iter()
                    .any(|r| r.spec.remote_group.as_deref() == Some(name))
        }) {
            return Err(VnetError::Conflict(format!(
                "security group {:?} has a rule whose peer is {name:?}",
                other.name
            )));
        }
        self.security_groups.remove(name);
        Ok(())
    }

    /// Adds a rule.
    pub fn add_rule(
        &mut self,
        group: &str,
        id: Uuid,
        mut spec: SecurityRuleCreate,
    ) -> Result<SecurityRule, VnetError> {
        let record = self
            .security_groups
            .get(group)
            .ok_or_else(|| missing("security group", group))?;
        let mut problems = Vec::new();
        let ported = matches!(spec.protocol, Protocol::Tcp | Protocol::Udp);
        match (spec.port_min, spec.port_max) {
            (None, Some(_)) => problems.push("a last port needs a first port".to_owned()),
            (Some(_), _) if !ported => {
                problems.push("ports apply to tcp and udp only".to_owned());
            }
            (Some(0), _) | (_, Some(0)) => problems.push("ports are 1 to 65535".to_owned()),
            (Some(min), Some(max)) if max < min => {
                problems.push(format!("port range {min}-{max} is backwards"));
            }
            (Some(min), None) => spec.port_max = Some(min),
            _ => {}
        }
        if let Some(cidr) = &spec.remote_cidr {
            match parse_cidr(cidr) {
                Ok(net) => spec.remote_cidr = Some(net.to_string()),
                Err(e) => problems.push(e.to_string()),
            }
        }
        if let Some(peer) = &spec.remote_group {
            if spec.remote_cidr.is_some() {
                problems.push("give a remote CIDR or a remote group, not both".into());
            }
            if !self.security_groups.contains_key(peer) {
                return Err(missing("security group", peer));
            }
        }
        if !problems.is_empty() {
            return Err(VnetError::Invalid(problems.join("; ")));
        }
        if record.rules.iter().any(|r| r.spec == spec) {
            return Err(VnetError::Conflict(format!(
                "security group {group:?} already has this rule"
            )));
        }
        let rule = SecurityRule { id, spec };
        self.security_groups
            .get_mut(group)
            .expect("found above")
            .rules
            .push(rule.clone());
        Ok(rule)
    }

    /// Removes a rule by id.
    pub fn remove_rule(&mut self, group: &str, rule: Uuid) -> Result<(), VnetError> {
        let record = self
            .security_groups
            .get_mut(group)
            .ok_or_else(|| missing("security group", group))?;
        let before = record.rules.len();
        record.rules.retain(|r| r.id != rule);
        if record.rules.len() == before {
            return Err(VnetError::NotFound(format!(
                "security group {group:?} has no rule {rule}"
            )));
        }
        Ok(())
    }

    /// Creates a load balancer.
    pub fn create_load_balancer(
        &mut self,
        id: Uuid,
        spec: LoadBalancerCreate,
    ) -> Result<LoadBalancer, VnetError> {
        check_name("load balancer", &spec.name)?;
        if self.load_balancers.contains_key(&spec.name) {
            return Err(VnetError::Conflict(format!(
                "a load balancer named {:?} exists",
                spec.name
            )));
        }
        self.network(&spec.network)?;
        let vip = parse_endpoint("VIP", &spec.vip)?;
        if spec.members.is_empty() {
            return Err(VnetError::Invalid("a load balancer needs members".into()));
        }
        let mut members = BTreeSet::new();
        for m in &spec.members {
            let member = parse_endpoint("member", m)?;
            if !members.insert(member) {
                return Err(VnetError::Invalid(format!("member {m} is listed twice")));
            }
        }
        if let Some(other) = self
            .load_balancers
            .values()
            .find(|l| l.spec.vip == vip.to_string() && l.spec.protocol == spec.protocol)
        {
            return Err(VnetError::Conflict(format!(
                "load balancer {:?} already has VIP {vip}",
                other.spec.name
            )));
        }
        let subnet = subnet_of(self, &spec.network);
        if let Some(net) = subnet
            && net.contains(vip.ip())
            && super::addresses::taken(self, &spec.network).contains(vip.ip())
        {
            return Err(VnetError::Conflict(format!(
                "VIP address {} is in use on network {:?}",
                vip.ip(),
                spec.network
            )));
        }
        let health_source = if spec.health_check {
            for m in &members {
                if !self
                    .ports
                    .values()
                    .any(|p| p.network == spec.network && p.ip == Some(*m.ip()))
                {
                    return Err(VnetError::Invalid(format!(
                        "health checks need every member to be a port of {:?}; {} is not",
                        spec.network,
                        m.ip()
                    )));
                }
            }
            Some(next_free(self, &spec.network)?)
        } else {
            None
        };
        let lb = LoadBalancer {
            id,
            spec: LoadBalancerCreate {
                vip: vip.to_string(),
                members: members.iter().map(ToString::to_string).collect(),
                ..spec
            },
            health_source,
        };
        self.load_balancers.insert(lb.spec.name.clone(), lb.clone());
        Ok(lb)
    }

    /// Deletes a load balancer.
    pub fn delete_load_balancer(&mut self, name: &str) -> Result<(), VnetError> {
        self.load_balancers
            .remove(name)
            .map(drop)
            .ok_or_else(|| missing("load balancer", name))
    }

    /// Creates a port on a network, for VM `vm` when given.
    pub fn create_port(
        &mut self,
        id: Uuid,
        request: &PortCreate,
        vm: Option<Uuid>,
    ) -> Result<Port, VnetError> {
        let name = request
            .name
            .clone()
            .unwrap_or_else(|| format!("port-{}", id.simple()));
        check_name("port", &name)?;
        if self.ports.contains_key(&name) {
            return Err(VnetError::Conflict(format!("a port named {name:?} exists")));
        }
        self.network(&request.network)?;
        for group in &request.security_groups {
            if !self.security_groups.contains_key(group) {
                return Err(missing("security group", group));
            }
        }
        let mac = match &request.mac {
            Some(mac) => {
                check_mac(mac).map_err(VnetError::Invalid)?;
                let mac = mac.to_ascii_lowercase();
                if let Some(other) = self.ports.values().find(|p| p.mac == mac) {
                    return Err(VnetError::Conflict(format!(
                        "MAC {mac} is port {:?}'s",
                        other.name
                    )));
                }
                mac
            }
            None => free_mac(self, id),
        };
        let ip = match request.ip {
            Some(ip) => {
                check_free(self, &request.network, ip)?;
                Some(ip)
            }
            None if subnet_of(self, &request.network).is_some() => {
                Some(next_free(self, &request.network)?)
            }
            None => None,
        };
        let ip6 = subnet6_of(self, &request.network).and_then(|net| eui64(net, &mac));
        let mut groups = request.security_groups.clone();
        groups.sort();
        groups.dedup();
        let port = Port {
            id,
            name: name.clone(),
            network: request.network.clone(),
            mac,
            ip,
            ip6,
            security_groups: groups,
            vm,
            up: None,
        };
        self.ports.insert(name, port.clone());
        Ok(port)
    }

    /// Deletes a port; a floating IP pointing at it stays allocated,
    /// unassociated.
    pub fn delete_port(&mut self, port: &str) -> Result<Port, VnetError> {
        let found = self
            .port(port)
            .ok_or_else(|| missing("port", port))?
            .clone();
        for fip in self.floating_ips.values_mut() {
            if fip.port == Some(found.id) {
                fip.port = None;
            }
        }
        self.ports.remove(&found.name);
        Ok(found)
    }

    /// Replaces a port's security groups.
    pub fn set_port_groups(&mut self, port: &str, groups: &[String]) -> Result<Port, VnetError> {
        let name = self
            .port(port)
            .ok_or_else(|| missing("port", port))?
            .name
            .clone();
        for group in groups {
            if !self.security_groups.contains_key(group) {
                return Err(missing("security group", group));
            }
        }
        let entry = self.ports.get_mut(&name).expect("found above");
        let mut groups = groups.to_vec();
        groups.sort();
        groups.dedup();
        entry.security_groups = groups;
        Ok(entry.clone())
    }
}

#[cfg(test)]
mod tests;
