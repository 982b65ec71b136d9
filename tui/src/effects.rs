//! Performing effects against the agent's API. Shared by the runtime and
//! by tests that drive the console against a real agent.

use crate::event::{
    CephOp, ClusterOp, Effect, Event, Failure, JOURNAL_LINES, NetworkOp, OvnOp, SshOp,
};
use lqx_api::{ApplyRequest, InstallRequest, LeaveRequest, SetPasswordRequest, SshEnableRequest};
use lqx_client::Client;
use std::time::Duration;

/// How long creating a cluster may take: lqxd starts etcd and waits for
/// it to serve before it answers.
const INIT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a join may take: it may wait for another host's join to
/// finish first, then for this host's etcd member to catch up (the
/// `lqx` CLI waits as long).
const JOIN_TIMEOUT: Duration = Duration::from_secs(180);
/// How long leaving or removing a member may take: the store's member is
/// removed and this host's own stopped (as `lqx cluster leave` waits).
const LEAVE_TIMEOUT: Duration = Duration::from_secs(120);

/// Performs one effect and returns the event carrying its result.
pub async fn perform(client: &Client, effect: Effect) -> Event {
    match effect {
        Effect::FetchAuth => Event::Auth(client.auth().await.map_err(Failure::from)),
        Effect::SetPassword { new } => {
            let request = SetPasswordRequest { current: None, new };
            Event::PasswordSet(client.set_password(&request).await.map_err(Failure::from))
        }
        Effect::Verify { password } => Event::Verified(
            client
                .verify_password(&password)
                .await
                .map_err(Failure::from),
        ),
        Effect::FetchHost => Event::Host(client.host().await.map(Box::new).map_err(Failure::from)),
        Effect::FetchInstall => Event::Install(
            client
                .install_info()
                .await
                .map(Box::new)
                .map_err(Failure::from),
        ),
        Effect::StartInstall { disk, confirm } => Event::InstallStarted(
            client
                .install(&InstallRequest { disk, confirm })
                .await
                .map_err(Failure::from),
        ),
        Effect::Power(action) => Event::Power(client.power(action).await.map_err(Failure::from)),
        Effect::FetchNetwork => network(NetworkOp::Fetch, client.network().await),
        Effect::SaveAndApply(config) => {
            // Saving alone changes nothing on the host; the console always
            // follows a save with the apply, as one operator action.
            let result = match client.set_network(&config).await {
                Ok(_) => client.apply_network(&ApplyRequest::default()).await,
                Err(e) => Err(e),
            };
            network(NetworkOp::Apply, result)
        }
        Effect::ConfirmNetwork => network(NetworkOp::Confirm, client.confirm_network().await),
        Effect::RevertNetwork => network(NetworkOp::Revert, client.revert_network().await),
        Effect::FetchDiagnostics => {
            Event::Diagnostics(client.diagnostics().await.map_err(Failure::from))
        }
        Effect::FetchJournal { unit } => Event::Journal(
            client
                .journal(&unit, JOURNAL_LINES)
                .await
                .map_err(Failure::from),
        ),
        Effect::FetchOvn => Event::Ovn(
            OvnOp::Fetch,
            client.ovn_chassis().await.map_err(Failure::from),
        ),
        Effect::RegisterOvn(request) => Event::Ovn(
            OvnOp::Register,
            client
                .register_chassis(&request)
                .await
                .map_err(Failure::from),
        ),
        Effect::UnregisterOvn => Event::Ovn(
            OvnOp::Unregister,
            client.unregister_chassis().await.map_err(Failure::from),
        ),
        Effect::FetchCeph => Event::Ceph(CephOp::Fetch, client.ceph().await.map_err(Failure::from)),
        Effect::JoinCeph(request) => Event::Ceph(
            CephOp::Join,
            client.join_ceph(&request).await.map_err(Failure::from),
        ),
        Effect::LeaveCeph => Event::Ceph(
            CephOp::Leave,
            client.leave_ceph().await.map_err(Failure::from),
        ),
        Effect::FetchCluster => Event::Cluster(
            ClusterOp::Fetch,
            client.cluster().await.map_err(Failure::from),
        ),
        Effect::FetchMembers => Event::Members(client.members().await.map_err(Failure::from)),
        Effect::InitCluster(request) => Event::Cluster(
            ClusterOp::Init,
            client
                .clone()
                .with_timeout(INIT_TIMEOUT)
                .init_cluster(&request)
                .await
                .map_err(Failure::from),
        ),
        Effect::JoinCluster(request) => Event::Cluster(
            ClusterOp::Join,
            client
                .clone()
                .with_timeout(JOIN_TIMEOUT)
                .join_cluster(&request)
                .await
                .map_err(Failure::from),
        ),
        Effect::LeaveCluster { force } => Event::Cluster(
            ClusterOp::Leave,
            client
                .clone()
                .with_timeout(LEAVE_TIMEOUT)
                .leave_cluster(&LeaveRequest { force })
                .await
                .map_err(Failure::from),
        ),
        Effect::CreateToken(request) => {
            Event::TokenCreated(client.create_token(&request).await.map_err(Failure::from))
        }
        Effect::RemoveMember { host } => Event::MemberRemoved(
            client
                .clone()
                .with_timeout(LEAVE_TIMEOUT)
                .remove_member(&host, false)
                .await
                .map_err(Failure::from),
        ),
        Effect::FetchSsh => Event::Ssh(SshOp::Fetch, client.ssh().await.map_err(Failure::from)),
        Effect::EnableSsh { minutes, password } => Event::Ssh(
            SshOp::Enable,
            client
                .enable_ssh(&SshEnableRequest { minutes, password })
                .await
                .map_err(Failure::from),
        ),
        Effect::DisableSsh => Event::Ssh(
            SshOp::Disable,
            client.disable_ssh().await.map_err(Failure::from),
        ),
    }
}

fn network(
    op: NetworkOp,
    result: Result<lqx_api::NetworkStatus, lqx_client::ClientError>,
) -> Event {
    Event::Network(op, result.map(Box::new).map_err(Failure::from))
}
