//! The power screen.

use super::{framed, widgets};
use crate::app::App;
use crate::app::power::ACTIONS;
use lqx_api::PowerAction;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

/// Draws the screen.
pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let inner = framed(frame, area, "Power");
    let hostname = app
        .host
        .as_ref()
        .map_or("this host", |h| h.facts.hostname.as_str());
    let mut lines = vec![
        Line::raw(""),
        Line::raw(" Choose and press Enter; you are asked to confirm."),
        Line::raw(""),
    ];
    for (i, (_, label)) in ACTIONS.iter().enumerate() {
        lines.push(widgets::button(label, app.power.row == i));
    }
    if let Some(action) = app.power.confirm {
        let what = match action {
            PowerAction::Reboot => "Reboot",
            PowerAction::Poweroff => "Shut down",
        };
        lines.push(Line::raw(""));
        lines.push(
            Line::raw(format!(
                " {what} {hostname} now? Press Y to confirm, Esc to cancel."
            ))
            .bold()
            .yellow(),
        );
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
