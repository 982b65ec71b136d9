//! The install screen's state: choose a disk, confirm by typing its
//! name, watch the write, reboot.

use super::App;
use crate::event::{Effect, Reply};
use crate::keymap::Command;
use lqx_api::{InstallPhase, InstallProgress, PowerAction};

/// Longest text accepted in the disk name field.
const MAX_TYPED: usize = 64;

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

impl App {
    pub(super) fn install_command(&mut self, command: Command) -> Vec<Effect> {
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
                if typed.len() < MAX_TYPED && !c.is_control() {
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

    pub(super) fn install_started(&mut self, reply: Reply<InstallProgress>) -> Vec<Effect> {
        match reply {
            Ok(_) => self.install_step = InstallStep::Running,
            Err(failure) => {
                if let InstallStep::Confirm { error, .. } = &mut self.install_step {
                    *error = Some(failure.message);
                }
            }
        }
        self.fetch(super::Fetch::Install)
    }
}
