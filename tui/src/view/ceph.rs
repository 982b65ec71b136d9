//! The Ceph screen: what the cluster says (when joined), then the join
//! form and its buttons.

use super::{framed, widgets};
use crate::app::App;
use crate::app::ceph::{CephState, FSID, JOIN, KEY, LEAVE, MONS, NAME};
use crate::event::CephOp;
use lqx_api::{CephClusterInfo, CephConfig, CephMon, CephStatus};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

/// Draws the screen.
pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let ceph = &app.ceph;
    let inner = framed(frame, area, "Ceph storage");
    let width = usize::from(inner.width);
    let mut lines = match &ceph.status {
        None => vec![Line::raw(" Reading the Ceph state...")],
        Some(status) => status_lines(status, width),
    };
    lines.push(Line::raw(""));
    form(&mut lines, ceph);
    if let Some(line) = outcome(app) {
        lines.push(Line::raw(""));
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

fn status_lines(status: &CephStatus, width: usize) -> Vec<Line<'static>> {
    let Some(config) = &status.config else {
        return vec![
            Line::raw(" Not joined: this host is no client of a Ceph cluster yet.").bold(),
            Line::raw(
                " Joining lets VM disks live on RBD volumes. The monitors check the name and \
                 key before anything is saved.",
            )
            .dim(),
        ];
    };
    let joined = config.joined_at;
    let mut lines = vec![
        Line::raw(format!(
            " Joined as {} on {} {} UTC.",
            config.name,
            joined.date(),
            widgets::clock(joined)
        ))
        .bold(),
        row("fsid", vec![Span::raw(config.fsid.to_string())]),
    ];
    match &status.cluster {
        Some(cluster) => cluster_lines(&mut lines, cluster, width),
        None => {
            // Without an answer, what this host was told is all there is.
            let mut mons = separated(config.mons.iter().map(|m| vec![Span::raw(m.clone())]));
            mons.push(vec![Span::raw("(as given)").dim()]);
            lines.extend(hanging("Monitors", mons, width));
            if let Some(problem) = &status.problem {
                let words = problem
                    .split(' ')
                    .map(|w| vec![Span::raw(w.to_owned()).yellow()]);
                lines.extend(hanging("Cluster", words.collect(), width));
            }
        }
    }
    lines.push(secret_line(config));
    lines
}

fn cluster_lines(lines: &mut Vec<Line<'static>>, cluster: &CephClusterInfo, width: usize) {
    lines.push(row("Health", vec![health(&cluster.health)]));
    for check in &cluster.checks {
        let mut words = vec![vec![
            Span::styled(check.code.clone(), tone(&check.severity)),
            Span::raw(":"),
        ]];
        words.extend(
            check
                .message
                .split(' ')
                .map(|w| vec![Span::raw(w.to_owned())]),
        );
        lines.extend(hanging("", words, width));
    }
    let mut mons = separated(cluster.mons.iter().map(|m| vec![Span::raw(mon(m))]));
    mons.push(vec![
        Span::raw(format!("(map epoch {})", cluster.monmap_epoch)).dim(),
    ]);
    lines.extend(hanging("Monitors", mons, width));
    let pools = cluster.pools.iter().map(|pool| {
        let apps = match pool.applications.as_slice() {
            [] => String::new(),
            apps => format!(" ({})", apps.join(",")),
        };
        vec![
            Span::raw(format!("{}{apps} ", pool.name)),
            if pool.rbd_readable {
                Span::raw("readable").green()
            } else {
                Span::raw("no access").yellow()
            },
        ]
    });
    let mut pools = separated(pools);
    if pools.is_empty() {
        pools.push(vec![Span::raw("none visible to this client").dim()]);
    }
    lines.extend(hanging("Pools", pools, width));
}

/// A monitor as the map lists it: its v2 address, v1 when it has no v2.
fn mon(m: &CephMon) -> String {
    match (&m.v2, &m.v1) {
        (Some(v2), _) => format!("{} {v2}", m.name),
        (None, Some(v1)) => format!("{} {v1} (v1 only)", m.name),
        (None, None) => format!("{} (no address)", m.name),
    }
}

fn secret_line(config: &CephConfig) -> Line<'static> {
    let text = match config.libvirt_secret {
        Some(uuid) => Span::raw(uuid.to_string()),
        // A standalone agent (no --libvirt-uri) keeps the key to itself.
        None => Span::raw("none (this agent has no libvirt)").dim(),
    };
    row("libvirt secret", vec![text])
}

fn health(health: &str) -> Span<'static> {
    Span::styled(health.to_owned(), tone(health)).bold()
}

/// Green for OK, yellow for warnings, red for the rest.
fn tone(severity: &str) -> Style {
    match severity {
        "HEALTH_OK" => Style::new().green(),
        "HEALTH_WARN" => Style::new().yellow(),
        _ => Style::new().red(),
    }
}

/// Where status values start: after the marker column and the label,
/// as in the form below them.
const VALUE_COLUMN: usize = 3 + widgets::LABEL;

/// A status row aligned with the form's labels.
fn row(label: &str, value: Vec<Span<'static>>) -> Line<'static> {
    let width = widgets::LABEL;
    let mut spans = vec![Span::raw(format!("   {label:<width$}"))];
    spans.extend(value);
    Line::from(spans)
}

/// Items with a comma after each but the last.
fn separated(items: impl Iterator<Item = Vec<Span<'static>>>) -> Vec<Vec<Span<'static>>> {
    let mut out: Vec<Vec<Span<'static>>> = items.collect();
    let n = out.len();
    for item in out.iter_mut().take(n.saturating_sub(1)) {
        item.push(Span::raw(","));
    }
    out
}

/// A status row whose value is `words` (each a group of spans that stays
/// together), packed into `width` columns with continuation lines
/// starting under the value, not at the screen's edge: lists of
/// monitors and pools stay readable at 80 columns.
fn hanging(label: &str, words: Vec<Vec<Span<'static>>>, width: usize) -> Vec<Line<'static>> {
    let room = width.saturating_sub(VALUE_COLUMN).max(20);
    let mut lines = vec![];
    let mut current: Vec<Span<'static>> = vec![];
    let mut used = 0;
    for word in words {
        let w: usize = word.iter().map(Span::width).sum();
        if used > 0 && used + 1 + w > room {
            let label = if lines.is_empty() { label } else { "" };
            lines.push(row(label, std::mem::take(&mut current)));
            used = 0;
        }
        if used > 0 {
            current.push(Span::raw(" "));
            used += 1;
        }
        current.extend(word);
        used += w;
    }
    let label = if lines.is_empty() { label } else { "" };
    lines.push(row(label, current));
    lines
}

fn form(lines: &mut Vec<Line<'static>>, ceph: &CephState) {
    // lqxd never gives the key back: joining again needs it typed again.
    let joined = ceph.status.as_ref().is_some_and(|s| s.config.is_some());
    let key_hint = if joined {
        "stored by lqxd; type it again to re-join"
    } else {
        "as `ceph auth print-key` prints it"
    };
    let fields = [
        (
            MONS,
            "Monitors",
            &ceph.mons,
            "IP[:PORT], ... (3300 and 6789 if no port)",
        ),
        (NAME, "Client name", &ceph.name, "client.ID"),
        (KEY, "Key", &ceph.key, key_hint),
        (
            FSID,
            "Cluster fsid",
            &ceph.fsid,
            "optional: refuse any other cluster",
        ),
    ];
    for (row, label, field, hint) in fields {
        widgets::push(
            lines,
            widgets::text(label, field, ceph.row == row, hint),
            ceph.errors[row].as_deref(),
        );
    }
    lines.push(widgets::button("Join", ceph.row == JOIN));
    lines.push(widgets::button("Leave", ceph.row == LEAVE));
}

/// What is under way, asked, or the agent's last word.
fn outcome(app: &App) -> Option<Line<'static>> {
    let ceph = &app.ceph;
    if let Some(busy) = ceph.busy {
        let seconds = (app.now - busy.since).whole_seconds().max(0);
        let what = match busy.op {
            CephOp::Leave => "Leaving the cluster...".to_owned(),
            _ => format!(
                "Joining: waiting for the monitors to accept {}... {seconds} s",
                ceph.name.value().trim()
            ),
        };
        return Some(Line::raw(format!(" {what}")).yellow());
    }
    if ceph.confirm_leave {
        let cluster = ceph
            .status
            .as_ref()
            .and_then(|s| s.config.as_ref())
            .map_or("the cluster".to_owned(), |c| format!("cluster {}", c.fsid));
        return Some(
            Line::raw(format!(
                " Leave {cluster}? This host forgets the key and its libvirt secret: VMs \
                 here can no longer open RBD disks. Press Y to confirm, Esc to cancel."
            ))
            .bold()
            .yellow(),
        );
    }
    let message = ceph.message.as_ref()?;
    Some(Line::raw(format!(" {message}")).yellow())
}
