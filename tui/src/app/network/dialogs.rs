//! The add-VLAN and add-bond dialogs of the network screen. Each
//! re-checks the new link in the context of the whole draft on every
//! change, so its inline messages are the agent's.

use super::draft::{BOND_MODES, Draft, LinkDraft};
use super::{NetView, NetworkState};
use crate::keymap::Command;
use crate::widgets::{Choice, TextField, move_cursor};
use lqx_api::{BondMode, LinkKind};
use lqx_core::network::{FieldError, NicFacts, ValidationErrors};

/// The add-VLAN dialog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VlanForm {
    /// The NIC or bond carrying it.
    pub parent: Choice,
    /// VLAN id as typed.
    pub id: TextField,
    /// Interface name; follows parent and id until edited.
    pub name: TextField,
    name_edited: bool,
    /// Focused row: parent, id, name, the Add button.
    pub row: usize,
    /// Problems with the new link, by field path under `links[N]`.
    pub errors: Option<ValidationErrors>,
    /// Index the new link gets.
    pub index: usize,
}

/// Rows of the VLAN dialog.
pub const VLAN_ROWS: usize = 4;

/// The default VLAN name: "<parent>.<id>" when that fits the kernel's
/// 15 characters, else "vlan<id>".
pub fn vlan_name(parent: &str, id: &str) -> String {
    let dotted = format!("{parent}.{id}");
    if dotted.len() <= 15 {
        dotted
    } else {
        format!("vlan{id}")
    }
}

/// The add-bond dialog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BondForm {
    /// Bond name.
    pub name: TextField,
    /// Mode, one of [`BOND_MODES`].
    pub mode: Choice,
    /// NICs that can be members, with whether each is chosen.
    pub members: Vec<(String, bool)>,
    /// Focused row: name, mode, each member, the Add button.
    pub row: usize,
    /// Problems with the new link.
    pub errors: Option<ValidationErrors>,
    /// Index the new link gets.
    pub index: usize,
}

impl BondForm {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.members.len() + 3
    }
}

/// Problems of the link at `index` only.
fn link_errors(errors: Option<ValidationErrors>, index: usize) -> Option<ValidationErrors> {
    let prefix = format!("links[{index}]");
    let own: Vec<FieldError> = errors?
        .0
        .into_iter()
        .filter(|e| e.field == prefix || e.field.starts_with(&format!("{prefix}.")))
        .collect();
    (!own.is_empty()).then_some(ValidationErrors(own))
}

impl VlanForm {
    fn id_value(&self) -> Result<u16, String> {
        let text = self.id.value().trim();
        if text.is_empty() {
            return Err("enter a VLAN id, 1–4094".into());
        }
        text.parse()
            .map_err(|_| format!("\"{text}\" is not a VLAN id (1–4094)"))
    }

    /// The link this dialog adds.
    fn link(&self) -> LinkDraft {
        LinkDraft::new(
            self.name.value().trim(),
            LinkKind::Vlan {
                parent: self.parent.label().to_owned(),
                id: self.id_value().unwrap_or(0),
            },
        )
    }

    /// Follows the default name and re-checks the new link in the
    /// context of the whole draft.
    fn refresh(&mut self, draft: &Draft, nics: Option<&[NicFacts]>) {
        if !self.name_edited {
            let name = vlan_name(self.parent.label(), self.id.value().trim());
            self.name.set(name);
        }
        let mut trial = draft.clone();
        trial.links.push(self.link());
        let mut errors = link_errors(trial.check(nics).1, self.index);
        if let Err(message) = self.id_value() {
            let field = format!("links[{}].kind.id", self.index);
            let own = errors.get_or_insert_with(|| ValidationErrors(vec![]));
            own.0.retain(|e| e.field != field);
            own.0.insert(0, FieldError { field, message });
        }
        if self.parent.options().is_empty() {
            let own = errors.get_or_insert_with(|| ValidationErrors(vec![]));
            own.0.insert(
                0,
                FieldError {
                    field: format!("links[{}].kind.parent", self.index),
                    message: "there is no NIC or bond to put a VLAN on".into(),
                },
            );
        }
        self.errors = errors;
    }

    /// The inline message for a field of the new link (`kind.id`, `name`,
    /// `kind.parent`).
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .as_ref()?
            .for_field(&format!("links[{}].{field}", self.index))
    }
}

impl BondForm {
    fn chosen(&self) -> Vec<String> {
        self.members
            .iter()
            .filter(|(_, on)| *on)
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// `draft` with the bond added: the members' own links removed, the
    /// bond taking the addressing of the member that carried management
    /// (else of the first member that had its own link).
    fn apply_to(&self, draft: &Draft) -> Draft {
        let members = self.chosen();
        let name = self.name.value().trim().to_owned();
        let mut next = draft.clone();
        let own: Vec<LinkDraft> = next
            .links
            .iter()
            .filter(|l| l.kind == LinkKind::Ethernet && members.contains(&l.name))
            .cloned()
            .collect();
        next.links
            .retain(|l| !(l.kind == LinkKind::Ethernet && members.contains(&l.name)));
        let template = own
            .iter()
            .find(|l| l.name == draft.management)
            .or(own.first());
        let kind = LinkKind::Bond {
            members: members.clone(),
            mode: if self.mode.index() == 0 {
                BondMode::ActiveBackup
            } else {
                BondMode::Lacp
            },
        };
        let bond = match template {
            Some(t) => LinkDraft {
                name: name.clone(),
                kind,
                ..t.clone()
            },
            None => LinkDraft::new(name.clone(), kind),
        };
        next.links.push(bond);
        next.move_role(&members, &name);
        next
    }

    fn refresh(&mut self, draft: &Draft, nics: Option<&[NicFacts]>) {
        let trial = self.apply_to(draft);
        self.index = trial.links.len() - 1;
        self.errors = link_errors(trial.check(nics).1, self.index);
    }

    /// The inline message for a field of the new bond (`name`,
    /// `kind.members`).
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .as_ref()?
            .for_field(&format!("links[{}].{field}", self.index))
    }
}

impl NetworkState {
    pub(super) fn new_vlan(&self, nics: Option<&[NicFacts]>) -> VlanForm {
        let draft = self.draft.as_ref().expect("checked by command");
        let parents = draft.vlan_parents();
        let selected = draft
            .links
            .get(self.cursor)
            .and_then(|l| parents.iter().position(|p| *p == l.name))
            .unwrap_or(0);
        let mut form = VlanForm {
            parent: Choice::new(parents).with(selected),
            id: TextField::default(),
            name: TextField::default(),
            name_edited: false,
            row: 1,
            errors: None,
            index: draft.links.len(),
        };
        form.refresh(draft, nics);
        form
    }

    pub(super) fn vlan_command(
        &mut self,
        mut form: VlanForm,
        command: Command,
        nics: Option<&[NicFacts]>,
    ) -> bool {
        let Some(draft) = self.draft.as_mut() else {
            return false;
        };
        let edited = match (form.row, command) {
            (_, Command::Back) => return false,
            (_, Command::Up | Command::Down) => {
                move_cursor(&mut form.row, command, VLAN_ROWS);
                false
            }
            (3, Command::Enter) => {
                if form.errors.is_none() {
                    let link = form.link();
                    let name = link.name.clone();
                    draft.links.push(link);
                    self.cursor = draft.links.len() - 1;
                    self.message = Some(format!("{name} added; press A to save and apply."));
                    return true;
                }
                false
            }
            (_, Command::Enter) => {
                form.row += 1;
                false
            }
            (0, other) => form.parent.edit(other),
            (1, other) => form.id.edit(other),
            (2, other) => {
                let edited = form.name.edit(other);
                form.name_edited |= edited;
                edited
            }
            _ => false,
        };
        if edited {
            form.refresh(draft, nics);
        }
        self.view = NetView::AddVlan(Box::new(form));
        false
    }

    pub(super) fn new_bond(&self, nics: Option<&[NicFacts]>) -> BondForm {
        let draft = self.draft.as_ref().expect("checked by command");
        let bonded = draft.bonded();
        let names: Vec<String> = match nics {
            Some(nics) => nics.iter().map(|n| n.name.clone()).collect(),
            None => draft
                .links
                .iter()
                .filter(|l| l.kind == LinkKind::Ethernet)
                .map(|l| l.name.clone())
                .collect(),
        };
        let taken = |name: &str| draft.links.iter().any(|l| l.name == name);
        let free = (0..).map(|i| format!("bond{i}")).find(|n| !taken(n));
        let mut form = BondForm {
            name: TextField::new(free.unwrap_or_default()),
            mode: Choice::new(BOND_MODES),
            members: names
                .into_iter()
                .filter(|n| !bonded.contains(&n.as_str()))
                .map(|n| (n, false))
                .collect(),
            row: 2,
            errors: None,
            index: 0,
        };
        form.refresh(draft, nics);
        form
    }

    pub(super) fn bond_command(
        &mut self,
        mut form: BondForm,
        command: Command,
        nics: Option<&[NicFacts]>,
    ) -> bool {
        let Some(draft) = self.draft.as_mut() else {
            return false;
        };
        let rows = form.rows();
        let add = rows - 1;
        let edited = match (form.row, command) {
            (_, Command::Back) => return false,
            (_, Command::Up | Command::Down) => {
                move_cursor(&mut form.row, command, rows);
                false
            }
            (row, Command::Enter) if row == add => {
                if form.errors.is_none() {
                    *draft = form.apply_to(draft);
                    self.cursor = draft.links.len() - 1;
                    self.message = Some(format!(
                        "{} added; its members' own settings were removed. Press A to save and apply.",
                        form.name.value().trim()
                    ));
                    return true;
                }
                false
            }
            (0, Command::Enter) => {
                form.row += 1;
                false
            }
            (0, other) => form.name.edit(other),
            (1, Command::Enter) => {
                form.row += 1;
                false
            }
            (1, other) => form.mode.edit(other),
            (row, Command::Enter | Command::Toggle) => {
                if let Some(member) = form.members.get_mut(row - 2) {
                    member.1 = !member.1;
                }
                true
            }
            _ => false,
        };
        if edited {
            form.refresh(draft, nics);
        }
        self.view = NetView::AddBond(Box::new(form));
        false
    }
}
