//! The appliance's backend: files under /etc/systemd, then systemd-networkd,
//! hostnamed, resolved and timesyncd told over D-Bus.

use crate::files::write_owned;
use crate::{ApplyPlan, NetworkBackend, NetworkError};
use futures::TryStreamExt;
use futures::future::BoxFuture;
use lqx_systemd::ServiceManager;
use netlink_packet_route::link::{LinkAttribute, LinkMessage};
use std::path::PathBuf;
use std::sync::Arc;

#[zbus::proxy(
    interface = "org.freedesktop.network1.Manager",
    default_service = "org.freedesktop.network1",
    default_path = "/org/freedesktop/network1"
)]
trait NetworkManager {
    fn reload(&self) -> zbus::Result<()>;
    fn reconfigure_link(&self, ifindex: i32) -> zbus::Result<()>;
}

#[zbus::proxy(
    interface = "org.freedesktop.hostname1",
    default_service = "org.freedesktop.hostname1",
    default_path = "/org/freedesktop/hostname1"
)]
trait Hostname {
    fn set_static_hostname(&self, hostname: &str, interactive: bool) -> zbus::Result<()>;
}

/// systemd-networkd and friends, over the system bus.
pub struct Networkd {
    root: PathBuf,
    manager: Arc<dyn ServiceManager>,
}

impl Networkd {
    /// Files go under `root` (/etc/systemd on the appliance); `manager`
    /// restarts resolved and timesyncd when their drop-ins change.
    pub fn new(root: impl Into<PathBuf>, manager: Arc<dyn ServiceManager>) -> Self {
        Self {
            root: root.into(),
            manager,
        }
    }

    async fn apply_plan(&self, plan: &ApplyPlan) -> Result<(), NetworkError> {
        let root = self.root.clone();
        let files = plan.files.clone();
        let changes = tokio::task::spawn_blocking(move || write_owned(&root, &files))
            .await
            .map_err(NetworkError::Task)??;
        let bus = zbus::Connection::system()
            .await
            .map_err(NetworkError::Bus)?;
        let call = |call| {
            move |source| NetworkError::Call {
                service: "systemd-networkd",
                call,
                source,
            }
        };
        let networkd = NetworkManagerProxy::new(&bus)
            .await
            .map_err(NetworkError::Bus)?;
        let indexes = relink(&plan.remove_links).await?;
        networkd.reload().await.map_err(call("Reload"))?;
        // Reload reconfigures links whose file changed; a link that moves
        // from one file to another (e.g. from the image's fallback to its
        // own) is only picked up by an explicit reconfigure.
        for index in indexes {
            if let Err(error) = networkd.reconfigure_link(index as i32).await {
                tracing::debug!(index, %error, "link not reconfigured (unmanaged?)");
            }
        }
        if let Some(hostname) = &plan.hostname {
            let hostnamed = HostnameProxy::new(&bus).await.map_err(NetworkError::Bus)?;
            hostnamed
                .set_static_hostname(hostname, false)
                .await
                .map_err(|source| NetworkError::Call {
                    service: "systemd-hostnamed",
                    call: "SetStaticHostname",
                    source,
                })?;
        }
        for (dir, unit) in [
            ("resolved.conf.d", "systemd-resolved.service"),
            ("timesyncd.conf.d", "systemd-timesyncd.service"),
        ] {
            if changes.touched(dir) {
                self.manager
                    .restart_unit(unit)
                    .await
                    .map_err(NetworkError::Restart)?;
            }
        }
        Ok(())
    }
}

impl NetworkBackend for Networkd {
    fn apply<'a>(&'a self, plan: &'a ApplyPlan) -> BoxFuture<'a, Result<(), NetworkError>> {
        Box::pin(self.apply_plan(plan))
    }

    fn kind(&self) -> lqx_api::NetworkBackendKind {
        lqx_api::NetworkBackendKind::Networkd
    }
}

fn name_of(link: &LinkMessage) -> Option<&str> {
    link.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(name) => Some(name.as_str()),
        _ => None,
    })
}

/// Over one netlink connection: deletes the links named in `remove`
/// (bonds and VLANs the configuration no longer has) and returns the
/// indexes of the other links, except loopback, for networkd to
/// reconfigure.
async fn relink(remove: &[String]) -> Result<Vec<u32>, NetworkError> {
    let (connection, handle, _) = rtnetlink::new_connection().map_err(NetworkError::Netlink)?;
    let task = tokio::spawn(connection);
    let result = async {
        let links: Vec<LinkMessage> = handle
            .link()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(NetworkError::ListLinks)?;
        let mut keep = vec![];
        for link in &links {
            match name_of(link) {
                Some("lo") => {}
                Some(name) if remove.iter().any(|r| r == name) => {
                    tracing::info!(name, "deleting a link the configuration no longer has");
                    handle
                        .link()
                        .del(link.header.index)
                        .execute()
                        .await
                        .map_err(|source| NetworkError::DeleteLink {
                            name: name.to_owned(),
                            source,
                        })?;
                }
                _ => keep.push(link.header.index),
            }
        }
        Ok(keep)
    }
    .await;
    task.abort();
    result
}
