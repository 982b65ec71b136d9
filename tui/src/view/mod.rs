//! Drawing. Pure functions of [`App`]: nothing here reads the system.

mod install;
#[doc(hidden)]
pub mod sample;
mod status;
pub mod summary;

use crate::app::{App, Screen};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Draws the whole screen.
pub fn draw(frame: &mut Frame<'_>, app: &App) {
    let [title, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(2),
    ])
    .areas(frame.area());
    let hostname = app.host.as_ref().map_or("", |h| h.facts.hostname.as_str());
    let mut spans = vec![Span::raw(" LimiQuantix ").add_modifier(Modifier::BOLD)];
    for screen in Screen::ALL {
        let tab = Span::raw(format!(" {} ", screen.title()));
        spans.push(if screen == app.screen {
            tab.underlined().bold()
        } else {
            tab
        });
    }
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let room = usize::from(title.width).saturating_sub(used + 1);
    spans.push(Span::raw(format!("{hostname:>room$} ")));
    frame.render_widget(
        Paragraph::new(Line::from(spans)).style(Style::new().reversed()),
        title,
    );
    match app.screen {
        Screen::Status => status::draw(frame, body, app),
        Screen::Install => install::draw(frame, body, app),
    }
    draw_footer(frame, footer, app);
}

fn draw_footer(frame: &mut Frame<'_>, area: ratatui::layout::Rect, app: &App) {
    let updated = app
        .updated_at
        .map(|t| format!("{:02}:{:02}:{:02} UTC", t.hour(), t.minute(), t.second()));
    let state = match (&app.error, &updated) {
        _ if app.notice.is_some() => {
            Line::from(format!(" {}", app.notice.as_deref().unwrap_or_default())).yellow()
        }
        (Some(err), Some(at)) => Line::from(format!(" {err} (showing data from {at})")).red(),
        (Some(err), None) => Line::from(format!(" {err}")).red(),
        (None, Some(at)) => Line::from(format!(" Updated {at}")),
        (None, None) => Line::from(" Contacting lqxd..."),
    };
    let hints: &[(&str, &str)] = match app.screen {
        _ if app.typing() => &[("Enter", "Confirm"), ("Esc", "Cancel")],
        Screen::Status => &[
            ("Tab", "Screens"),
            ("I", "Install"),
            ("R", "Refresh"),
            ("Q", "Quit"),
        ],
        Screen::Install => &[
            ("Up/Down", "Choose"),
            ("Enter", "Select"),
            ("Tab", "Screens"),
            ("Q", "Quit"),
        ],
    };
    let mut keys = vec![Span::raw(" ")];
    for (key, what) in hints {
        keys.push(Span::raw(*key).bold());
        keys.push(Span::raw(format!(" {what}   ")));
    }
    let keys = Line::from(keys);
    frame.render_widget(Paragraph::new(vec![state, keys]), area);
}

#[cfg(test)]
mod tests {
    use super::sample::{render, sample_host, sample_install};
    use super::*;
    use time::OffsetDateTime;

    #[test]
    fn status_screen_at_80x24() {
        let app = App {
            host: Some(Box::new(sample_host())),
            updated_at: Some(OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(3600 * 9 + 65)),
            ..App::default()
        };
        insta::assert_snapshot!(render(&app, 80, 24));
    }

    #[test]
    fn install_screens_at_80x24() {
        let mut app = App {
            screen: Screen::Install,
            install: Some(Box::new(sample_install())),
            host: Some(Box::new(sample_host())),
            ..App::default()
        };
        insta::assert_snapshot!("install_choose", render(&app, 80, 24));
        app.install_step = crate::app::InstallStep::Confirm {
            disk: "vdb".into(),
            typed: "vd".into(),
            error: None,
        };
        insta::assert_snapshot!("install_confirm", render(&app, 80, 24));
        app.install_step = crate::app::InstallStep::Running;
        if let Some(info) = app.install.as_mut() {
            info.progress = lqx_api::InstallProgress {
                phase: lqx_api::InstallPhase::Writing,
                disk: Some("vdb".into()),
                bytes_done: 650_000_000,
                bytes_total: 1_300_000_000,
                message: None,
            };
        }
        insta::assert_snapshot!("install_running", render(&app, 80, 24));
    }

    #[test]
    fn agent_unreachable_is_shown_not_fatal() {
        let app = App {
            error: Some("lqxd is not running: nothing listens on /run/lqx/lqxd.sock".into()),
            ..App::default()
        };
        let screen = render(&app, 80, 24);
        assert!(screen.contains("lqxd is not running"), "{screen}");
        assert!(screen.contains("Waiting for the host agent"), "{screen}");
    }

    #[test]
    fn small_terminal_does_not_panic() {
        let app = App {
            host: Some(Box::new(sample_host())),
            ..App::default()
        };
        for (w, h) in [(1, 1), (20, 5), (80, 10), (200, 60)] {
            render(&app, w, h);
        }
    }
}
