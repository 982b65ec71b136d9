//! The status screen: what an operator at the console needs first.

use super::summary::{self, row};
use crate::app::App;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

/// Services that later parts of the product configure; shown so the
/// operator sees at a glance what this host still lacks.
const NOT_YET: [&str; 2] = ["Ceph", "OVN"];

/// Draws the status screen into `area`.
pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let block = Block::new().borders(Borders::TOP).title(" Status ");
    // Wide terminals get the same rows; nothing is hidden at 80x24.
    let Some(host) = &app.host else {
        let text = vec![
            Line::raw(""),
            Line::raw(" Waiting for the host agent (lqxd) to answer..."),
        ];
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    };
    let f = &host.facts;
    let gateways: Vec<String> = f
        .default_routes
        .iter()
        .filter_map(|r| r.gateway.map(|g| g.to_string()))
        .collect();
    let dns: Vec<String> = f.dns.servers.iter().map(ToString::to_string).collect();
    let none = || "none".to_owned();
    let mut lines = Vec::new();
    if app.install.as_ref().is_some_and(|i| i.available) {
        lines.push(
            Line::raw(" Live system: press I (or Tab) to install LimiQuantix onto a disk.")
                .bold()
                .yellow(),
        );
        lines.push(Line::raw(""));
    }
    lines.extend(summary::identity_rows(host));
    lines.extend([
        row(
            "Gateway",
            if gateways.is_empty() {
                none()
            } else {
                gateways.join(", ")
            },
        ),
        row(
            "DNS",
            if dns.is_empty() {
                none()
            } else {
                dns.join(", ")
            },
        ),
    ]);
    match &host.agent.remote_api {
        Some(remote) => {
            lines.push(row(
                "API",
                summary::api_url(f, remote).map_or_else(
                    || "none yet (no management address)".into(),
                    |url| format!("{url} (mutual TLS)"),
                ),
            ));
            for (i, part) in summary::fingerprint_lines(&remote.authority_fingerprint, 48)
                .into_iter()
                .enumerate()
            {
                lines.push(row(if i == 0 { "API CA" } else { "" }, part));
            }
        }
        None => lines.push(row("API", "not served by this agent".into())),
    }
    lines.extend([
        Line::raw(""),
        row(
            "System",
            f.os.pretty_name
                .clone()
                .unwrap_or_else(|| f.kernel.name.clone()),
        ),
        row(
            "Kernel",
            format!("{} {}", f.kernel.release, f.kernel.machine),
        ),
        row(
            "CPU",
            format!(
                "{} x {}",
                f.cpu.count,
                f.cpu.model.as_deref().unwrap_or("unknown")
            ),
        ),
        row(
            "Memory",
            format!(
                "{} total, {} available",
                summary::gib(f.memory.total_bytes),
                summary::gib(f.memory.available_bytes)
            ),
        ),
        row(
            "Uptime",
            format!(
                "{}, load {:.2} {:.2} {:.2}",
                summary::uptime(f.uptime_seconds),
                f.load.one,
                f.load.five,
                f.load.fifteen
            ),
        ),
        row("VMs", "0 (no VMs yet: VMs arrive with the cluster)".into()),
        Line::raw(""),
        row("Cluster", cluster(app)),
    ]);
    lines.extend(
        NOT_YET
            .iter()
            .map(|name| row(name, "not configured".into())),
    );
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

/// The cluster row: which cluster, this host's part, and how its hosts
/// are, once read.
fn cluster(app: &App) -> String {
    let state = &app.cluster;
    let Some(status) = &state.status else {
        return "reading...".into();
    };
    let Some(config) = &status.cluster else {
        return "not a member (create or join one on the Cluster screen)".into();
    };
    let role = crate::app::cluster::role(config.role);
    let health = match &state.members {
        _ if !status.store_reachable => "store unreachable".to_owned(),
        Some(members) => super::cluster::ready_count(members),
        None => "reading the hosts...".to_owned(),
    };
    format!("{}, this host a {role}: {health}", config.name)
}
