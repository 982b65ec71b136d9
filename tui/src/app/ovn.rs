//! The OVN screen: register this host as a chassis (southbound database,
//! tunnel address and type, provider bridge mappings), see what the
//! databases say, unregister. Fields are checked by the same validator
//! lqxd uses, so a refusal shows inline before anything is sent.

use crate::event::{Effect, OvnOp, Reply};
use crate::keymap::Command;
use crate::widgets::{Choice, TextField, edit_clearing, move_cursor, split_list};
use lqx_api::{ChassisRequest, ChassisStatus, EncapType};
use std::net::IpAddr;

/// Rows: SB remote, encap IP, encap type, mappings, Register, Unregister.
pub const ROWS: usize = 6;

/// The OVN screen's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OvnState {
    /// The status as last read.
    pub status: Option<ChassisStatus>,
    /// Southbound remotes.
    pub sb_remote: TextField,
    /// Tunnel endpoint address.
    pub encap_ip: TextField,
    /// Geneve or VXLAN.
    pub encap_type: Choice,
    /// `PHYSNET:BRIDGE` pairs.
    pub mappings: TextField,
    /// Focused row.
    pub row: usize,
    /// Inline messages: remote, address, mappings.
    pub errors: [Option<String>; 3],
    /// The agent's last refusal or confirmation.
    pub message: Option<String>,
    /// Waiting for the agent.
    pub busy: bool,
    /// The fields were filled from the registration already.
    filled: bool,
}

impl Default for OvnState {
    fn default() -> Self {
        Self {
            status: None,
            sb_remote: TextField::new(""),
            encap_ip: TextField::new(""),
            encap_type: Choice::new(["Geneve", "VXLAN"]),
            mappings: TextField::new(""),
            row: 0,
            errors: [None, None, None],
            message: None,
            busy: false,
            filled: false,
        }
    }
}

impl OvnState {
    /// Whether keys go into a text field.
    pub fn typing(&self) -> bool {
        matches!(self.row, 0 | 1 | 3)
    }

    /// Keys on the screen; `addresses` are this host's, for the check of
    /// the tunnel address.
    pub fn command(&mut self, command: Command, addresses: &[IpAddr]) -> Vec<Effect> {
        if self.busy {
            return vec![];
        }
        if move_cursor(&mut self.row, command, ROWS) {
            return vec![];
        }
        match (self.row, command) {
            (0..=2, Command::Enter) => self.row += 1,
            (0, other) => edit_clearing(&mut self.sb_remote, &mut self.errors[0], other),
            (1, other) => edit_clearing(&mut self.encap_ip, &mut self.errors[1], other),
            (2, other) => {
                self.encap_type.edit(other);
            }
            // R is refresh everywhere; Register is Enter on its button.
            (3 | 4, Command::Enter) => {
                return self.register(addresses);
            }
            (3, other) => edit_clearing(&mut self.mappings, &mut self.errors[2], other),
            (5, Command::Enter) | (4 | 5, Command::Letter('u')) => {
                self.busy = true;
                self.message = Some("Unregistering...".into());
                return vec![Effect::UnregisterOvn];
            }
            _ => {}
        }
        vec![]
    }

    fn register(&mut self, addresses: &[IpAddr]) -> Vec<Effect> {
        self.errors = [None, None, None];
        let Ok(encap_ip) = self.encap_ip.value().trim().parse::<IpAddr>() else {
            self.errors[1] = Some(format!(
                "\"{}\" is not an IP address",
                self.encap_ip.value().trim()
            ));
            self.row = 1;
            return vec![];
        };
        let request = ChassisRequest {
            sb_remote: self.sb_remote.value().trim().to_owned(),
            encap_ip,
            encap_type: if self.encap_type.index() == 1 {
                EncapType::Vxlan
            } else {
                EncapType::Geneve
            },
            bridge_mappings: split_list(self.mappings.value()),
            // The cluster's central's, when its southbound database is
            // the one asked for.
            ca_cert: None,
        };
        if let Err(problems) = lqx_ovn::validate(&request, addresses, false) {
            for line in problems.lines() {
                let (slot, text) = match line.split_once(": ") {
                    Some(("sb_remote", text)) => (0, text),
                    Some(("encap_ip", text)) => (1, text),
                    Some((_, text)) => (2, text),
                    None => (2, line),
                };
                self.errors[slot].get_or_insert_with(|| text.to_owned());
            }
            self.row = self
                .errors
                .iter()
                .position(Option::is_some)
                .map_or(0, |i| [0, 1, 3][i]);
            return vec![];
        }
        self.busy = true;
        self.message = Some(
            "Registering: waiting for ovn-controller's chassis in the southbound database..."
                .into(),
        );
        vec![Effect::RegisterOvn(request)]
    }

    /// An OVN call finished.
    pub fn reply(&mut self, op: OvnOp, reply: Reply<ChassisStatus>) {
        if op != OvnOp::Fetch {
            self.busy = false;
        }
        match reply {
            Ok(status) => {
                self.message = match op {
                    OvnOp::Fetch => self.message.take(),
                    OvnOp::Register => {
                        Some("Registered: the southbound database lists this host.".into())
                    }
                    OvnOp::Unregister => Some("Unregistered.".into()),
                };
                if let (false, Some(config)) = (self.filled, &status.config) {
                    let r = &config.request;
                    self.sb_remote.set(r.sb_remote.clone());
                    self.encap_ip.set(r.encap_ip.to_string());
                    self.encap_type
                        .select(usize::from(r.encap_type == EncapType::Vxlan));
                    self.mappings.set(r.bridge_mappings.join(","));
                    self.filled = true;
                }
                self.status = Some(status);
            }
            Err(failure) if failure.status == Some(422) => {
                self.message = None;
                self.errors[0] = Some(failure.message);
                self.row = 0;
            }
            Err(failure) => self.message = Some(failure.message),
        }
    }
}
