//! The first-boot password screen and the unlock prompt.

use super::{framed, summary, widgets};
use crate::app::App;
use crate::app::auth::MIN_PASSWORD;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

/// Which host this is: shown above the password forms so the operator
/// knows what they are setting up or unlocking.
fn identity(app: &App) -> Vec<Line<'static>> {
    let Some(host) = &app.host else {
        return vec![Line::raw(" Waiting for the host agent (lqxd) to answer...")];
    };
    summary::identity_rows(host).to_vec()
}

/// The first-boot screen: nothing else is reachable until it is done.
pub fn set_password(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let inner = framed(frame, area, "Set the admin password");
    let form = &app.set_password;
    let mut lines = identity(app);
    lines.extend([
        Line::raw(""),
        Line::raw(" This host has no admin password yet. It protects every change made here"),
        Line::raw(format!(
            " and SSH access. At least {MIN_PASSWORD} characters; lqxd refuses guessable ones."
        )),
        Line::raw(""),
    ]);
    widgets::push(
        &mut lines,
        widgets::text("Password", &form.new, form.focus == 0, ""),
        form.new_error.as_deref(),
    );
    widgets::push(
        &mut lines,
        widgets::text("Again", &form.again, form.focus == 1, ""),
        form.again_error.as_deref(),
    );
    if form.busy {
        lines.push(Line::raw(""));
        lines.push(Line::raw(" Setting the password...").yellow());
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

fn prompt_lines(app: &App) -> Vec<Line<'static>> {
    let form = &app.unlock;
    let mut lines = vec![
        Line::raw(" The console is locked. Enter the admin password to make changes."),
        Line::raw(""),
    ];
    widgets::push(
        &mut lines,
        widgets::text("Password", &form.password, true, ""),
        form.error.as_deref(),
    );
    if form.busy {
        lines.push(Line::raw(" Checking...").yellow());
    }
    lines
}

/// The unlock prompt in place of a screen that needs the password.
pub fn unlock(frame: &mut Frame<'_>, area: Rect, app: &App, title: &str) {
    let inner = framed(frame, area, &format!("{title} (locked)"));
    let mut lines = identity(app);
    lines.push(Line::raw(""));
    lines.extend(prompt_lines(app));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// The unlock prompt over an open screen, for an action that needs the
/// password.
pub fn unlock_popup(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let [_, middle, _] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(7),
        Constraint::Fill(1),
    ])
    .areas(area);
    let [_, popup, _] = Layout::horizontal([
        Constraint::Length(2),
        Constraint::Fill(1),
        Constraint::Length(2),
    ])
    .areas(middle);
    frame.render_widget(Clear, popup);
    let block = Block::new().borders(Borders::ALL).title(" Unlock ");
    frame.render_widget(
        Paragraph::new(prompt_lines(app))
            .block(block)
            .wrap(Wrap { trim: false }),
        popup,
    );
}
