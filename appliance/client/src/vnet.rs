//! The virtual network routes.

use crate::{Client, ClientError, percent_encode};
use hyper::Method;
use lqx_api::{
    FloatingIp, FloatingIpAssociate, FloatingIpCreate, LoadBalancer, LoadBalancerCreate, Network,
    NetworkCreate, OvnCentral, Port, PortCreate, Router, RouterCreate, RouterGateway,
    RouterNetwork, SecurityGroup, SecurityGroupCreate, SecurityRule, SecurityRuleCreate, VnetSync,
};

impl Client {
    /// `GET /v1/ovn/central`.
    pub async fn ovn_central(&self) -> Result<OvnCentral, ClientError> {
        self.call(Method::GET, "/v1/ovn/central", None::<&()>).await
    }

    /// `PUT /v1/ovn/central`.
    pub async fn set_ovn_central(&self, request: &OvnCentral) -> Result<OvnCentral, ClientError> {
        self.call(Method::PUT, "/v1/ovn/central", Some(request))
            .await
    }

    /// `GET /v1/ovn/sync`.
    pub async fn ovn_sync(&self) -> Result<VnetSync, ClientError> {
        self.call(Method::GET, "/v1/ovn/sync", None::<&()>).await
    }

    /// `GET /v1/networks`.
    pub async fn networks(&self) -> Result<Vec<Network>, ClientError> {
        self.call(Method::GET, "/v1/networks", None::<&()>).await
    }

    /// `POST /v1/networks`.
    pub async fn create_network(&self, request: &NetworkCreate) -> Result<Network, ClientError> {
        self.call(Method::POST, "/v1/networks", Some(request)).await
    }

    /// `GET /v1/networks/{network}`.
    pub async fn network_named(&self, name: &str) -> Result<Network, ClientError> {
        let path = format!("/v1/networks/{}", percent_encode(name));
        self.call(Method::GET, &path, None::<&()>).await
    }

    /// `DELETE /v1/networks/{network}`.
    pub async fn delete_network(&self, name: &str) -> Result<(), ClientError> {
        let path = format!("/v1/networks/{}", percent_encode(name));
        self.call_empty(Method::DELETE, &path, None::<&()>).await
    }

    /// `GET /v1/routers`.
    pub async fn routers(&self) -> Result<Vec<Router>, ClientError> {
        self.call(Method::GET, "/v1/routers", None::<&()>).await
    }

    /// `POST /v1/routers`.
    pub async fn create_router(&self, request: &RouterCreate) -> Result<Router, ClientError> {
        self.call(Method::POST, "/v1/routers", Some(request)).await
    }

    /// `GET /v1/routers/{router}`.
    pub async fn router(&self, name: &str) -> Result<Router, ClientError> {
        let path = format!("/v1/routers/{}", percent_encode(name));
        self.call(Method::GET, &path, None::<&()>).await
    }

    /// `DELETE /v1/routers/{router}`.
    pub async fn delete_router(&self, name: &str) -> Result<(), ClientError> {
        let path = format!("/v1/routers/{}", percent_encode(name));
        self.call_empty(Method::DELETE, &path, None::<&()>).await
    }

    /// `POST /v1/routers/{router}/networks`.
    pub async fn attach_network(&self, router: &str, network: &str) -> Result<Router, ClientError> {
        let path = format!("/v1/routers/{}/networks", percent_encode(router));
        let body = RouterNetwork {
            network: network.to_owned(),
        };
        self.call(Method::POST, &path, Some(&body)).await
    }

    /// `DELETE /v1/routers/{router}/networks/{network}`.
    pub async fn detach_network(&self, router: &str, network: &str) -> Result<Router, ClientError> {
        let path = format!(
            "/v1/routers/{}/networks/{}",
            percent_encode(router),
            percent_encode(network)
        );
        self.call(Method::DELETE, &path, None::<&()>).await
    }

    /// `PUT /v1/routers/{router}/gateway`.
    pub async fn set_gateway(
        &self,
        router: &str,
        network: &str,
    ) -> Result<RouterGateway, ClientError> {
        let path = format!("/v1/routers/{}/gateway", percent_encode(router));
        let body = RouterNetwork {
            network: network.to_owned(),
        };
        self.call(Method::PUT, &path, Some(&body)).await
    }

    /// `DELETE /v1/routers/{router}/gateway`.
    pub async fn clear_gateway(&self, router: &str) -> Result<(), ClientError> {
        let path = format!("/v1/routers/{}/gateway", percent_encode(router));
        self.call_empty(Method::DELETE, &path, None::<&()>).await
    }

    /// `GET /v1/floating-ips`.
    pub async fn floating_ips(&self) -> Result<Vec<FloatingIp>, ClientError> {
        self.call(Method::GET, "/v1/floating-ips", None::<&()>)
            .await
    }

    /// `POST /v1/floating-ips`.
    pub async fn create_floating_ip(
        &self,
        request: &FloatingIpCreate,
    ) -> Result<FloatingIp, ClientError> {
        self.call(Method::POST, "/v1/floating-ips", Some(request))
            .await
    }

    /// `POST /v1/floating-ips/{fip}/associate`.
    pub async fn associate_floating_ip(
        &self,
        fip: &str,
        port: &str,
    ) -> Result<FloatingIp, ClientError> {
        let path = format!("/v1/floating-ips/{}/associate", percent_encode(fip));
        let body = FloatingIpAssociate {
            port: port.to_owned(),
        };
        self.call(Method::POST, &path, Some(&body)).await
    }

    /// `POST /v1/floating-ips/{fip}/disassociate`.
    pub async fn disassociate_floating_ip(&self, fip: &str) -> Result<FloatingIp, ClientError> {
        let path = format!("/v1/floating-ips/{}/disassociate", percent_encode(fip));
        self.call(Method::POST, &path, None::<&()>).await
    }

    /// `DELETE /v1/floating-ips/{fip}`.
    pub async fn delete_floating_ip(&self, fip: &str) -> Result<(), ClientError> {
        let path = format!("/v1/floating-ips/{}", percent_encode(fip));
        self.call_empty(Method::DELETE, &path, None::<&()>).await
    }

    /// `GET /v1/security-groups`.
    pub async fn security_groups(&self) -> Result<Vec<SecurityGroup>, ClientError> {
        self.call(Method::GET, "/v1/security-groups", None::<&()>)
            .await
    }

    /// `POST /v1/security-groups`.
    pub async fn create_security_group(
        &self,
        request: &SecurityGroupCreate,
    ) -> Result<SecurityGroup, ClientError> {
        self.call(Method::POST, "/v1/security-groups", Some(request))
            .await
    }

    /// `GET /v1/security-groups/{group}`.
    pub async fn security_group(&self, name: &str) -> Result<SecurityGroup, ClientError> {
        let path = format!("/v1/security-groups/{}", percent_encode(name));
        self.call(Method::GET, &path, None::<&()>).await
    }

    /// `DELETE /v1/security-groups/{group}`.
    pub async fn delete_security_group(&self, name: &str) -> Result<(), ClientError> {
        let path = format!("/v1/security-groups/{}", percent_encode(name));
        self.call_empty(Method::DELETE, &path, None::<&()>).await
    }

    /// `POST /v1/security-groups/{group}/rules`.
    pub async fn add_rule(
        &self,
        group: &str,
        request: &SecurityRuleCreate,
    ) -> Result<SecurityRule, ClientError> {
        let path = format!("/v1/security-groups/{}/rules", percent_encode(group));
        self.call(Method::POST, &path, Some(request)).await
    }

    /// `DELETE /v1/security-groups/{group}/rules/{rule}`.
    pub async fn remove_rule(&self, group: &str, rule: &str) -> Result<(), ClientError> {
        let path = format!(
            "/v1/security-groups/{}/rules/{}",
            percent_encode(group),
            percent_encode(rule)
        );
        self.call_empty(Method::DELETE, &path, None::<&()>).await
    }

    /// `GET /v1/load-balancers`.
    pub async fn load_balancers(&self) -> Result<Vec<LoadBalancer>, ClientError> {
        self.call(Method::GET, "/v1/load-balancers", None::<&()>)
            .await
    }

    /// `POST /v1/load-balancers`.
    pub async fn create_load_balancer(
        &self,
        request: &LoadBalancerCreate,
    ) -> Result<LoadBalancer, ClientError> {
        self.call(Method::POST, "/v1/load-balancers", Some(request))
            .await
    }

    /// `DELETE /v1/load-balancers/{lb}`.
    pub async fn delete_load_balancer(&self, name: &str) -> Result<(), ClientError> {
        let path = format!("/v1/load-balancers/{}", percent_encode(name));
        self.call_empty(Method::DELETE, &path, None::<&()>).await
    }

    /// `GET /v1/ports`.
    pub async fn ports(&self) -> Result<Vec<Port>, ClientError> {
        self.call(Method::GET, "/v1/ports", None::<&()>).await
    }

    /// `POST /v1/ports`.
    pub async fn create_port(&self, request: &PortCreate) -> Result<Port, ClientError> {
        self.call(Method::POST, "/v1/ports", Some(request)).await
    }

    /// `GET /v1/ports/{port}`.
    pub async fn port(&self, name: &str) -> Result<Port, ClientError> {
        let path = format!("/v1/ports/{}", percent_encode(name));
        self.call(Method::GET, &path, None::<&()>).await
    }

    /// `DELETE /v1/ports/{port}`.
    pub async fn delete_port(&self, name: &str) -> Result<(), ClientError> {
        let path = format!("/v1/ports/{}", percent_encode(name));
        self.call_empty(Method::DELETE, &path, None::<&()>).await
    }
}
