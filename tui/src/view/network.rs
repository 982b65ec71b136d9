//! The network screen: the list of links, one link's fields, and the
//! add-VLAN and add-bond dialogs. Every field shows its inline message.

use super::{framed, widgets};
use crate::app::App;
use crate::app::network::{
    BondForm, Draft, EditRow, LinkDraft, NetView, NetworkState, VlanForm, describe_field, edit_rows,
};
use lqx_api::{LinkKind, NetworkBackendKind};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Row, Table, Wrap};

/// Draws the network screen.
pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let net = &app.net;
    let Some(draft) = &net.draft else {
        let inner = framed(frame, area, "Network");
        frame.render_widget(
            Paragraph::new(" Reading the network configuration from lqxd..."),
            inner,
        );
        return;
    };
    match &net.view {
        NetView::List => list(frame, area, net, draft),
        NetView::Edit { row } => edit(frame, area, net, draft, *row),
        NetView::AddVlan(form) => vlan(frame, area, form),
        NetView::AddBond(form) => bond(frame, area, form),
    }
}

fn list(frame: &mut Frame<'_>, area: Rect, net: &NetworkState, draft: &Draft) {
    let title = if net.dirty {
        "Network (edited, not applied)"
    } else {
        "Network"
    };
    let inner = framed(frame, area, title);
    let rows_needed = u16::try_from(draft.links.len()).unwrap_or(u16::MAX) + 1;
    let [table_area, text_area] =
        Layout::vertical([Constraint::Length(rows_needed), Constraint::Min(0)]).areas(inner);
    let rows = draft.links.iter().enumerate().map(|(i, link)| {
        let bad = net.error(&format!("links[{i}]")).is_some();
        let marker = match (i == net.cursor, bad) {
            (true, _) => ">",
            (false, true) => "!",
            (false, false) => " ",
        };
        let mgmt = if link.name == draft.management {
            "mgmt"
        } else {
            ""
        };
        let row = Row::new(vec![
            format!("{marker} {}", link.name),
            mgmt.to_owned(),
            link.kind_text(),
            link.addressing_text(),
        ]);
        match (i == net.cursor, bad) {
            (true, _) => row.style(Style::new().reversed()),
            (false, true) => row.style(Style::new().red()),
            (false, false) => row,
        }
    });
    let widths = [
        Constraint::Length(17),
        Constraint::Length(5),
        Constraint::Length(24),
        Constraint::Min(10),
    ];
    frame.render_widget(
        Table::new(rows, widths)
            .header(Row::new(vec!["  LINK", "ROLE", "KIND", "ADDRESSING"]).bold()),
        table_area,
    );
    let mut lines = vec![];
    if let Some(link) = draft.links.get(net.cursor) {
        let index = net.cursor;
        if let Some(message) = net.error(&format!("links[{index}]")) {
            lines.push(Line::raw(format!(" ! {}: {message}", link.name)).red());
        }
    }
    for field in ["management", "hostname", "dns", "ntp"] {
        if let Some(message) = net.error(field) {
            let name = describe_field(draft, field);
            lines.push(Line::raw(format!(" ! {name}: {message}")).red());
        }
    }
    // Problems of the links together (two default gateways).
    let whole = net
        .errors
        .iter()
        .flat_map(|e| &e.0)
        .filter(|e| e.field == "links");
    for error in whole {
        lines.push(Line::raw(format!(" ! {}", error.message)).red());
    }
    if let Some(message) = &net.message {
        lines.push(Line::raw(format!(" {message}")).yellow());
    }
    lines.push(Line::raw(""));
    lines.extend(state_lines(net));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), text_area);
}

/// What the agent has: where configurations go, and how the last apply
/// ended.
fn state_lines(net: &NetworkState) -> Vec<Line<'static>> {
    let Some(status) = &net.status else {
        return vec![];
    };
    let mut lines = vec![];
    let saved = match (&status.desired, &status.applied) {
        _ if status.pending.is_some() => {
            " Applied and waiting for confirmation: see the banner above."
        }
        (None, _) => " Nothing saved yet: the image's default (DHCP on every NIC) is in force.",
        (Some(d), Some(a)) if d == a => " The saved configuration is the one in force.",
        (Some(_), _) => " A saved configuration differs from the one in force.",
    };
    lines.push(Line::raw(saved).dim());
    if status.backend == NetworkBackendKind::FilesOnly {
        lines.push(
            Line::raw(" lqxd renders files only here; the host's network is not touched.").dim(),
        );
    }
    if status.pending.is_none()
        && let Some(outcome) = &status.last_outcome
    {
        lines.push(
            Line::raw(format!(
                " Last apply ({} UTC): {}",
                widgets::clock(outcome.at),
                outcome.message
            ))
            .dim(),
        );
    }
    lines
}

fn edit(frame: &mut Frame<'_>, area: Rect, net: &NetworkState, draft: &Draft, row: usize) {
    let Some(link) = draft.links.get(net.cursor) else {
        return;
    };
    let inner = framed(
        frame,
        area,
        &format!("Network: {} ({})", link.name, link.kind_text()),
    );
    let at = format!("links[{}]", net.cursor);
    let mut lines = vec![];
    for (i, kind) in edit_rows(link).into_iter().enumerate() {
        let focused = i == row;
        let (line, field) = edit_row(kind, link, draft, focused);
        let message = field.and_then(|f| net.error(&format!("{at}.{f}")));
        widgets::push(&mut lines, line, message);
    }
    if let Some(message) = net.error(&format!("{at}.name")) {
        lines.push(Line::raw(format!(" ! {message}")).red());
    }
    if let Some(message) = net.error("management") {
        lines.push(Line::raw(format!(" ! management: {message}")).red());
    }
    lines.push(Line::raw(""));
    lines.push(
        Line::raw(" Changes stay here until A (on the link list) saves and applies them.").dim(),
    );
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// One editor row and the path (under the link) its messages come from.
fn edit_row(
    kind: EditRow,
    link: &LinkDraft,
    draft: &Draft,
    focused: bool,
) -> (Line<'static>, Option<&'static str>) {
    match kind {
        EditRow::V4Mode => (widgets::choice("IPv4", &link.ipv4, focused), None),
        EditRow::V4Addresses => (
            widgets::text(
                "  Addresses",
                &link.v4_addresses,
                focused,
                "ADDR/PREFIX, ...",
            ),
            Some("ipv4.addresses"),
        ),
        EditRow::V4Gateway => (
            widgets::text("  Gateway", &link.v4_gateway, focused, "(none)"),
            Some("ipv4.gateway"),
        ),
        EditRow::V6Mode => (widgets::choice("IPv6", &link.ipv6, focused), None),
        EditRow::V6Addresses => (
            widgets::text(
                "  Addresses",
                &link.v6_addresses,
                focused,
                "ADDR/PREFIX, ...",
            ),
            Some("ipv6.addresses"),
        ),
        EditRow::V6Gateway => (
            widgets::text("  Gateway", &link.v6_gateway, focused, "(none)"),
            Some("ipv6.gateway"),
        ),
        EditRow::Mtu => (
            widgets::text("MTU", &link.mtu, focused, "(default)"),
            Some("mtu"),
        ),
        EditRow::BondMode => {
            let mode = match &link.kind {
                LinkKind::Bond { mode, .. } => mode.as_str(),
                _ => "",
            };
            (
                widgets::value("Bond mode", mode, focused, true),
                Some("kind"),
            )
        }
        EditRow::Management => {
            let yes = if draft.management == link.name {
                "yes"
            } else {
                "no"
            };
            (widgets::value("Management", yes, focused, true), None)
        }
    }
}

fn vlan(frame: &mut Frame<'_>, area: Rect, form: &VlanForm) {
    let inner = framed(frame, area, "Network: add a VLAN");
    let mut lines = vec![
        Line::raw(" A tagged VLAN on a NIC or bond. The name defaults to <parent>.<id>."),
        Line::raw(""),
    ];
    widgets::push(
        &mut lines,
        widgets::choice("Parent", &form.parent, form.row == 0),
        form.error("kind.parent"),
    );
    widgets::push(
        &mut lines,
        widgets::text("VLAN id", &form.id, form.row == 1, "1-4094"),
        form.error("kind.id"),
    );
    widgets::push(
        &mut lines,
        widgets::text("Name", &form.name, form.row == 2, ""),
        form.error("name"),
    );
    lines.push(Line::raw(""));
    lines.push(widgets::button("Add VLAN", form.row == 3));
    if form.row == 3 && form.errors.is_some() {
        lines.push(Line::raw(" Fix the fields above first.").red());
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

fn bond(frame: &mut Frame<'_>, area: Rect, form: &BondForm) {
    let inner = framed(frame, area, "Network: add a bond");
    let mut lines = vec![
        Line::raw(" Chosen NICs lose their own settings; the bond takes them over."),
        Line::raw(""),
    ];
    widgets::push(
        &mut lines,
        widgets::text("Name", &form.name, form.row == 0, ""),
        form.error("name"),
    );
    lines.push(widgets::choice("Mode", &form.mode, form.row == 1));
    for (i, (name, on)) in form.members.iter().enumerate() {
        let label = if i == 0 { "Members" } else { "" };
        let mark = if *on { "[x]" } else { "[ ]" };
        lines.push(widgets::value(
            label,
            &format!("{mark} {name}"),
            form.row == i + 2,
            false,
        ));
    }
    if form.members.is_empty() {
        lines.push(Line::raw(" No NIC is free to join a bond.").red());
    }
    lines.extend(widgets::error(form.error("kind.members")));
    lines.push(Line::raw(""));
    lines.push(widgets::button("Add bond", form.row == form.rows() - 1));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
