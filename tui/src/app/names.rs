//! The hostname/DNS/NTP screen: the naming fields of the same network
//! configuration the network screen edits, with the same apply.

use super::network::NetworkState;
use crate::event::Effect;
use crate::keymap::Command;
use crate::widgets::{TextField, move_cursor};
use lqx_core::network::NicFacts;

/// The fields, in screen order, with the configuration path their
/// messages come under.
pub const FIELDS: [(&str, &str); 4] = [
    ("Hostname", "hostname"),
    ("DNS servers", "dns.servers"),
    ("Search domains", "dns.search"),
    ("NTP servers", "ntp"),
];

/// Row of the "Save and apply" button.
pub const APPLY_ROW: usize = FIELDS.len();

/// The hostname/DNS/NTP screen's state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NamesState {
    /// Focused row: a field, or [`APPLY_ROW`].
    pub row: usize,
}

/// The text field of row `row` of `draft`.
pub fn field(draft: &super::network::Draft, row: usize) -> Option<&TextField> {
    Some(match row {
        0 => &draft.hostname,
        1 => &draft.dns_servers,
        2 => &draft.dns_search,
        3 => &draft.ntp,
        _ => return None,
    })
}

impl NamesState {
    /// Whether keys go into a text field.
    pub fn typing(&self, net: &NetworkState) -> bool {
        net.draft.is_some() && self.row < APPLY_ROW
    }

    /// Keys on the screen.
    pub fn command(
        &mut self,
        command: Command,
        net: &mut NetworkState,
        nics: Option<&[NicFacts]>,
    ) -> Vec<Effect> {
        let Some(draft) = net.draft.as_mut() else {
            return vec![];
        };
        if move_cursor(&mut self.row, command, APPLY_ROW + 1) {
            return vec![];
        }
        match command {
            Command::Enter if self.row == APPLY_ROW => return net.apply(nics),
            Command::Enter => self.row += 1,
            other => {
                let text = match self.row {
                    0 => &mut draft.hostname,
                    1 => &mut draft.dns_servers,
                    2 => &mut draft.dns_search,
                    3 => &mut draft.ntp,
                    _ => return vec![],
                };
                if text.edit(other) {
                    net.dirty = true;
                    net.revalidate(nics);
                }
            }
        }
        vec![]
    }
}
