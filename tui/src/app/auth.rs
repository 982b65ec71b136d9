//! The admin password: set on first boot, then asked for to unlock.

use super::{App, Fetch, Screen};
use crate::event::{Effect, Reply};
use crate::keymap::Command;
use crate::widgets::TextField;
use lqx_api::AuthStatus;

/// Shortest password the console sends; lqxd also checks strength.
pub const MIN_PASSWORD: usize = 10;

/// The first-boot form: the password twice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetPasswordForm {
    /// The password.
    pub new: TextField,
    /// The same again.
    pub again: TextField,
    /// Which field has the cursor: 0 or 1.
    pub focus: usize,
    /// Inline message under the first field (length, or the agent's
    /// strength verdict).
    pub new_error: Option<String>,
    /// Inline message under the second field (mismatch).
    pub again_error: Option<String>,
    /// Waiting for the agent.
    pub busy: bool,
}

impl Default for SetPasswordForm {
    fn default() -> Self {
        Self {
            new: TextField::masked(),
            again: TextField::masked(),
            focus: 0,
            new_error: None,
            again_error: None,
            busy: false,
        }
    }
}

impl SetPasswordForm {
    fn length_error(&self) -> Option<String> {
        let n = self.new.value().chars().count();
        (n < MIN_PASSWORD).then(|| format!("At least {MIN_PASSWORD} characters ({n} typed)."))
    }
}

/// The unlock prompt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnlockForm {
    /// The password typed.
    pub password: TextField,
    /// Why the last attempt failed.
    pub error: Option<String>,
    /// Waiting for the agent.
    pub busy: bool,
    /// An action asked for while locked, done once unlocked.
    pub after: Option<Command>,
}

impl Default for UnlockForm {
    fn default() -> Self {
        Self {
            password: TextField::masked(),
            error: None,
            busy: false,
            after: None,
        }
    }
}

impl App {
    /// Keys on the first-boot form. Tab moves between its two fields:
    /// nothing else is reachable until a password is set.
    pub(super) fn set_password_command(&mut self, command: Command) -> Vec<Effect> {
        let form = &mut self.set_password;
        if form.busy {
            return vec![];
        }
        match command {
            Command::NextScreen | Command::PrevScreen | Command::Up | Command::Down => {
                let to = match command {
                    Command::Up => 0,
                    Command::Down => 1,
                    _ => 1 - form.focus,
                };
                if form.focus == 0 && to == 1 {
                    form.new_error = form.length_error();
                }
                form.focus = to;
            }
            Command::Enter if form.focus == 0 => {
                form.new_error = form.length_error();
                form.focus = 1;
            }
            Command::Enter => return self.submit_password(),
            Command::Back => *form = SetPasswordForm::default(),
            other => {
                let (field, error) = if form.focus == 0 {
                    (&mut form.new, &mut form.new_error)
                } else {
                    (&mut form.again, &mut form.again_error)
                };
                if field.edit(other) {
                    *error = None;
                }
            }
        }
        vec![]
    }

    fn submit_password(&mut self) -> Vec<Effect> {
        let form = &mut self.set_password;
        form.new_error = form.length_error();
        form.again_error = (form.new.value() != form.again.value())
            .then(|| "The two passwords differ; type it again.".to_owned());
        if form.new_error.is_some() {
            form.focus = 0;
            return vec![];
        }
        if form.again_error.is_some() {
            form.again.clear();
            return vec![];
        }
        form.busy = true;
        vec![Effect::SetPassword {
            new: form.new.value().to_owned(),
        }]
    }

    pub(super) fn password_set(&mut self, reply: Reply<()>) -> Vec<Effect> {
        self.set_password.busy = false;
        match reply {
            Ok(()) => {
                // The operator just proved they know it: start unlocked.
                self.auth = Some(AuthStatus {
                    password_set: true,
                    changed_at: Some(self.now),
                });
                self.unlocked = true;
                self.last_input = self.now;
                self.set_password = SetPasswordForm::default();
                self.screen = Screen::Status;
                self.notice = Some("Admin password set. The console locks when idle.".into());
                self.fetch(Fetch::Auth)
            }
            Err(failure) => {
                let form = &mut self.set_password;
                form.new_error = Some(failure.message);
                form.focus = 0;
                form.again.clear();
                if failure.status == Some(409) {
                    // Set meanwhile (e.g. with the CLI): re-read.
                    return self.fetch(Fetch::Auth);
                }
                vec![]
            }
        }
    }

    /// Keys on the unlock prompt.
    pub(super) fn unlock_command(&mut self, command: Command) -> Vec<Effect> {
        let form = &mut self.unlock;
        if form.busy {
            return vec![];
        }
        match command {
            Command::Enter if form.password.value().is_empty() => {
                form.error = Some("Type the admin password.".into());
            }
            Command::Enter => {
                form.busy = true;
                let password = form.password.value().to_owned();
                form.password.clear();
                return vec![Effect::Verify { password }];
            }
            Command::Back => {
                *form = UnlockForm::default();
                if !self.screen.open_when_locked() {
                    self.screen = Screen::Status;
                }
            }
            other => {
                if form.password.edit(other) {
                    form.error = None;
                }
            }
        }
        vec![]
    }

    pub(super) fn verified(&mut self, reply: Reply<()>) -> Vec<Effect> {
        self.unlock.busy = false;
        match reply {
            Ok(()) => {
                self.unlocked = true;
                self.last_input = self.now;
                let after = self.unlock.after.take();
                self.unlock = UnlockForm::default();
                self.notice = Some("Unlocked.".into());
                let mut effects = self.enter_fetches();
                if let Some(command) = after {
                    effects.extend(self.pending_action(command));
                }
                effects
            }
            Err(failure) => {
                self.unlock.error = Some(failure.message);
                if failure.status == Some(409) {
                    // No password after all (state reset): re-read.
                    return self.fetch(Fetch::Auth);
                }
                vec![]
            }
        }
    }
}
