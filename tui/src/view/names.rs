//! The hostname/DNS/NTP screen.

use super::{framed, widgets};
use crate::app::App;
use crate::app::names::{APPLY_ROW, FIELDS, field};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

/// Draws the screen.
pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let net = &app.net;
    let title = if net.dirty {
        "Hostname, DNS and NTP (edited, not applied)"
    } else {
        "Hostname, DNS and NTP"
    };
    let inner = framed(frame, area, title);
    let Some(draft) = &net.draft else {
        frame.render_widget(
            Paragraph::new(" Reading the network configuration from lqxd..."),
            inner,
        );
        return;
    };
    let mut lines = vec![
        Line::raw(" Lists take commas or spaces. Empty NTP uses the image's servers."),
        Line::raw(""),
    ];
    let placeholders = ["", "(none)", "(none)", "(image default)"];
    for (row, (label, path)) in FIELDS.iter().enumerate() {
        let Some(text) = field(draft, row) else {
            continue;
        };
        let line = widgets::text(label, text, app.names.row == row, placeholders[row]);
        widgets::push(&mut lines, line, net.error(path));
    }
    lines.push(Line::raw(""));
    lines.push(widgets::button(
        "Save and apply",
        app.names.row == APPLY_ROW,
    ));
    if let Some(message) = &net.message {
        lines.push(Line::raw(""));
        lines.push(Line::raw(format!(" {message}")).yellow());
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
