//! The power screen: reboot or shut down, each after an explicit
//! confirmation.

use crate::event::Effect;
use crate::keymap::Command;
use crate::widgets::move_cursor;
use lqx_api::PowerAction;

/// The actions, in screen order.
pub const ACTIONS: [(PowerAction, &str); 2] = [
    (PowerAction::Reboot, "Reboot"),
    (PowerAction::Poweroff, "Shut down"),
];

/// The power screen's state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PowerState {
    /// Selected action.
    pub row: usize,
    /// The action waiting for Y.
    pub confirm: Option<PowerAction>,
    /// The action last sent.
    pub sent: Option<PowerAction>,
}

impl PowerState {
    /// Keys on the screen.
    pub fn command(&mut self, command: Command) -> Vec<Effect> {
        if let Some(action) = self.confirm {
            match command {
                Command::Letter('y') => {
                    self.confirm = None;
                    self.sent = Some(action);
                    return vec![Effect::Power(action)];
                }
                Command::Back | Command::Letter('n') => self.confirm = None,
                _ => {}
            }
            return vec![];
        }
        if move_cursor(&mut self.row, command, ACTIONS.len()) {
            return vec![];
        }
        if command == Command::Enter {
            self.confirm = Some(ACTIONS[self.row].0);
        }
        vec![]
    }

    /// What to say once the agent accepted a power action.
    pub fn accepted(&self) -> String {
        match self.sent {
            Some(PowerAction::Poweroff) => "Shutting down...".into(),
            _ => "Restarting...".into(),
        }
    }
}
