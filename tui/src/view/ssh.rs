//! The SSH screen.

use super::{framed, widgets};
use crate::app::App;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

/// Audit events shown.
const AUDIT_SHOWN: usize = 5;

/// Draws the screen.
pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let ssh = &app.ssh;
    let inner = framed(frame, area, "SSH access");
    let state = match &ssh.status {
        None => Line::raw(" Reading SSH state..."),
        Some(s) if s.enabled => {
            let until = s.until.map_or(String::new(), |u| {
                format!(
                    ", turns off in {} (at {} UTC)",
                    widgets::countdown((u - app.now).whole_seconds()),
                    widgets::clock(u)
                )
            });
            Line::raw(format!(" SSH is ENABLED{until}."))
                .bold()
                .yellow()
        }
        Some(_) => Line::raw(" SSH is disabled.").bold(),
    };
    let mut lines = vec![
        state,
        Line::raw(" Enabling makes the admin password root's SSH password until it turns off.")
            .dim(),
        Line::raw(""),
    ];
    widgets::push(
        &mut lines,
        widgets::text("Minutes (5-120)", &ssh.minutes, ssh.row == 0, ""),
        ssh.minutes_error.as_deref(),
    );
    widgets::push(
        &mut lines,
        widgets::text("Admin password", &ssh.password, ssh.row == 1, ""),
        ssh.password_error.as_deref(),
    );
    lines.push(widgets::button("Enable SSH", ssh.row == 2));
    lines.push(widgets::button("Disable SSH", ssh.row == 3));
    if let Some(message) = &ssh.message {
        lines.push(Line::raw(format!(" {message}")).yellow());
    }
    if let Some(status) = &ssh.status {
        lines.push(Line::raw(""));
        lines.push(Line::raw(" Recent SSH events").bold());
        let skip = status.audit.len().saturating_sub(AUDIT_SHOWN);
        for event in status.audit.iter().skip(skip) {
            lines.push(Line::raw(format!(
                " {}  {}  ({})",
                widgets::clock(event.at),
                event.action,
                event.actor
            )));
        }
        if status.audit.is_empty() {
            lines.push(Line::raw(" none").dim());
        }
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
