//! The OVN screen.

use super::{framed, widgets};
use crate::app::App;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

/// Draws the screen.
pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let ovn = &app.ovn;
    let inner = framed(frame, area, "OVN chassis");
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let mut lines = match &ovn.status {
        None => vec![Line::raw(" Reading the chassis state...")],
        Some(status) => match &status.config {
            None => vec![
                Line::raw(" Not registered: this host is no OVN chassis yet.").bold(),
                Line::raw(" Registering lets virtual networks span this host (Geneve tunnels).")
                    .dim(),
            ],
            Some(config) => vec![
                Line::raw(format!(
                    " Registered as {} ({} {}).",
                    config.system_id,
                    config.request.encap_type.as_str(),
                    config.request.encap_ip
                ))
                .bold(),
                Line::raw(format!(
                    " Southbound: reachable {}, lists it {}   ovn-controller: {}",
                    yes_no(status.sb_reachable),
                    yes_no(status.chassis_present),
                    if status.controller_connected {
                        "connected"
                    } else {
                        "not connected"
                    }
                )),
                Line::raw(format!(
                    " Tunnels: {}",
                    if status.encaps.is_empty() {
                        "none".to_owned()
                    } else {
                        status.encaps.join(", ")
                    }
                )),
            ],
        },
    };
    if let Some(problem) = ovn.status.as_ref().and_then(|s| s.problem.as_deref()) {
        lines.push(Line::raw(format!(" {problem}")).yellow());
    }
    lines.push(Line::raw(""));
    widgets::push(
        &mut lines,
        widgets::text(
            "Southbound DB",
            &ovn.sb_remote,
            ovn.row == 0,
            "tcp:IP:6642[,...]",
        ),
        ovn.errors[0].as_deref(),
    );
    widgets::push(
        &mut lines,
        widgets::text(
            "Tunnel address",
            &ovn.encap_ip,
            ovn.row == 1,
            "an address of this host",
        ),
        ovn.errors[1].as_deref(),
    );
    lines.push(widgets::choice(
        "Encapsulation",
        &ovn.encap_type,
        ovn.row == 2,
    ));
    widgets::push(
        &mut lines,
        widgets::text(
            "Bridge mappings",
            &ovn.mappings,
            ovn.row == 3,
            "physnet:br-ex (optional)",
        ),
        ovn.errors[2].as_deref(),
    );
    lines.push(widgets::button("Register", ovn.row == 4));
    lines.push(widgets::button("Unregister", ovn.row == 5));
    if let Some(message) = &ovn.message {
        lines.push(Line::raw(""));
        lines.push(Line::raw(format!(" {message}")).yellow());
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
