//! The API's views of the stored records.

use super::{NetworkRecord, RouterRecord, SecurityGroupRecord, VnetState};
use lqx_api::{FloatingIp, Network, Router, SecurityGroup};

impl VnetState {
    /// A network as the API shows it.
    pub fn network_view(&self, record: &NetworkRecord) -> Network {
        let name = &record.spec.name;
        Network {
            id: record.id,
            spec: record.spec.clone(),
            ports: self.ports.values().filter(|p| &p.network == name).count(),
            routers: self
                .routers
                .values()
                .filter(|r| r.networks.contains(name))
                .map(|r| r.name.clone())
                .collect(),
        }
    }

    /// A router as the API shows it.
    pub fn router_view(record: &RouterRecord) -> Router {
        Router {
            id: record.id,
            name: record.name.clone(),
            networks: record.networks.clone(),
            gateway: record.gateway.clone(),
        }
    }

    /// A security group as the API shows it.
    pub fn security_group_view(&self, record: &SecurityGroupRecord) -> SecurityGroup {
        SecurityGroup {
            id: record.id,
            name: record.name.clone(),
            description: record.description.clone(),
            rules: record.rules.clone(),
            ports: self
                .ports
                .values()
                .filter(|p| p.security_groups.contains(&record.name))
                .count(),
        }
    }

    /// A floating IP with the router that translates it.
    pub fn floating_ip_view(&self, fip: &FloatingIp) -> FloatingIp {
        FloatingIp {
            router: self.fip_router(fip).map(|r| r.name.clone()),
            ..fip.clone()
        }
    }
}
