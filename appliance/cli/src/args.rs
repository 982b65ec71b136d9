//! Command-line syntax of `lqx`.

use clap::{Parser, Subcommand};
use clap_complete::Shell;
use std::path::PathBuf;

/// Manage a LimiQuantix host.
#[derive(Debug, Parser)]
#[command(name = "lqx", version, about, propagate_version = true)]
pub struct Args {
    /// The local agent's API socket.
    #[arg(
        long,
        global = true,
        env = lqx_client::SOCKET_ENV,
        value_name = "PATH",
        default_value = lqx_client::DEFAULT_SOCKET
    )]
    pub socket: PathBuf,

    /// Call a host's remote API (`https://HOST[:PORT]`, port 8443 by
    /// default) instead of the local socket, with the admin bundle.
    #[arg(long, global = true, env = "LQX_REMOTE", value_name = "URL")]
    pub remote: Option<String>,

    /// Directory of the admin bundle (`ca.crt`, `client.crt`,
    /// `client.key`) used with --remote.
    #[arg(
        long,
        global = true,
        env = "LQX_BUNDLE",
        value_name = "DIR",
        default_value = "/var/lib/lqx/admin"
    )]
    pub bundle: PathBuf,

    /// Send the request to this member of the cluster (host id, or
    /// hostname when unique): the host reached forwards it there.
    #[arg(long = "host", global = true, env = "LQX_HOST", value_name = "HOST")]
    pub target_host: Option<String>,

    /// Print the API's JSON instead of tables (errors too, as
    /// `{"error": {"code", "message"}}`).
    #[arg(long, global = true)]
    pub json: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The host this agent runs on.
    Host {
        /// What to do with it.
        #[command(subcommand)]
        command: HostCommand,
    },
    /// Install this live system onto a disk.
    Install {
        /// What to do.
        #[command(subcommand)]
        command: InstallCommand,
    },
    /// The host's network configuration, applied safely: an apply must be
    /// confirmed or it is reverted by itself.
    Network {
        /// What to do.
        #[command(subcommand)]
        command: NetworkCommand,
    },
    /// This host as an OVN chassis.
    Ovn {
        /// What to do.
        #[command(subcommand)]
        command: OvnCommand,
    },
    /// This host as a client of a Ceph cluster.
    Ceph {
        /// What to do.
        #[command(subcommand)]
        command: CephCommand,
    },
    /// RBD volumes in the joined Ceph cluster.
    Volume {
        /// What to do.
        #[command(subcommand)]
        command: VolumeCommand,
    },
    /// The cluster of hosts.
    Cluster {
        /// What to do.
        #[command(subcommand)]
        command: ClusterCommand,
    },
    /// Virtual machines of the cluster.
    Vm {
        /// What to do.
        #[command(subcommand)]
        command: VmCommand,
    },
    /// This host's local storage pools (qcow2 disks, ISO images).
    Pool {
        /// What to do.
        #[command(subcommand)]
        command: PoolCommand,
    },
    /// Routers of the virtual networks.
    Router {
        /// What to do.
        #[command(subcommand)]
        command: crate::vnet::RouterCommand,
    },
    /// Floating IPs: external addresses translated to ports.
    FloatingIp {
        /// What to do.
        #[command(subcommand)]
        command: crate::vnet::FloatingIpCommand,
    },
    /// Security groups: the distributed firewall of ports.
    SecurityGroup {
        /// What to do.
        #[command(subcommand)]
        command: crate::vnet::SecurityGroupCommand,
    },
    /// Load balancers on virtual networks.
    Lb {
        /// What to do.
        #[command(subcommand)]
        command: crate::vnet::LbCommand,
    },
    /// Ports on virtual networks.
    Port {
        /// What to do.
        #[command(subcommand)]
        command: crate::vnet::PortCommand,
    },
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: Shell,
    },
}

/// `lqx host ...`.
#[derive(Debug, Subcommand)]
pub enum HostCommand {
    /// Identity, system, resources and network of the host.
    Show,
    /// Reboot the host (appliance only).
    Reboot,
    /// Power the host off (appliance only).
    Poweroff,
    /// Operator labels of the host.
    Label {
        /// What to do with them.
        #[command(subcommand)]
        command: LabelCommand,
    },
}

/// `lqx host label ...`.
#[derive(Debug, Subcommand)]
pub enum LabelCommand {
    /// Set labels (all or none).
    Set {
        /// KEY=VALUE pairs.
        #[arg(required = true, value_name = "KEY=VALUE", value_parser = parse_label)]
        labels: Vec<(String, String)>,
    },
    /// Remove labels.
    Remove {
        /// Keys to remove.
        #[arg(required = true, value_name = "KEY")]
        keys: Vec<String>,
    },
}

fn parse_label(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected KEY=VALUE, got {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn syntax_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn label_pairs() {
        assert_eq!(parse_label("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert_eq!(parse_label("a="), Ok(("a".into(), String::new())));
        assert!(parse_label("nokey").is_err());
    }
}

/// `lqx install ...`.
/// `lqx network ...`: this host's network configuration, and the
/// cluster's virtual networks.
#[derive(Debug, Subcommand)]
pub enum NetworkCommand {
    /// Without NAME: this host's saved, applied and pending
    /// configurations and the last outcome. With NAME: that virtual
    /// network.
    Show {
        /// A virtual network.
        name: Option<String>,
    },
    /// Creates a virtual network (an OVN logical switch).
    Create(crate::vnet::NetworkCreateArgs),
    /// The cluster's virtual networks.
    List,
    /// Deletes a virtual network nothing uses.
    Delete {
        /// The network.
        name: String,
    },
    /// Saves a configuration (JSON as `lqx network show --json` prints
    /// under "desired"); nothing is applied yet.
    Set {
        /// JSON file, or - for standard input.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
    /// Applies the saved configuration; confirm it within the timeout or
    /// the previous one comes back.
    Apply {
        /// Seconds to wait for `lqx network confirm` (10–3600).
        #[arg(long, value_name = "SECS", default_value_t = 120,
              value_parser = clap::value_parser!(u32).range(10..=3600))]
        timeout: u32,
    },
    /// Keeps the applied configuration.
    Confirm,
    /// Restores the previous configuration now.
    Revert,
}

/// `lqx ovn ...`.
#[derive(Debug, Subcommand)]
pub enum OvnCommand {
    /// Registers this host as a chassis; returns once the southbound
    /// database lists it.
    Register {
        /// Southbound database: tcp:IP:PORT or ssl:IP:PORT, comma-separated
        /// for a cluster; default the cluster's (`lqx ovn central`).
        #[arg(long, value_name = "REMOTES", default_value = "")]
        sb_remote: String,
        /// This host's tunnel endpoint (one of its addresses).
        #[arg(long, value_name = "IP")]
        encap_ip: std::net::IpAddr,
        /// Tunnel encapsulation.
        #[arg(long, value_enum, default_value_t = EncapArg::Geneve)]
        encap_type: EncapArg,
        /// Provider networks, PHYSNET:BRIDGE, comma-separated.
        #[arg(long, value_name = "MAPPINGS", value_delimiter = ',')]
        bridge_mappings: Vec<String>,
        /// For an ssl: database: a PEM file of the authority that signed
        /// its certificate; default the cluster's central's.
        #[arg(long, value_name = "FILE")]
        ca_cert: Option<std::path::PathBuf>,
    },
    /// Configured values, and whether the southbound database lists this
    /// chassis.
    Status,
    /// Removes the registration and the chassis' southbound rows.
    Unregister,
    /// The cluster's OVN central databases: shows them, or sets them with
    /// both options.
    Central {
        /// Northbound: tcp:IP:PORT or ssl:IP:PORT, comma-separated for a
        /// cluster.
        #[arg(long, value_name = "REMOTES")]
        nb_remote: Option<String>,
        /// Southbound, same form.
        #[arg(long, value_name = "REMOTES")]
        sb_remote: Option<String>,
        /// For ssl: remotes: a PEM file of the authority that signed the
        /// databases' certificates. They must trust the cluster's
        /// authority (the admin bundle's ca.crt): hosts present their
        /// cluster certificates.
        #[arg(long, value_name = "FILE")]
        ca_cert: Option<std::path::PathBuf>,
    },
    /// How far OVN's northbound database carries the cluster's networks.
    Sync,
}

/// `lqx ceph ...`.
#[derive(Debug, Subcommand)]
pub enum CephCommand {
    /// Joins a cluster; returns once a monitor accepted the key and the
    /// cluster's fsid, health and monitor map were read. Nothing is kept
    /// when it fails.
    Join {
        /// Monitors: IP, IP:PORT or [IPv6]:PORT, comma-separated (port
        /// 3300 is msgr v2, 6789 v1; without a port both are tried).
        #[arg(long, value_name = "ADDRS", value_delimiter = ',', required = true)]
        mon: Vec<String>,
        /// The cephx entity, client.ID.
        #[arg(long, value_name = "client.ID")]
        name: String,
        /// Its key, base64 (as `ceph auth print-key` prints it); `-` reads
        /// it from standard input, keeping it out of the process list.
        #[arg(
            long,
            value_name = "BASE64",
            conflicts_with = "keyring",
            required_unless_present = "keyring"
        )]
        key: Option<String>,
        /// A keyring file holding the key of --name.
        #[arg(long, value_name = "FILE")]
        keyring: Option<std::path::PathBuf>,
        /// Refuse a cluster whose fsid is not this one.
        #[arg(long, value_name = "UUID")]
        fsid: Option<uuid::Uuid>,
    },
    /// The membership and the cluster's health, monitors and pools.
    Status,
    /// Forgets the cluster: its key, libvirt secret and membership.
    Leave,
}

/// `lqx cluster ...`.
#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Creates a cluster with this host as its first member and first
    /// voter of the cluster store.
    Init {
        /// A name for people: a-z, 0-9 and '-'.
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// Hosts that vote in the cluster store: 3 or 5.
        #[arg(long, value_name = "N")]
        voters: Option<u8>,
    },
    /// The membership and whether the cluster store answers.
    Status,
    /// Join tokens.
    Token {
        /// What to do.
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The cluster's hosts and their state.
    Members,
    /// Joins the cluster a token names (from `lqx cluster token create` on
    /// a member). This host's admin bundles of its own authority stop
    /// working: it takes the cluster's.
    Join {
        /// The token; `-` reads it from standard input (keeps it out of
        /// the process list and shell history).
        #[arg(value_name = "TOKEN", required_unless_present = "token_file")]
        token: Option<String>,
        /// Read the token from this file instead.
        #[arg(long, value_name = "FILE", conflicts_with = "token")]
        token_file: Option<PathBuf>,
    },
    /// Leaves the cluster: this host's member and records are removed,
    /// and it takes a new authority of its own.
    Leave {
        /// Leave even as the last member, dissolving the cluster.
        #[arg(long)]
        force: bool,
    },
    /// Removes another host from the cluster (by id or hostname).
    Remove {
        /// The host's id, or its hostname when no other member has it.
        #[arg(value_name = "HOST")]
        host: String,
        /// Remove a voter even though the voters left could not agree.
        #[arg(long)]
        force: bool,
    },
}

/// `lqx cluster token ...`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Creates a single-use join token; it is shown only now.
    Create {
        /// How long it stays valid: seconds, or with s/m/h/d (1m to 7d).
        #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_duration)]
        ttl: u64,
    },
}

/// `90`, `90s`, `15m`, `1h`, `7d` as seconds.
fn parse_duration(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{text:?}: use a number with s, m, h or d")),
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("{text:?}: use a number with s, m, h or d"))
}

/// `lqx volume ...`.
#[derive(Debug, Subcommand)]
pub enum VolumeCommand {
    /// Creates a volume.
    Create {
        /// POOL/NAME.
        spec: String,
        /// Size, e.g. 10GiB, 512MiB.
        #[arg(long, value_name = "SIZE")]
        size: String,
    },
    /// Lists a pool's volumes.
    List {
        /// The pool.
        pool: String,
    },
    /// A volume with its snapshots and their clones.
    Show {
        /// POOL/NAME.
        spec: String,
    },
    /// Resizes a volume.
    Resize {
        /// POOL/NAME.
        spec: String,
        /// The new size, e.g. 20GiB.
        #[arg(long, value_name = "SIZE")]
        size: String,
        /// Allow a smaller size, discarding the data past it.
        #[arg(long)]
        allow_shrink: bool,
    },
    /// Snapshots of a volume.
    Snapshot {
        /// What to do.
        #[command(subcommand)]
        command: SnapshotCommand,
    },
    /// Clones a snapshot into a new volume.
    Clone {
        /// POOL/NAME@SNAP.
        source: String,
        /// POOL/NEW.
        target: String,
    },
    /// Deletes a volume.
    Delete {
        /// POOL/NAME.
        spec: String,
        /// Also delete its snapshots.
        #[arg(long)]
        snapshots: bool,
        /// Flatten the clones of those snapshots first (they keep their
        /// data).
        #[arg(long, requires = "snapshots")]
        flatten_clones: bool,
    },
}

/// `lqx volume snapshot ...`.
#[derive(Debug, Subcommand)]
pub enum SnapshotCommand {
    /// Takes a snapshot.
    Create {
        /// POOL/NAME@SNAP.
        spec: String,
    },
    /// Lists a volume's snapshots.
    List {
        /// POOL/NAME.
        spec: String,
    },
    /// Deletes a snapshot (refused while it has clones).
    Delete {
        /// POOL/NAME@SNAP.
        spec: String,
    },
}

/// `--encap-type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EncapArg {
    /// Geneve.
    Geneve,
    /// VXLAN.
    Vxlan,
}

#[derive(Debug, Subcommand)]
pub enum InstallCommand {
    /// Disks, whether each can be chosen, and the installation's progress.
    Status,
    /// Write the system onto DISK, replacing everything on it.
    Start {
        /// Kernel name of the disk (e.g. sda, nvme0n1, vda).
        disk: String,
        /// The disk's name again, to confirm that its contents are lost.
        #[arg(long, value_name = "DISK")]
        confirm: String,
    },
}

/// `lqx vm ...`. VMs are named by name or id.
#[derive(Debug, Subcommand)]
pub enum VmCommand {
    /// Creates a VM and starts it (unless --no-start). Placed on the host
    /// the global --host names, or on the ready host with the most free
    /// memory that reaches its disks, pools and bridges.
    Create {
        /// Its name: a-z, 0-9 and '-'.
        name: String,
        /// Virtual CPUs.
        #[arg(long, value_name = "N", default_value_t = 1)]
        cpus: u16,
        /// Memory, e.g. 512MiB, 2GiB.
        #[arg(long, value_name = "SIZE", default_value = "1GiB")]
        memory: String,
        /// A disk, in boot order: rbd:POOL/IMAGE (Ceph) or local:POOL/VOLUME
        /// (a local pool of its host). Repeat for more.
        #[arg(long = "disk", value_name = "SPEC")]
        disks: Vec<String>,
        /// An ISO image of a local pool in its CD-ROM drive: POOL/VOLUME.
        #[arg(long, value_name = "POOL/VOLUME")]
        cdrom: Option<String>,
        /// A NIC: bridge=BRIDGE[,mac=MAC], or on a virtual network
        /// network=NET[,ip=IP][,mac=MAC][,security-group=SG]... Repeat for
        /// more.
        #[arg(long = "nic", value_name = "SPEC")]
        nics: Vec<String>,
        /// cloud-init user-data (#cloud-config YAML or a script).
        #[arg(long, value_name = "FILE")]
        cloud_init_user_data: Option<PathBuf>,
        /// cloud-init meta-data (YAML); default: its id and name.
        #[arg(long, value_name = "FILE", requires = "cloud_init_user_data")]
        cloud_init_meta_data: Option<PathBuf>,
        /// cloud-init network-config (YAML, version 1 or 2).
        #[arg(long, value_name = "FILE", requires = "cloud_init_user_data")]
        cloud_init_network_config: Option<PathBuf>,
        /// Boot order, e.g. cdrom,disk; default disk, cdrom, network.
        #[arg(long, value_name = "LIST", value_delimiter = ',')]
        boot: Vec<String>,
        /// Boot with UEFI (OVMF) instead of BIOS.
        #[arg(long)]
        uefi: bool,
        /// Define it without starting it.
        #[arg(long)]
        no_start: bool,
    },
    /// The cluster's VMs, and domains on the hosts that no VM owns.
    List,
    /// A VM.
    Show {
        /// The VM.
        vm: String,
    },
    /// Starts a VM.
    Start {
        /// The VM.
        vm: String,
    },
    /// Stops a VM at once (like pulling its power cord).
    Stop {
        /// The VM.
        vm: String,
    },
    /// Asks a VM's guest to power off; stops it after the timeout.
    Shutdown {
        /// The VM.
        vm: String,
        /// Seconds to wait before stopping it forcibly (1 to 3600).
        #[arg(long, value_name = "SECS", default_value_t = 60)]
        timeout: u64,
    },
    /// Asks a VM's guest to reboot.
    Reboot {
        /// The VM.
        vm: String,
    },
    /// Deletes a VM.
    Delete {
        /// The VM.
        vm: String,
        /// Even when it runs (it is stopped first).
        #[arg(long)]
        force: bool,
        /// Also delete its disks.
        #[arg(long)]
        disks: bool,
    },
    /// Attaches to a VM's serial console (Ctrl-] leaves).
    Console {
        /// The VM.
        vm: String,
    },
    /// Inserts an ISO image of a local pool of the VM's host.
    AttachIso {
        /// The VM.
        vm: String,
        /// POOL/VOLUME.
        iso: String,
    },
    /// Empties a VM's CD-ROM drive.
    DetachIso {
        /// The VM.
        vm: String,
    },
}

/// `lqx pool ...`: this host's (or, with --host, another member's) pools.
#[derive(Debug, Subcommand)]
pub enum PoolCommand {
    /// Creates a pool: a directory libvirt manages.
    Create {
        /// Its name: a-z, 0-9 and '-'.
        name: String,
        /// Its directory; default under the agent's VM data directory.
        #[arg(long, value_name = "DIR")]
        path: Option<String>,
    },
    /// The pools.
    List,
    /// A pool and its volumes.
    Show {
        /// The pool.
        pool: String,
    },
    /// Removes a pool from libvirt (its files stay).
    Delete {
        /// The pool.
        pool: String,
    },
    /// The volumes of a pool.
    Volume {
        /// What to do.
        #[command(subcommand)]
        command: PoolVolumeCommand,
    },
}

/// `lqx pool volume ...`.
#[derive(Debug, Subcommand)]
pub enum PoolVolumeCommand {
    /// Creates an empty disk.
    Create {
        /// POOL/NAME.
        spec: String,
        /// Its size, e.g. 20GiB.
        #[arg(long, value_name = "SIZE")]
        size: String,
        /// A raw image instead of qcow2.
        #[arg(long)]
        raw: bool,
    },
    /// Grows a disk.
    Resize {
        /// POOL/NAME.
        spec: String,
        /// The new size.
        #[arg(long, value_name = "SIZE")]
        size: String,
    },
    /// Deletes a volume.
    Delete {
        /// POOL/NAME.
        spec: String,
    },
    /// Uploads a file (an ISO image) as a new volume.
    Upload {
        /// POOL/NAME.
        spec: String,
        /// The file.
        file: PathBuf,
    },
}
