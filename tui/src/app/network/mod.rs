//! The network screen's state and keys, and the safe-apply status. The
//! configuration being edited is shared with the hostname/DNS/NTP screen.
//!
//! Every change re-validates the whole draft with `lqx_core`'s
//! validation, the same code lqxd refuses with, so an inline message and
//! the agent's answer agree; nothing is sent while a message stands.

mod dialogs;
mod draft;

pub use dialogs::{BondForm, VLAN_ROWS, VlanForm, vlan_name};
pub use draft::{BOND_MODES, Draft, LinkDraft, V4_MODES, V6_MODES, describe_field};

use crate::event::{Effect, NetworkOp};
use crate::keymap::Command;
use crate::widgets::move_cursor;
use lqx_api::{BondMode, HostInfo, LinkKind, NetworkStatus, PendingApply};
use lqx_core::network::{NicFacts, ValidationErrors};

/// A field of the link editor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EditRow {
    /// IPv4 mode.
    V4Mode,
    /// Static IPv4 addresses.
    V4Addresses,
    /// Static IPv4 gateway.
    V4Gateway,
    /// IPv6 mode.
    V6Mode,
    /// Static IPv6 addresses.
    V6Addresses,
    /// Static IPv6 gateway.
    V6Gateway,
    /// MTU.
    Mtu,
    /// Bond mode (bonds only).
    BondMode,
    /// Whether this is the management link.
    Management,
}

impl EditRow {
    /// Whether the row is a text field.
    pub fn is_text(self) -> bool {
        matches!(
            self,
            EditRow::V4Addresses
                | EditRow::V4Gateway
                | EditRow::V6Addresses
                | EditRow::V6Gateway
                | EditRow::Mtu
        )
    }
}

/// The editor's rows for `link`: static fields only when static.
pub fn edit_rows(link: &LinkDraft) -> Vec<EditRow> {
    let mut rows = vec![EditRow::V4Mode];
    if link.v4_static() {
        rows.extend([EditRow::V4Addresses, EditRow::V4Gateway]);
    }
    rows.push(EditRow::V6Mode);
    if link.v6_static() {
        rows.extend([EditRow::V6Addresses, EditRow::V6Gateway]);
    }
    rows.push(EditRow::Mtu);
    if matches!(link.kind, LinkKind::Bond { .. }) {
        rows.push(EditRow::BondMode);
    }
    rows.push(EditRow::Management);
    rows
}

/// What the network screen shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum NetView {
    /// The list of links.
    #[default]
    List,
    /// One link's fields; `row` indexes [`edit_rows`].
    Edit {
        /// Focused row.
        row: usize,
    },
    /// Adding a VLAN.
    AddVlan(Box<VlanForm>),
    /// Adding a bond.
    AddBond(Box<BondForm>),
}

/// Network status and the configuration being edited.
#[derive(Clone, Debug, Default)]
pub struct NetworkState {
    /// The agent's network status, as last read.
    pub status: Option<Box<NetworkStatus>>,
    /// The configuration being edited; `None` until the saved one (or
    /// the host's facts) is known.
    pub draft: Option<Draft>,
    /// Whether the draft has edits not yet sent.
    pub dirty: bool,
    /// Problems with the draft; nothing is sent while there are any.
    pub errors: Option<ValidationErrors>,
    /// Selected link in the list.
    pub cursor: usize,
    /// What the screen shows.
    pub view: NetView,
    /// The last answer to an apply, confirm or revert.
    pub message: Option<String>,
    /// Waiting for the agent to apply, confirm or revert.
    pub busy: bool,
}

impl NetworkState {
    /// The apply waiting for confirmation, if any.
    pub fn pending(&self) -> Option<&PendingApply> {
        self.status.as_ref().and_then(|s| s.pending.as_ref())
    }

    /// Whether keys go into a text field.
    pub fn typing(&self) -> bool {
        let Some(draft) = &self.draft else {
            return false;
        };
        match &self.view {
            NetView::List => false,
            NetView::Edit { row } => draft
                .links
                .get(self.cursor)
                .and_then(|l| edit_rows(l).get(*row).copied())
                .is_some_and(EditRow::is_text),
            NetView::AddVlan(form) => form.row == 1 || form.row == 2,
            NetView::AddBond(form) => form.row == 0,
        }
    }

    /// The agent answered with its network status.
    pub fn status_known(
        &mut self,
        op: NetworkOp,
        status: Box<NetworkStatus>,
        host: Option<&HostInfo>,
        nics: Option<&[NicFacts]>,
    ) {
        let outcome = status.last_outcome.as_ref().map(|o| o.message.clone());
        self.status = Some(status);
        match op {
            NetworkOp::Fetch => {}
            NetworkOp::Apply => {
                self.busy = false;
                self.dirty = false;
                self.message = Some(
                    "Applied. Check the host is still reachable, then confirm (C); \
                     otherwise the previous configuration comes back by itself."
                        .into(),
                );
            }
            NetworkOp::Confirm | NetworkOp::Revert => {
                self.busy = false;
                self.message = outcome;
            }
        }
        if !self.dirty {
            self.reload(host);
        }
        self.revalidate(nics);
    }

    /// The host's facts arrived: a first draft can be built from them.
    pub fn host_known(&mut self, host: Option<&HostInfo>, nics: Option<&[NicFacts]>) {
        if self.draft.is_none() {
            self.reload(host);
        }
        self.revalidate(nics);
    }

    /// Rebuilds the draft from the saved configuration, or from the
    /// host's facts when none is saved.
    fn reload(&mut self, host: Option<&HostInfo>) {
        let Some(status) = &self.status else { return };
        self.draft = match (&status.desired, host) {
            (Some(config), _) => Some(Draft::from_config(config)),
            (None, Some(host)) => Some(Draft::from_host(host)),
            (None, None) => None,
        };
        let links = self.draft.as_ref().map_or(0, |d| d.links.len());
        self.cursor = self.cursor.min(links.saturating_sub(1));
        if !matches!(self.view, NetView::List) {
            self.view = NetView::List;
        }
    }

    /// Re-checks the draft.
    pub fn revalidate(&mut self, nics: Option<&[NicFacts]>) {
        self.errors = self.draft.as_ref().and_then(|d| d.check(nics).1);
    }

    /// The inline message for `field` (a path such as `links[0].mtu`).
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors.as_ref()?.for_field(field)
    }

    /// Validates and, when nothing is wrong, asks the agent to save and
    /// apply; otherwise says what stops it and sends nothing.
    pub fn apply(&mut self, nics: Option<&[NicFacts]>) -> Vec<Effect> {
        let Some(draft) = &self.draft else {
            self.message = Some("The network configuration has not been read yet.".into());
            return vec![];
        };
        if self.busy {
            return vec![];
        }
        let (config, errors) = draft.check(nics);
        if let Some(errors) = errors {
            let first = &errors.0[0];
            self.message = Some(format!(
                "Nothing was sent: {} problem(s). First: {}: {}",
                errors.0.len(),
                describe_field(draft, &first.field),
                first.message
            ));
            self.errors = Some(errors);
            return vec![];
        }
        self.busy = true;
        self.message = Some("Saving and applying...".into());
        vec![Effect::SaveAndApply(Box::new(config))]
    }

    /// Keys on the network screen.
    pub fn command(
        &mut self,
        command: Command,
        host: Option<&HostInfo>,
        nics: Option<&[NicFacts]>,
    ) -> Vec<Effect> {
        if self.draft.is_none() {
            return vec![];
        }
        let changed = match std::mem::take(&mut self.view) {
            NetView::List => return self.list_command(command, host, nics),
            NetView::Edit { row } => self.edit_command(row, command),
            NetView::AddVlan(form) => self.vlan_command(*form, command, nics),
            NetView::AddBond(form) => self.bond_command(*form, command, nics),
        };
        if changed {
            self.dirty = true;
            self.revalidate(nics);
        }
        vec![]
    }

    fn list_command(
        &mut self,
        command: Command,
        host: Option<&HostInfo>,
        nics: Option<&[NicFacts]>,
    ) -> Vec<Effect> {
        let Some(draft) = self.draft.as_mut() else {
            return vec![];
        };
        let n = draft.links.len();
        if move_cursor(&mut self.cursor, command, n) {
            return vec![];
        }
        match command {
            Command::Enter if n > 0 => self.view = NetView::Edit { row: 0 },
            Command::Letter('m') if n > 0 => {
                draft.management = draft.links[self.cursor].name.clone();
                self.changed(nics);
            }
            Command::Letter('v') => {
                self.view = NetView::AddVlan(Box::new(self.new_vlan(nics)));
            }
            Command::Letter('b') => self.view = NetView::AddBond(Box::new(self.new_bond(nics))),
            Command::Letter('d') if n > 0 => self.delete(nics),
            Command::Letter('a') => return self.apply(nics),
            Command::Letter('u') => {
                self.dirty = false;
                self.message = Some("Edits discarded.".into());
                self.reload(host);
                self.revalidate(nics);
            }
            _ => {}
        }
        vec![]
    }

    fn changed(&mut self, nics: Option<&[NicFacts]>) {
        self.dirty = true;
        self.revalidate(nics);
    }

    fn edit_command(&mut self, mut row: usize, command: Command) -> bool {
        let Some(link) = self
            .draft
            .as_mut()
            .and_then(|d| d.links.get_mut(self.cursor))
        else {
            return false;
        };
        let rows = edit_rows(link);
        let Some(&current) = rows.get(row) else {
            return false;
        };
        let mut changed = false;
        match command {
            Command::Back => return false,
            Command::Up | Command::Down => {
                move_cursor(&mut row, command, rows.len());
            }
            Command::Enter => row = (row + 1).min(rows.len() - 1),
            other => {
                changed = match current {
                    EditRow::V4Mode => link.ipv4.edit(other),
                    EditRow::V6Mode => link.ipv6.edit(other),
                    EditRow::V4Addresses => link.v4_addresses.edit(other),
                    EditRow::V4Gateway => link.v4_gateway.edit(other),
                    EditRow::V6Addresses => link.v6_addresses.edit(other),
                    EditRow::V6Gateway => link.v6_gateway.edit(other),
                    EditRow::Mtu => link.mtu.edit(other),
                    EditRow::BondMode => toggle_bond_mode(&mut link.kind, other),
                    EditRow::Management => {
                        let toggle =
                            matches!(other, Command::Left | Command::Right | Command::Toggle);
                        if toggle {
                            let name = link.name.clone();
                            if let Some(draft) = self.draft.as_mut() {
                                draft.management = if draft.management == name {
                                    String::new()
                                } else {
                                    name
                                };
                            }
                        }
                        toggle
                    }
                };
            }
        }
        self.view = NetView::Edit { row };
        changed
    }

    /// Deletes the selected VLAN or bond; NICs stay (their addressing can
    /// be disabled instead).
    fn delete(&mut self, nics: Option<&[NicFacts]>) {
        let Some(draft) = self.draft.as_mut() else {
            return;
        };
        let link = draft.links[self.cursor].clone();
        match &link.kind {
            LinkKind::Ethernet => {
                self.message = Some(format!(
                    "{} is a NIC and stays; set its IPv4 and IPv6 to disabled instead.",
                    link.name
                ));
                return;
            }
            LinkKind::Vlan { parent, .. } => {
                draft.links.remove(self.cursor);
                draft.move_role(std::slice::from_ref(&link.name), parent);
            }
            LinkKind::Bond { members, .. } => {
                draft.links.remove(self.cursor);
                // The members become NICs of their own again; the first
                // takes over the bond's addressing and roles so that a
                // management bond does not leave the host unreachable.
                for (i, member) in members.iter().enumerate() {
                    let own = if i == 0 {
                        LinkDraft {
                            name: member.clone(),
                            kind: LinkKind::Ethernet,
                            ..link.clone()
                        }
                    } else {
                        LinkDraft::new(member.clone(), LinkKind::Ethernet)
                    };
                    draft.links.push(own);
                }
                if let Some(first) = members.first() {
                    draft.move_role(std::slice::from_ref(&link.name), first);
                }
            }
        }
        self.cursor = self.cursor.min(draft.links.len().saturating_sub(1));
        self.message = Some(format!("{} removed; press A to save and apply.", link.name));
        self.changed(nics);
    }
}

fn toggle_bond_mode(kind: &mut LinkKind, command: Command) -> bool {
    let LinkKind::Bond { mode, .. } = kind else {
        return false;
    };
    if !matches!(command, Command::Left | Command::Right | Command::Toggle) {
        return false;
    }
    *mode = match mode {
        BondMode::ActiveBackup => BondMode::Lacp,
        BondMode::Lacp => BondMode::ActiveBackup,
    };
    true
}
