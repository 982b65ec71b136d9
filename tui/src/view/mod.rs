//! Drawing. Pure functions of [`App`]: nothing here reads the system or
//! the clock (countdowns use [`App::now`]).

mod auth;
mod ceph;
mod cluster;
mod diagnostics;
mod install;
mod names;
mod network;
mod ovn;
mod power;
mod qr;
#[doc(hidden)]
pub mod sample;
mod ssh;
mod status;
pub mod summary;
#[cfg(test)]
mod tests;
pub mod widgets;

use crate::app::{Access, App, NetView, Screen};
use lqx_api::ApplyResult;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// How long the end of a network apply stays in the banner.
const OUTCOME_SHOWN: time::Duration = time::Duration::seconds(120);

/// Draws the whole screen.
pub fn draw(frame: &mut Frame<'_>, app: &App) {
    let banner = banner(app);
    let [title, banner_area, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(u16::from(banner.is_some())),
        Constraint::Min(0),
        Constraint::Length(2),
    ])
    .areas(frame.area());
    draw_title(frame, title, app);
    if let Some(banner) = banner {
        frame.render_widget(Paragraph::new(banner), banner_area);
    }
    match app.access() {
        Access::SetPassword => auth::set_password(frame, body, app),
        _ if app.unlock_shown() && !app.screen.open_when_locked() => {
            auth::unlock(frame, body, app, app.screen.title());
        }
        _ => {
            draw_screen(frame, body, app);
            if app.unlock_shown() {
                auth::unlock_popup(frame, body, app);
            }
        }
    }
    draw_footer(frame, footer, app);
}

fn draw_screen(frame: &mut Frame<'_>, body: Rect, app: &App) {
    match app.screen {
        Screen::Status => status::draw(frame, body, app),
        Screen::Install => install::draw(frame, body, app),
        Screen::Network => network::draw(frame, body, app),
        Screen::Names => names::draw(frame, body, app),
        Screen::Diagnostics => diagnostics::draw(frame, body, app),
        Screen::Ssh => ssh::draw(frame, body, app),
        Screen::Power => power::draw(frame, body, app),
        Screen::Ovn => ovn::draw(frame, body, app),
        Screen::Ceph => ceph::draw(frame, body, app),
        Screen::Cluster => cluster::draw(frame, body, app),
    }
}

/// The tab bar: the product's name when it fits, the tabs, the lock
/// state and the hostname.
fn draw_title(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let hostname = app.host.as_ref().map_or("", |h| h.facts.hostname.as_str());
    let lock = match app.access() {
        Access::Live => "live",
        Access::SetPassword => "no password",
        Access::Locked => "locked",
        Access::Unlocked => "unlocked",
    };
    let mut tabs = vec![];
    // Before the first password nothing else is reachable: no tabs.
    let screens = match app.access() {
        Access::SetPassword => vec![],
        _ => app.tabs(),
    };
    for screen in screens {
        let tab = Span::raw(format!(" {} ", screen.title()));
        tabs.push(if screen == app.screen {
            tab.underlined().bold()
        } else {
            tab
        });
    }
    let brand = Span::raw(" LimiQuantix ").add_modifier(Modifier::BOLD);
    let width = usize::from(area.width);
    let tabs_width: usize = tabs.iter().map(Span::width).sum();
    let right = format!("[{lock}] {hostname} ");
    let mut spans = vec![];
    if brand.width() + tabs_width + right.len() <= width {
        spans.push(brand);
    } else {
        spans.push(Span::raw(" "));
    }
    spans.extend(tabs);
    let used: usize = spans.iter().map(Span::width).sum();
    let room = width.saturating_sub(used);
    let right = if right.len() <= room {
        right
    } else {
        format!("[{lock}] ")
    };
    spans.push(Span::raw(format!("{right:>room$}")));
    frame.render_widget(
        Paragraph::new(Line::from(spans)).style(Style::new().reversed()),
        area,
    );
}

/// The safe-apply banner, on every screen: the countdown while an apply
/// waits for confirmation, then for a while how it ended.
fn banner(app: &App) -> Option<Line<'static>> {
    let status = app.net.status.as_ref()?;
    if let Some(pending) = &status.pending {
        let left = (pending.deadline - app.now).whole_seconds();
        let text = format!(
            " Network applied: confirm within {} or it reverts.  C confirm  X revert now ",
            widgets::countdown(left)
        );
        return Some(Line::from(text).black().on_yellow().bold());
    }
    let outcome = status.last_outcome.as_ref()?;
    if app.now - outcome.at > OUTCOME_SHOWN || app.now < outcome.at - OUTCOME_SHOWN {
        return None;
    }
    let line = Line::from(format!(" Network: {} ", outcome.message));
    Some(match outcome.result {
        ApplyResult::Confirmed => line.black().on_green(),
        _ => line.white().on_red(),
    })
}

fn draw_footer(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let updated = app.updated_at.map(|t| format!("{} UTC", widgets::clock(t)));
    let state = match (&app.error, &updated) {
        _ if app.notice.is_some() => {
            Line::from(format!(" {}", app.notice.as_deref().unwrap_or_default())).yellow()
        }
        (Some(err), Some(at)) => Line::from(format!(" {err} (showing data from {at})")).red(),
        (Some(err), None) => Line::from(format!(" {err}")).red(),
        (None, Some(at)) => Line::from(format!(" Updated {at}")),
        (None, None) => Line::from(" Contacting lqxd..."),
    };
    let mut keys = vec![Span::raw(" ")];
    for (key, what) in hints(app) {
        keys.push(Span::raw(key).bold());
        keys.push(Span::raw(format!(" {what}  ")));
    }
    frame.render_widget(Paragraph::new(vec![state, Line::from(keys)]), area);
}

/// The keys that do something now, for the footer.
fn hints(app: &App) -> Vec<(&'static str, &'static str)> {
    if app.access() == Access::SetPassword {
        return vec![
            ("Enter", "Next/Set"),
            ("Tab", "Other field"),
            ("Esc", "Clear"),
        ];
    }
    if app.unlock_shown() {
        return vec![("Enter", "Unlock"), ("Esc", "Back"), ("Tab", "Screens")];
    }
    // C/X for a pending apply are in its banner, not repeated here.
    screen_hints(app)
}

fn screen_hints(app: &App) -> Vec<(&'static str, &'static str)> {
    // Only an unlocked console has something to lock.
    let lockable = app.access() == Access::Unlocked;
    let general = |first: Vec<(&'static str, &'static str)>| {
        let mut hints = first;
        hints.push(("Tab", "Screens"));
        if lockable {
            hints.push(("L", "Lock"));
        }
        hints.extend([("R", "Refresh"), ("Q", "Quit")]);
        hints
    };
    match app.screen {
        Screen::Install if app.typing() => vec![("Enter", "Confirm"), ("Esc", "Cancel")],
        Screen::Install => vec![
            ("Up/Down", "Choose"),
            ("Enter", "Select"),
            ("Tab", "Screens"),
            ("Q", "Quit"),
        ],
        Screen::Status => general(vec![("I", "Install")]),
        Screen::Network => network_hints(app),
        Screen::Names => vec![
            ("Up/Down", "Field"),
            ("Enter", "Next/Apply"),
            ("Tab", "Screens"),
            ("F12", "Lock"),
        ],
        Screen::Diagnostics if app.typing() => vec![("Enter", "Show unit"), ("Esc", "Cancel")],
        Screen::Diagnostics => vec![
            ("Up/Dn/PgUp/PgDn", "Scroll"),
            ("Left/Right", "Unit"),
            ("T", "Type unit"),
            ("R", "Re-run"),
            ("Tab", "Screens"),
        ],
        Screen::Ssh => vec![
            ("Up/Down", "Field"),
            ("Enter", "Next/Enable"),
            ("E/D", "Enable/Disable"),
            ("Tab", "Screens"),
        ],
        Screen::Power if app.power.confirm.is_some() => {
            vec![("Y", "Yes, do it"), ("Esc", "Cancel")]
        }
        Screen::Power => general(vec![("Up/Down", "Choose"), ("Enter", "Select")]),
        Screen::Ovn => vec![
            ("Up/Down", "Field"),
            ("Enter", "Next/Register"),
            ("R/U", "Register/Unregister"),
            ("Tab", "Screens"),
        ],
        Screen::Ceph if app.ceph.confirm_leave => vec![("Y", "Yes, leave"), ("Esc", "Cancel")],
        Screen::Ceph => vec![
            ("Up/Down", "Field"),
            ("Enter", "Next/Join"),
            ("Tab", "Screens"),
            ("F12", "Lock"),
        ],
        Screen::Cluster => cluster_hints(app, general),
    }
}

fn cluster_hints(
    app: &App,
    general: impl Fn(Vec<(&'static str, &'static str)>) -> Vec<(&'static str, &'static str)>,
) -> Vec<(&'static str, &'static str)> {
    use crate::app::cluster::{Confirm, JOIN, LEAVE, NAME, NEW_TOKEN, TOKEN, TTL, VOTERS};
    let state = &app.cluster;
    if let Some(confirm) = &state.confirm {
        let yes = match confirm {
            Confirm::Leave => "Yes, leave",
            Confirm::Dissolve => "Yes, dissolve",
            Confirm::Remove { .. } => "Yes, remove",
        };
        return vec![("Y", yes), ("Esc", "Cancel")];
    }
    if state.created.is_some() {
        return general(vec![("Esc", "Close the token")]);
    }
    let Some(status) = state.status.as_ref().filter(|_| state.busy.is_none()) else {
        return general(vec![]);
    };
    if status.cluster.is_none() {
        return match state.row {
            NAME => vec![
                ("Up/Down", "Field"),
                ("Enter", "Next"),
                ("Tab", "Screens"),
                ("F12", "Lock"),
            ],
            TOKEN => vec![
                ("Up/Down", "Field"),
                ("Enter", "Join"),
                ("Tab", "Screens"),
                ("F12", "Lock"),
            ],
            VOTERS => vec![
                ("Up/Down", "Field"),
                ("Left/Right/Space", "Voters"),
                ("Enter", "Create"),
                ("Tab", "Screens"),
            ],
            JOIN => general(vec![("Up/Down", "Field"), ("Enter", "Join")]),
            _ => general(vec![("Up/Down", "Field"), ("Enter", "Create")]),
        };
    }
    match state.row {
        TTL => vec![
            ("Up/Down", "Choose"),
            ("Left/Right", "Lifetime"),
            ("Enter", "Create token"),
            ("Tab", "Screens"),
        ],
        NEW_TOKEN => general(vec![("Up/Down", "Choose"), ("Enter", "Create token")]),
        LEAVE => general(vec![
            ("Up/Down", "Choose"),
            ("Enter", "Leave"),
            ("T", "Token"),
        ]),
        _ => general(vec![
            ("Up/Down", "Choose"),
            ("Enter", "Remove"),
            ("T", "Token"),
        ]),
    }
}

fn network_hints(app: &App) -> Vec<(&'static str, &'static str)> {
    match &app.net.view {
        NetView::List => vec![
            ("Enter", "Edit"),
            ("M", "Mgmt"),
            ("V", "+VLAN"),
            ("B", "+Bond"),
            ("D", "Del"),
            ("A", "Apply"),
            ("U", "Undo"),
            ("Tab", "Screens"),
        ],
        NetView::Edit { .. } => vec![
            ("Up/Down", "Field"),
            ("Left/Right/Space", "Choose"),
            ("Esc", "Back to links"),
        ],
        NetView::AddVlan(_) | NetView::AddBond(_) => vec![
            ("Up/Down", "Field"),
            ("Space", "Choose"),
            ("Enter", "Next/Add"),
            ("Esc", "Cancel"),
        ],
    }
}

/// A screen's frame: a top border with the title, and the area inside.
fn framed(frame: &mut Frame<'_>, area: Rect, title: &str) -> Rect {
    let block = ratatui::widgets::Block::new()
        .borders(ratatui::widgets::Borders::TOP)
        .title(format!(" {title} "));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    inner
}
