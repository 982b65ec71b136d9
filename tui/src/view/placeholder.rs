//! Screens for what later parts of the product configure: they say what
//! they will do, and that this host has none of it.

use super::framed;
use crate::app::Screen;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

fn text(screen: Screen) -> (&'static str, &'static str) {
    match screen {
        Screen::Cluster => (
            "Cluster",
            "Here this host will create a cluster of LimiQuantix hosts or join one with \
             a join token, after which the remote API on port 8443 manages every host.",
        ),
        other => (other.title(), "This screen arrives with its feature."),
    }
}

/// Draws a placeholder screen.
pub fn draw(frame: &mut Frame<'_>, area: Rect, screen: Screen) {
    let (title, what) = text(screen);
    let inner = framed(frame, area, title);
    let lines = vec![
        Line::raw(""),
        Line::raw(format!(" {what}")),
        Line::raw(""),
        Line::raw(
            " Not configured: this host has none yet. This screen arrives with that feature.",
        )
        .bold(),
    ];
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
