//! The console's state; it changes only in [`App::handle`].

use crate::event::{Effect, Event};
use crate::keymap::{self, Command};
use lqx_api::{HostInfo, InstallInfo, InstallPhase, PowerAction};
use time::OffsetDateTime;

/// The screens, in Tab order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Screen {
    /// What the host is and how to reach it.
    #[default]
    Status,
    /// Installing the live system onto a disk.
    Install,
}

impl Screen {
    /// Every screen, in Tab order.
    pub const ALL: [Screen; 2] = [Screen::Status, Screen::Install];

    /// Title in the tab bar.
    pub fn title(self) -> &'static str {
        match self {
            Screen::Status => "Status",
            Screen::Install => "Install",
        }
    }
}

/// Where the operator is in the installation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InstallStep {
    /// Choosing a disk; `cursor` indexes the disk list.
    Choose {
        /// Highlighted disk.
        cursor: usize,
    },
    /// Typing the disk's name to confirm.
    Confirm {
        /// The chosen disk.
        disk: String,
        /// What has been typed.
        typed: String,
        /// Why the last attempt was refused.
        error: Option<String>,
    },
    /// Writing and verifying; progress comes from the agent.
    Running,
}

impl Default for InstallStep {
    fn default() -> Self {
        Self::Choose { cursor: 0 }
    }
}

/// What the console knows.
#[derive(Debug, Default)]
pub struct App {
    /// The screen shown.
    pub screen: Screen,
    /// The host as last read.
    pub host: Option<Box<HostInfo>>,
    /// Why the last read failed, if it did.
    pub error: Option<String>,
    /// When the last successful read finished.
    pub updated_at: Option<OffsetDateTime>,
    /// The installer's view, as last read.
    pub install: Option<Box<InstallInfo>>,
    /// Step of the install screen.
    pub install_step: InstallStep,
    /// A one-line message for the operator (e.g. why a key did nothing).
    pub notice: Option<String>,
    /// The operator asked to leave.
    pub quit: bool,
    pub(crate) fetching_host: bool,
    pub(crate) fetching_install: bool,
}

/// Longest text accepted in a field.
const MAX_TYPED: usize = 64;

impl App {
    /// Applies one event at time `now`, returning the work to start.
    pub fn handle(&mut self, event: Event, now: OffsetDateTime) -> Vec<Effect> {
        match event {
            Event::Key(key) => match keymap::command(key, self.typing()) {
                Some(command) => self.command(command),
                None => vec![],
            },
            Event::Tick => self.refresh(),
            Event::Resize => vec![],
            Event::Host(result) => {
                self.fetching_host = false;
                match result {
                    Ok(host) => {
                        self.host = Some(host);
                        self.error = None;
                        self.updated_at = Some(now);
                    }
                    // Keep showing the last known host, marked stale.
                    Err(message) => self.error = Some(message),
                }
                vec![]
            }
            Event::Install(result) => {
                self.fetching_install = false;
                if let Ok(info) = result {
                    self.install = Some(info);
                }
                vec![]
            }
            Event::InstallStarted(result) => {
                match result {
                    Ok(_) => self.install_step = InstallStep::Running,
                    Err(message) => {
                        if let InstallStep::Confirm { error, .. } = &mut self.install_step {
                            *error = Some(message);
                        }
                    }
                }
                self.fetch_install()
            }
            Event::Power(result) => {
                self.notice = Some(match result {
                    Ok(()) => "Restarting...".into(),
                    Err(message) => message,
                });
                vec![]
            }
        }
    }

    /// Whether keys go into a text field.
    pub fn typing(&self) -> bool {
        self.screen == Screen::Install && matches!(self.install_step, InstallStep::Confirm { .. })
    }

    fn command(&mut self, command: Command) -> Vec<Effect> {
        self.notice = None;
        match command {
            Command::Quit => {
                self.quit = true;
                vec![]
            }
            Command::Refresh => self.refresh(),
            Command::NextScreen | Command::PrevScreen => {
                let i = Screen::ALL
                    .iter()
                    .position(|s| *s == self.screen)
                    .unwrap_or(0);
                let n = Screen::ALL.len();
                let next = if command == Command::NextScreen {
                    i + 1
                } else {
                    i + n - 1
                };
                self.screen = Screen::ALL[next % n];
                self.refresh()
            }
            Command::Install => {
                self.screen = Screen::Install;
                self.fetch_install()
            }
            other => match self.screen {
                Screen::Status => vec![],
                Screen::Install => self.install_command(other),
            },
        }
    }

    fn install_command(&mut self, command: Command) -> Vec<Effect> {
        let disks = self
            .install
            .as_ref()
            .map(|i| i.disks.as_slice())
            .unwrap_or_default();
        let phase = self.install.as_ref().map(|i| i.progress.phase);
        match (&mut self.install_step, command) {
            (InstallStep::Choose { cursor }, Command::Up) => *cursor = cursor.saturating_sub(1),
            (InstallStep::Choose { cursor }, Command::Down) => {
                *cursor = (*cursor + 1).min(disks.len().saturating_sub(1));
            }
            (InstallStep::Choose { cursor }, Command::Enter) => {
                let available = self.install.as_ref().is_some_and(|i| i.available);
                match disks.get(*cursor) {
                    _ if !available => {
                        self.notice = Some("Installation runs from the live ISO.".into());
                    }
                    Some(disk) if disk.eligible => {
                        self.install_step = InstallStep::Confirm {
                            disk: disk.name.clone(),
                            typed: String::new(),
                            error: None,
                        };
                    }
                    Some(disk) => {
                        self.notice = Some(format!(
                            "{} cannot be used: {}",
                            disk.name,
                            disk.reason.as_deref().unwrap_or("not eligible")
                        ));
                    }
                    None => self.notice = Some("No disk to choose.".into()),
                }
            }
            (InstallStep::Confirm { typed, error, .. }, Command::Char(c)) => {
                if typed.len() < MAX_TYPED {
                    typed.push(c);
                }
                *error = None;
            }
            (InstallStep::Confirm { typed, .. }, Command::Backspace) => {
                typed.pop();
            }
            (InstallStep::Confirm { .. }, Command::Back) => {
                self.install_step = InstallStep::default();
                self.notice = Some("Cancelled; nothing was written.".into());
            }
            (InstallStep::Confirm { disk, typed, error }, Command::Enter) => {
                if typed.trim() == disk {
                    return vec![Effect::StartInstall {
                        disk: disk.clone(),
                        confirm: typed.clone(),
                    }];
                }
                *error = Some(format!(
                    "\"{}\" is not \"{disk}\": type the disk's name exactly",
                    typed.trim()
                ));
            }
            (InstallStep::Running, Command::Enter) => match phase {
                Some(InstallPhase::Done) => return vec![Effect::Power(PowerAction::Reboot)],
                Some(InstallPhase::Failed) => self.install_step = InstallStep::default(),
                _ => {}
            },
            _ => {}
        }
        vec![]
    }

    fn refresh(&mut self) -> Vec<Effect> {
        let mut effects = vec![];
        if !self.fetching_host {
            self.fetching_host = true;
            effects.push(Effect::FetchHost);
        }
        effects.extend(self.fetch_install());
        effects
    }

    fn fetch_install(&mut self) -> Vec<Effect> {
        if self.fetching_install {
            return vec![];
        }
        self.fetching_install = true;
        vec![Effect::FetchInstall]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::sample::{sample_host, sample_install};
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    const NOW: OffsetDateTime = OffsetDateTime::UNIX_EPOCH;

    fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
        app.handle(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)), NOW)
    }

    fn type_text(app: &mut App, text: &str) {
        for c in text.chars() {
            key(app, KeyCode::Char(c));
        }
    }

    #[test]
    fn one_fetch_at_a_time_and_errors_keep_last_host() {
        let mut app = App::default();
        assert_eq!(
            app.handle(Event::Tick, NOW),
            vec![Effect::FetchHost, Effect::FetchInstall]
        );
        assert_eq!(app.handle(Event::Tick, NOW), vec![], "already fetching");
        app.handle(Event::Host(Ok(Box::new(sample_host()))), NOW);
        assert!(app.host.is_some() && app.error.is_none());
        assert_eq!(key(&mut app, KeyCode::Char('r')), vec![Effect::FetchHost]);
        app.handle(Event::Host(Err("lqxd is not running".into())), NOW);
        assert!(app.host.is_some(), "last host kept");
        assert_eq!(app.error.as_deref(), Some("lqxd is not running"));
        key(&mut app, KeyCode::Char('q'));
        assert!(app.quit);
    }

    #[test]
    fn install_flow_with_refusals() {
        let mut app = App::default();
        app.handle(Event::Install(Ok(Box::new(sample_install()))), NOW);
        key(&mut app, KeyCode::Tab);
        assert_eq!(app.screen, Screen::Install);

        // sda holds the live system: refused with its reason.
        key(&mut app, KeyCode::Enter);
        assert!(
            app.notice
                .as_deref()
                .unwrap()
                .contains("sda cannot be used"),
            "{:?}",
            app.notice
        );
        assert_eq!(app.install_step, InstallStep::Choose { cursor: 0 });

        key(&mut app, KeyCode::Down);
        key(&mut app, KeyCode::Enter);
        assert!(app.typing());
        // 'q' is text here, not quit.
        type_text(&mut app, "vdq");
        assert!(!app.quit);
        assert_eq!(
            key(&mut app, KeyCode::Enter),
            vec![],
            "mismatch sends nothing"
        );
        let InstallStep::Confirm { error, .. } = &app.install_step else {
            panic!()
        };
        assert!(
            error
                .as_deref()
                .unwrap()
                .contains("type the disk's name exactly")
        );

        key(&mut app, KeyCode::Esc);
        assert_eq!(app.install_step, InstallStep::Choose { cursor: 0 });
        assert_eq!(
            app.notice.as_deref(),
            Some("Cancelled; nothing was written.")
        );

        key(&mut app, KeyCode::Down);
        key(&mut app, KeyCode::Enter);
        type_text(&mut app, "vdx");
        key(&mut app, KeyCode::Backspace);
        type_text(&mut app, "b");
        assert_eq!(
            key(&mut app, KeyCode::Enter),
            vec![Effect::StartInstall {
                disk: "vdb".into(),
                confirm: "vdb".into()
            }]
        );
        app.handle(
            Event::InstallStarted(Err("vdb cannot be used: busy".into())),
            NOW,
        );
        let InstallStep::Confirm { error, .. } = &app.install_step else {
            panic!()
        };
        assert_eq!(error.as_deref(), Some("vdb cannot be used: busy"));
    }

    #[test]
    fn done_install_offers_reboot() {
        let mut app = App {
            screen: Screen::Install,
            install_step: InstallStep::Running,
            ..App::default()
        };
        let mut info = sample_install();
        info.progress.phase = InstallPhase::Done;
        app.handle(Event::Install(Ok(Box::new(info))), NOW);
        assert_eq!(
            key(&mut app, KeyCode::Enter),
            vec![Effect::Power(PowerAction::Reboot)]
        );
    }
}
