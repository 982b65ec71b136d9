//! Performing effects against the agent's API. Shared by the runtime and
//! by tests that drive the console against a real agent.

use crate::event::{Effect, Event};
use lqx_api::InstallRequest;
use lqx_client::Client;

/// Performs one effect and returns the event carrying its result.
pub async fn perform(client: &Client, effect: Effect) -> Event {
    let text = |e: lqx_client::ClientError| e.to_string();
    match effect {
        Effect::FetchHost => Event::Host(client.host().await.map(Box::new).map_err(text)),
        Effect::FetchInstall => {
            Event::Install(client.install_info().await.map(Box::new).map_err(text))
        }
        Effect::StartInstall { disk, confirm } => Event::InstallStarted(
            client
                .install(&InstallRequest { disk, confirm })
                .await
                .map_err(text),
        ),
        Effect::Power(action) => Event::Power(client.power(action).await.map_err(text)),
    }
}
