//! The network configuration being edited (shared by the network and the
//! hostname/DNS/NTP screens), the network screen's keys, and the
//! safe-apply status.
//!
//! Every change re-validates the whole draft with `lqx_core`'s
//! validation, the same code lqxd refuses with, so an inline message and
//! the agent's answer agree; nothing is sent while a message stands.

use crate::event::{Effect, NetworkOp};
use crate::keymap::Command;
use crate::widgets::{Choice, TextField, move_cursor, split_list};
use lqx_api::{
    AddressFamily, BondMode, DnsConfig, HostInfo, Ipv4Config, Ipv6Config, LinkConfig, LinkKind,
    NetworkConfig, NetworkStatus, PendingApply,
};
use lqx_core::network::validate::check_hostname;
use lqx_core::network::{FieldError, NicFacts, ValidationErrors, validate};

/// IPv4 modes, in the order Left/Right cycles them.
pub const V4_MODES: [&str; 3] = ["DHCP", "static", "disabled"];
/// IPv6 modes, in the order Left/Right cycles them.
pub const V6_MODES: [&str; 4] = ["disabled", "SLAAC", "DHCP", "static"];
/// Bond modes offered.
pub const BOND_MODES: [&str; 2] = ["active-backup", "802.3ad"];

const V4_STATIC: usize = 1;
const V6_STATIC: usize = 3;

/// One link being edited; text stays as typed until it is valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkDraft {
    /// Kernel name.
    pub name: String,
    /// NIC, bond or VLAN.
    pub kind: LinkKind,
    /// IPv4 mode, one of [`V4_MODES`].
    pub ipv4: Choice,
    /// Static IPv4 addresses, "ADDR/PREFIX", comma- or space-separated.
    pub v4_addresses: TextField,
    /// Static IPv4 gateway (may be empty).
    pub v4_gateway: TextField,
    /// IPv6 mode, one of [`V6_MODES`].
    pub ipv6: Choice,
    /// Static IPv6 addresses.
    pub v6_addresses: TextField,
    /// Static IPv6 gateway (may be empty).
    pub v6_gateway: TextField,
    /// MTU in bytes; empty keeps the default.
    pub mtu: TextField,
}

impl LinkDraft {
    /// A new link with DHCPv4, the image's default for every NIC.
    pub fn new(name: impl Into<String>, kind: LinkKind) -> Self {
        Self::from_config(&LinkConfig {
            name: name.into(),
            kind,
            ipv4: Ipv4Config::Dhcp,
            ipv6: Ipv6Config::Disabled,
            mtu: None,
        })
    }

    /// The draft of a saved link.
    pub fn from_config(link: &LinkConfig) -> Self {
        let (v4, v4_addresses, v4_gateway) = match &link.ipv4 {
            Ipv4Config::Dhcp => (0, vec![], None),
            Ipv4Config::Static { addresses, gateway } => {
                (V4_STATIC, addresses.clone(), gateway.clone())
            }
            Ipv4Config::Disabled => (2, vec![], None),
        };
        let (v6, v6_addresses, v6_gateway) = match &link.ipv6 {
            Ipv6Config::Disabled => (0, vec![], None),
            Ipv6Config::Slaac => (1, vec![], None),
            Ipv6Config::Dhcp => (2, vec![], None),
            Ipv6Config::Static { addresses, gateway } => {
                (V6_STATIC, addresses.clone(), gateway.clone())
            }
        };
        Self {
            name: link.name.clone(),
            kind: link.kind.clone(),
            ipv4: Choice::new(V4_MODES).with(v4),
            v4_addresses: TextField::new(v4_addresses.join(", ")),
            v4_gateway: TextField::new(v4_gateway.unwrap_or_default()),
            ipv6: Choice::new(V6_MODES).with(v6),
            v6_addresses: TextField::new(v6_addresses.join(", ")),
            v6_gateway: TextField::new(v6_gateway.unwrap_or_default()),
            mtu: TextField::new(link.mtu.map(|m| m.to_string()).unwrap_or_default()),
        }
    }

    /// Whether IPv4 is static (address and gateway fields shown).
    pub fn v4_static(&self) -> bool {
        self.ipv4.index() == V4_STATIC
    }

    /// Whether IPv6 is static.
    pub fn v6_static(&self) -> bool {
        self.ipv6.index() == V6_STATIC
    }

    /// The link as the API takes it; text that cannot even be parsed
    /// (an MTU that is not a number) is reported in `errors` under the
    /// field's path `at`.
    fn to_config(&self, at: &str, errors: &mut Vec<FieldError>) -> LinkConfig {
        let gateway = |f: &TextField| Some(f.value().trim().to_owned()).filter(|g| !g.is_empty());
        let ipv4 = match self.ipv4.index() {
            0 => Ipv4Config::Dhcp,
            V4_STATIC => Ipv4Config::Static {
                addresses: split_list(self.v4_addresses.value()),
                gateway: gateway(&self.v4_gateway),
            },
            _ => Ipv4Config::Disabled,
        };
        let ipv6 = match self.ipv6.index() {
            1 => Ipv6Config::Slaac,
            2 => Ipv6Config::Dhcp,
            V6_STATIC => Ipv6Config::Static {
                addresses: split_list(self.v6_addresses.value()),
                gateway: gateway(&self.v6_gateway),
            },
            _ => Ipv6Config::Disabled,
        };
        let text = self.mtu.value().trim();
        let mtu = if text.is_empty() {
            None
        } else if let Ok(mtu) = text.parse::<u32>() {
            Some(mtu)
        } else {
            errors.push(FieldError {
                field: format!("{at}.mtu"),
                message: format!(
                    "\"{text}\" is not a number of bytes; leave empty for the default"
                ),
            });
            None
        };
        LinkConfig {
            name: self.name.clone(),
            kind: self.kind.clone(),
            ipv4,
            ipv6,
            mtu,
        }
    }

    /// A short description of the kind, for the link list.
    pub fn kind_text(&self) -> String {
        match &self.kind {
            LinkKind::Ethernet => "NIC".into(),
            LinkKind::Bond { members, mode } => {
                format!("bond {} ({})", members.join("+"), mode.as_str())
            }
            LinkKind::Vlan { parent, id } => format!("VLAN {id} on {parent}"),
        }
    }

    /// A short description of the addressing, for the link list.
    pub fn addressing_text(&self) -> String {
        let v4 = if self.v4_static() {
            let mut text = split_list(self.v4_addresses.value()).join(" ");
            if !self.v4_gateway.value().trim().is_empty() {
                text.push_str(&format!(" via {}", self.v4_gateway.value().trim()));
            }
            text
        } else {
            format!("IPv4 {}", self.ipv4.label())
        };
        if self.ipv6.index() == 0 {
            v4
        } else {
            format!("{v4}, IPv6 {}", self.ipv6.label())
        }
    }
}

/// The whole configuration being edited.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draft {
    /// Static hostname.
    pub hostname: TextField,
    /// DNS servers, comma- or space-separated.
    pub dns_servers: TextField,
    /// Search domains.
    pub dns_search: TextField,
    /// NTP servers.
    pub ntp: TextField,
    /// The management link's name.
    pub management: String,
    /// Links, in the order sent.
    pub links: Vec<LinkDraft>,
}

impl Draft {
    /// The draft of a saved configuration.
    pub fn from_config(config: &NetworkConfig) -> Self {
        Self {
            hostname: TextField::new(config.hostname.clone()),
            dns_servers: TextField::new(config.dns.servers.join(", ")),
            dns_search: TextField::new(config.dns.search.join(", ")),
            ntp: TextField::new(config.ntp.join(", ")),
            management: config.management.clone(),
            links: config.links.iter().map(LinkDraft::from_config).collect(),
        }
    }

    /// A first configuration from what the host runs now: DHCPv4 on
    /// every NIC (the image's default), management on the NIC of the
    /// IPv4 default route.
    pub fn from_host(host: &HostInfo) -> Self {
        let facts = &host.facts;
        let nics = NicFacts::from_interfaces(&facts.interfaces);
        let routed = facts
            .default_routes
            .iter()
            .filter(|r| r.family == AddressFamily::Ipv4)
            .filter_map(|r| r.interface.as_deref())
            .find(|i| nics.iter().any(|n| n.name == *i));
        let management = routed
            .or(nics.first().map(|n| n.name.as_str()))
            .unwrap_or_default()
            .to_owned();
        let hostname = if check_hostname(&facts.hostname).is_ok() {
            facts.hostname.clone()
        } else {
            // Left for the operator: the inline message says why.
            String::new()
        };
        Self::from_config(&NetworkConfig {
            hostname,
            management,
            links: nics
                .iter()
                .map(|n| LinkConfig {
                    name: n.name.clone(),
                    kind: LinkKind::Ethernet,
                    ipv4: Ipv4Config::Dhcp,
                    ipv6: Ipv6Config::Disabled,
                    mtu: None,
                })
                .collect(),
            dns: DnsConfig {
                servers: facts.dns.servers.iter().map(ToString::to_string).collect(),
                search: vec![],
            },
            ntp: vec![],
        })
    }

    /// The configuration to send, and every problem with it: text that
    /// does not parse, then what `lqx_core::network::validate` finds.
    pub fn check(&self, nics: Option<&[NicFacts]>) -> (NetworkConfig, Option<ValidationErrors>) {
        let mut errors = vec![];
        let links = self
            .links
            .iter()
            .enumerate()
            .map(|(i, l)| l.to_config(&format!("links[{i}]"), &mut errors))
            .collect();
        let config = NetworkConfig {
            hostname: self.hostname.value().trim().to_owned(),
            management: self.management.clone(),
            links,
            dns: DnsConfig {
                servers: split_list(self.dns_servers.value()),
                search: split_list(self.dns_search.value()),
            },
            ntp: split_list(self.ntp.value()),
        };
        if let Err(found) = validate(&config, nics) {
            errors.extend(found.0);
        }
        let errors = (!errors.is_empty()).then_some(ValidationErrors(errors));
        (config, errors)
    }

    /// Names of the links a VLAN can go on.
    pub fn vlan_parents(&self) -> Vec<String> {
        self.links
            .iter()
            .filter(|l| !matches!(l.kind, LinkKind::Vlan { .. }))
            .map(|l| l.name.clone())
            .collect()
    }

    fn bonded(&self) -> Vec<&str> {
        self.links
            .iter()
            .flat_map(|l| match &l.kind {
                LinkKind::Bond { members, .. } => members.iter().map(String::as_str).collect(),
                _ => vec![],
            })
            .collect()
    }

    /// Re-points VLANs on `from` and the management role to `to`.
    fn move_role(&mut self, from: &[String], to: &str) {
        if from.contains(&self.management) {
            self.management = to.to_owned();
        }
        for link in &mut self.links {
            if let LinkKind::Vlan { parent, .. } = &mut link.kind
                && from.contains(parent)
            {
                *parent = to.to_owned();
            }
        }
    }
}

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
        first_error(self.errors.as_ref(), field)
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

    fn new_vlan(&self, nics: Option<&[NicFacts]>) -> VlanForm {
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

    fn vlan_command(
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

    fn new_bond(&self, nics: Option<&[NicFacts]>) -> BondForm {
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

    fn bond_command(
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

/// The first message about `field`, its children (`field.x`) or its
/// items (`field[0]`): `ValidationErrors::for_field` plus list items, so
/// that `dns.servers` shows the message about `dns.servers[1]`.
pub fn first_error<'a>(errors: Option<&'a ValidationErrors>, field: &str) -> Option<&'a str> {
    errors?
        .0
        .iter()
        .find(|e| {
            e.field == field
                || e.field
                    .strip_prefix(field)
                    .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
        })
        .map(|e| e.message.as_str())
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
        first_error(
            self.errors.as_ref(),
            &format!("links[{}].{field}", self.index),
        )
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
        first_error(
            self.errors.as_ref(),
            &format!("links[{}].{field}", self.index),
        )
    }
}

/// A field path for an operator: `links[1].ipv4.gateway` becomes
/// `eno2 ipv4.gateway`.
pub fn describe_field(draft: &Draft, field: &str) -> String {
    let Some(rest) = field.strip_prefix("links[") else {
        return field.to_owned();
    };
    let Some((index, tail)) = rest.split_once(']') else {
        return field.to_owned();
    };
    match index.parse::<usize>().ok().and_then(|i| draft.links.get(i)) {
        Some(link) => format!("{} {}", link.name, tail.trim_start_matches('.'))
            .trim()
            .to_owned(),
        None => field.to_owned(),
    }
}
