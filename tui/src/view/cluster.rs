//! The Cluster screen: the form to create or join a cluster; a member's
//! view of its cluster, store, actions and hosts; a join token just
//! created, with its QR code when the terminal has room for it.

use super::qr::Qr;
use super::{framed, summary, widgets};
use crate::app::App;
use crate::app::cluster::{
    self, CREATE, ClusterState, Confirm, JOIN, LEAVE, MEMBERS, NAME, NEW_TOKEN, TOKEN, TTL, VOTERS,
    Work,
};
use lqx_api::{ClusterConfig, ClusterStatus, Member, MemberState, TokenCreated};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Stylize;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use time::OffsetDateTime;

/// Width of the authority's fingerprint lines, as on Status: operators
/// compare the two.
const FINGERPRINT_WIDTH: usize = 48;

/// Draws the screen.
pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let state = &app.cluster;
    let inner = framed(frame, area, "Cluster");
    if let Some(token) = &state.created {
        draw_token(frame, inner, app, token);
        return;
    }
    match state.status.as_ref() {
        None => {
            let mut lines = vec![Line::raw(" Reading the cluster membership...")];
            lines.extend(outcome(app));
            paragraph(frame, inner, lines);
        }
        Some(ClusterStatus {
            cluster: Some(config),
            ..
        }) => draw_member(frame, inner, app, config),
        Some(_) => {
            let mut lines = form(state, usize::from(inner.width));
            lines.extend(outcome(app));
            paragraph(frame, inner, lines);
        }
    }
}

fn paragraph(frame: &mut Frame<'_>, area: Rect, lines: Vec<Line<'static>>) {
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

/// In no cluster: create one, or join one.
fn form(state: &ClusterState, width: usize) -> Vec<Line<'static>> {
    let mut lines = vec![
        Line::raw(" Not a member: this host belongs to no cluster.").bold(),
        Line::raw(" Create a cluster here, or join one with a token from a member.").dim(),
        Line::raw(""),
        Line::raw(" Create a cluster").bold(),
    ];
    widgets::push(
        &mut lines,
        widgets::text("Name", &state.name, state.row == NAME, "a-z, 0-9 and -"),
        state.name_error.as_deref(),
    );
    let mut voters = widgets::choice("Voters", &state.voters, state.row == VOTERS);
    voters
        .spans
        .push(Span::raw("  hosts voting in its store").dim());
    lines.push(voters);
    lines.push(widgets::button("Create", state.row == CREATE));
    lines.push(Line::raw(""));
    lines.push(Line::raw(" Join a cluster").bold());
    widgets::push(
        &mut lines,
        widgets::text_scrolled(
            "Join token",
            &state.token,
            state.row == TOKEN,
            "paste it: lqx1...",
            width,
        ),
        state.token_error.as_deref(),
    );
    lines.push(widgets::button("Join", state.row == JOIN));
    lines
}

/// A member: the cluster and the store on top, then the actions and
/// what they are doing, then the hosts in the rows left.
fn draw_member(frame: &mut Frame<'_>, area: Rect, app: &App, config: &ClusterConfig) {
    let state = &app.cluster;
    let mut top = membership(state, config);
    top.push(Line::raw(""));
    top.push(widgets::choice(
        "Token lifetime",
        &state.ttl,
        state.row == TTL,
    ));
    top.push(widgets::button(
        "Create a join token",
        state.row == NEW_TOKEN,
    ));
    top.push(widgets::button("Leave the cluster", state.row == LEAVE));
    top.extend(outcome(app));
    top.push(Line::raw(""));
    let height = widgets::rows(&top, area.width).min(area.height);
    let [top_area, table_area] =
        Layout::vertical([Constraint::Length(height), Constraint::Min(0)]).areas(area);
    paragraph(frame, top_area, top);
    let this_host = app.host.as_ref().map(|h| h.host_id);
    let table = hosts(state, this_host, app.now, table_area.height);
    frame.render_widget(Paragraph::new(table), table_area);
}

fn membership(state: &ClusterState, config: &ClusterConfig) -> Vec<Line<'static>> {
    let status = state.status.as_ref();
    let mut lines = vec![
        Line::raw(format!(
            " Member of cluster {} ({})",
            config.name, config.id
        ))
        .bold(),
        row(
            "This host",
            vec![Span::raw(format!(
                "{} (the store aims for {} voters; later hosts are clients)",
                cluster::role(config.role),
                config.voters
            ))],
        ),
    ];
    for (i, part) in summary::fingerprint_lines(&config.fingerprint, FINGERPRINT_WIDTH)
        .into_iter()
        .enumerate()
    {
        lines.push(row(
            if i == 0 { "Authority" } else { "" },
            vec![Span::raw(part)],
        ));
    }
    let store = match status {
        Some(s) if s.store_reachable => {
            let mut spans = vec![Span::raw("reachable").green()];
            if let Some(members) = &state.members {
                spans.push(Span::raw(format!("; {}", ready_count(members))));
            }
            spans
        }
        Some(s) => vec![
            Span::raw(format!(
                "unreachable: {}",
                s.store_error.as_deref().unwrap_or("no answer")
            ))
            .yellow(),
        ],
        None => vec![],
    };
    lines.push(row("Store", store));
    lines.push(row("Joined", vec![Span::raw(when(config.joined_at))]));
    lines
}

/// `N of M members ready`.
pub fn ready_count(members: &[Member]) -> String {
    let ready = members
        .iter()
        .filter(|m| m.state == MemberState::Ready)
        .count();
    format!("{ready} of {} members ready", members.len())
}

/// A labelled row aligned with the actions' labels.
fn row(label: &str, value: Vec<Span<'static>>) -> Line<'static> {
    let width = widgets::LABEL;
    let mut spans = vec![Span::raw(format!("   {label:<width$}"))];
    spans.extend(value);
    Line::from(spans)
}

/// A date and time, UTC.
fn when(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!("{} {} UTC", at.date(), widgets::clock(at))
}

/// When a host's state began (UTC): the time of day when that is today,
/// else the date, which is precise enough then and keeps the row within
/// 80 columns.
fn since_text(at: OffsetDateTime, now: OffsetDateTime) -> String {
    let (at, now) = (
        at.to_offset(time::UtcOffset::UTC),
        now.to_offset(time::UtcOffset::UTC),
    );
    if at.date() == now.date() {
        widgets::clock(at)
    } else {
        at.date().to_string()
    }
}

/// The hosts' table in `height` rows: a header, then as many hosts as
/// fit, scrolled to keep the selected one in view.
fn hosts(
    state: &ClusterState,
    this_host: Option<uuid::Uuid>,
    now: OffsetDateTime,
    height: u16,
) -> Vec<Line<'static>> {
    let Some(members) = &state.members else {
        let text = match &state.members_error {
            Some(error) => format!(" The hosts could not be read: {error}"),
            None => " Reading the hosts...".to_owned(),
        };
        return vec![Line::raw(text)];
    };
    let name = |m: &Member| {
        if Some(m.id) == this_host {
            format!("{} (this host)", m.hostname)
        } else {
            m.hostname.clone()
        }
    };
    let host_w = members
        .iter()
        .map(|m| name(m).len())
        .chain([4])
        .max()
        .unwrap_or(4);
    let addr_w = members
        .iter()
        .map(|m| m.address.len())
        .chain([7])
        .max()
        .unwrap_or(7);
    // The header, and the line saying the list is old when it is.
    let above = 1 + u16::from(state.members_error.is_some());
    let visible = usize::from(height.saturating_sub(above)).max(1);
    let selected = state.row.checked_sub(MEMBERS);
    let first = match selected {
        Some(i) if i >= visible => i + 1 - visible,
        _ => 0,
    };
    let mut header = format!(
        "   {:<host_w$}  {:<addr_w$}  {:<6}  State (times UTC)",
        "Host", "Address", "Role"
    );
    if members.len() > visible {
        let last = (first + visible).min(members.len());
        header.push_str(&format!(
            "   (hosts {}-{last} of {})",
            first + 1,
            members.len()
        ));
    }
    let mut lines = vec![];
    if let Some(error) = &state.members_error {
        lines.push(
            Line::raw(format!(
                " Hosts as last read; reading them again failed: {error}"
            ))
            .yellow(),
        );
    }
    lines.push(Line::raw(header).dim());
    for (i, m) in members.iter().enumerate().skip(first).take(visible) {
        let focused = selected == Some(i);
        let marker = if focused { " > " } else { "   " };
        let text = format!(
            "{marker}{:<host_w$}  {:<addr_w$}  {:<6}  ",
            name(m),
            m.address,
            cluster::role(m.etcd_role)
        );
        let since = m
            .since
            .map_or(String::new(), |t| format!(" since {}", since_text(t, now)));
        let state = match m.state {
            MemberState::Ready => Span::raw(format!("ready{since}")).green(),
            MemberState::Unreachable => Span::raw(format!("unreachable{since}")).yellow(),
        };
        let text = Span::raw(text);
        lines.push(Line::from(vec![
            if focused { text.bold() } else { text },
            state,
        ]));
    }
    lines
}

/// What is under way, asked, or the agent's last word: a blank line and
/// the text, or nothing.
fn outcome(app: &App) -> Vec<Line<'static>> {
    let state = &app.cluster;
    let cluster_name = state
        .status
        .as_ref()
        .and_then(|s| s.cluster.as_ref())
        .map_or("the cluster".to_owned(), |c| format!("cluster {}", c.name));
    let mut lines = vec![];
    if let Some(busy) = &state.busy {
        let seconds = (app.now - busy.since).whole_seconds().max(0);
        let what = match &busy.work {
            Work::Create => format!(
                "Creating cluster {}: starting this host's store member...",
                state.name.value().trim()
            ),
            Work::Join => "Joining... this can take a minute".to_owned(),
            Work::Leave { force: false } => format!("Leaving {cluster_name}..."),
            Work::Leave { force: true } => format!("Leaving and dissolving {cluster_name}..."),
            Work::Token => "Creating a join token...".to_owned(),
            Work::Remove { hostname } => format!("Removing {hostname} from {cluster_name}..."),
        };
        lines.push(Line::raw(format!(" {what} ({seconds} s)")).yellow());
    } else if let Some(message) = &state.message {
        lines.push(Line::raw(format!(" {message}")).yellow());
    }
    let ask = |text: String| Line::raw(format!(" {text}")).bold().yellow();
    match &state.confirm {
        None => {}
        Some(Confirm::Leave) => lines.push(ask(format!(
            "Leave {cluster_name}? This host stops its part of the store and gets an authority \
             of its own. Press Y to confirm, Esc to cancel."
        ))),
        Some(Confirm::Dissolve) => lines.push(ask(
            "Press Y to leave and dissolve the cluster (its store is deleted), Esc to keep it."
                .to_owned(),
        )),
        Some(Confirm::Remove { hostname, .. }) => lines.push(ask(format!(
            "Remove {hostname} from {cluster_name}? Press Y to confirm, Esc to cancel."
        ))),
    }
    if !lines.is_empty() {
        lines.insert(0, Line::raw(""));
    }
    lines
}

/// A token just created: its text, expiry and the fingerprint it pins,
/// then its QR code, or the size the terminal needs for one.
fn draw_token(frame: &mut Frame<'_>, area: Rect, app: &App, token: &TokenCreated) {
    let name = app
        .cluster
        .status
        .as_ref()
        .and_then(|s| s.cluster.as_ref())
        .map_or(String::new(), |c| format!(" for cluster {}", c.name));
    let lines = |width: u16| token_lines(token, &name, app.now, width);
    let qr = Qr::new(&token.token);
    let mut text = lines(area.width);
    let Some(qr) = qr else {
        text.push(Line::raw(" The token is too long for a QR code.").dim());
        paragraph(frame, area, text);
        return;
    };
    let height = widgets::rows(&text, area.width);
    if qr.cols() <= area.width && height + qr.rows() <= area.height {
        let [text_area, code_area] =
            Layout::vertical([Constraint::Length(height), Constraint::Min(0)]).areas(area);
        paragraph(frame, text_area, text);
        let [code_area] = Layout::horizontal([Constraint::Length(qr.cols())])
            .flex(ratatui::layout::Flex::Center)
            .areas(code_area);
        frame.render_widget(Paragraph::new(qr.lines()), code_area);
        return;
    }
    // The size at which it would fit: the screen around this area stays
    // as it is, the token's text rewraps at the new width.
    let screen = frame.area();
    let chrome = screen.height.saturating_sub(area.height);
    let width = screen.width.max(qr.cols());
    let needed = chrome + widgets::rows(&lines(width), width) + qr.rows();
    text.push(
        Line::raw(format!(
            " Enlarge the terminal to at least {width}x{needed} to show a QR code of the token."
        ))
        .dim(),
    );
    paragraph(frame, area, text);
}

fn token_lines(
    token: &TokenCreated,
    cluster: &str,
    now: OffsetDateTime,
    width: u16,
) -> Vec<Line<'static>> {
    let left = (token.expires_at - now).whole_seconds();
    let expiry = if left > 0 {
        format!(
            "{} (in {})",
            when(token.expires_at),
            widgets::countdown(left)
        )
    } else {
        "expired".to_owned()
    };
    let mut lines = vec![
        Line::raw(format!(
            " Join token{cluster}: shown once, copy or scan it now."
        ))
        .bold(),
        Line::raw(""),
        row("Expires", vec![Span::raw(expiry)]),
    ];
    for (i, part) in summary::fingerprint_lines(&token.fingerprint, FINGERPRINT_WIDTH)
        .into_iter()
        .enumerate()
    {
        lines.push(row(
            if i == 0 { "Joiner pins" } else { "" },
            vec![Span::raw(part)],
        ));
    }
    lines.push(Line::raw(""));
    // Whole lines of the token from the first column: nothing to leave
    // out when it is copied off the screen.
    let chars: Vec<char> = token.token.chars().collect();
    for chunk in chars.chunks(usize::from(width.max(1))) {
        lines.push(Line::raw(chunk.iter().collect::<String>()));
    }
    lines.push(Line::raw(""));
    lines.push(
        Line::raw(" On the new host: Cluster screen, Join; or lqx cluster join TOKEN.").dim(),
    );
    lines
}
