//! The diagnostics screen: preflight checks on top, a journal below.

use super::{framed, widgets};
use crate::app::App;
use lqx_api::CheckStatus;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Stylize;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

/// Draws the screen.
pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let diag = &app.diag;
    let inner = framed(frame, area, "Diagnostics");
    let checks = check_lines(app);
    let height = u16::try_from(checks.len()).unwrap_or(u16::MAX);
    let [top, unit, journal] = Layout::vertical([
        Constraint::Length(height),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(checks), top);
    let unit_line = match &diag.typed {
        Some(field) => widgets::text("Journal of", field, true, ""),
        None => Line::from(vec![
            Span::raw(" Journal of ").bold(),
            Span::raw(format!("< {} >", diag.unit)),
            Span::raw(match &diag.journal {
                Some(j) => format!("  last {} lines", j.lines.len()),
                None => String::new(),
            })
            .dim(),
        ]),
    };
    frame.render_widget(Paragraph::new(unit_line), unit);
    journal_lines(frame, journal, app);
}

fn check_lines(app: &App) -> Vec<Line<'static>> {
    let diag = &app.diag;
    let Some(checks) = &diag.checks else {
        return vec![Line::raw(match &diag.checks_error {
            Some(e) => format!(" Checks: {e}"),
            None => " Running the checks...".into(),
        })];
    };
    let mut lines = vec![
        Line::raw(format!(
            " Checks of {}",
            checks
                .management
                .as_deref()
                .unwrap_or("(no management link)")
        ))
        .bold(),
    ];
    for check in &checks.checks {
        let verdict = match check.status {
            CheckStatus::Pass => Span::raw(" pass ").green(),
            CheckStatus::Fail => Span::raw(" FAIL ").red().bold(),
            CheckStatus::Skip => Span::raw(" skip ").dim(),
        };
        lines.push(Line::from(vec![
            verdict,
            Span::raw(format!("{:<20} ", check.name)),
            Span::raw(check.detail.clone()),
        ]));
    }
    lines
}

fn journal_lines(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let diag = &app.diag;
    let Some(journal) = &diag.journal else {
        let text = match &diag.journal_error {
            Some(e) => format!(" {e}"),
            None => " Reading the journal...".into(),
        };
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), area);
        return;
    };
    if journal.lines.is_empty() {
        frame.render_widget(Paragraph::new(" No lines."), area);
        return;
    }
    let height = usize::from(area.height);
    let len = journal.lines.len();
    // Keep a full page on screen even when scrolled to the top.
    let end = len
        .saturating_sub(diag.scroll.from_end)
        .max(height.min(len));
    let start = end.saturating_sub(height);
    let lines: Vec<Line<'static>> = journal.lines[start..end]
        .iter()
        .map(|l| {
            let text = format!(" {} {}", widgets::clock(l.at), l.message);
            match l.priority {
                0..=3 => Line::raw(text).red(),
                4 => Line::raw(text).yellow(),
                _ => Line::raw(text),
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), area);
}
