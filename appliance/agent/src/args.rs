//! Command-line flags of `lqxd`.

use clap::{Parser, ValueEnum};
use lqx_core::mode::ModeRequest;
use std::net::IpAddr;
use std::path::PathBuf;

/// The LimiQuantix host agent.
#[derive(Clone, Debug, Parser)]
#[command(name = "lqxd", version, about)]
pub struct Args {
    /// Directory of the agent's persistent state.
    #[arg(long, value_name = "DIR", default_value = "/var/lib/lqx")]
    pub state_dir: PathBuf,

    /// Path of the local API socket (root only).
    #[arg(long, value_name = "PATH", default_value = lqx_client::DEFAULT_SOCKET)]
    pub socket: PathBuf,

    /// The host's own address: every network listener of the agent binds
    /// here, so several agents can share one machine.
    #[arg(long, value_name = "IP")]
    pub address: Option<IpAddr>,

    /// Port of the remote API (HTTPS, mutual TLS). It is served in
    /// appliance mode (on every address) and whenever --address is given
    /// (on that address). 0 picks a free port.
    #[arg(long, value_name = "PORT", default_value_t = crate::remote::DEFAULT_PORT)]
    pub api_port: u16,

    /// Whether to manage this host's systemd units and networking.
    #[arg(long, value_enum, default_value_t = ModeArg::Auto)]
    pub mode: ModeArg,

    /// The system image the live system installs onto a disk. Present
    /// only on the live ISO; elsewhere installation is unavailable.
    #[arg(long, value_name = "PATH", default_value = "/run/lqx-live/lqx/lqx.raw")]
    pub install_image: PathBuf,

    /// Offer loop devices as installation targets (for testing the
    /// installer on image files).
    #[arg(long)]
    pub install_allow_loop: bool,

    /// Render network configurations into this directory only, never
    /// touching the host's networking. Default: /etc/systemd applied over
    /// D-Bus in appliance mode, STATE_DIR/rendered otherwise.
    #[arg(long, value_name = "DIR")]
    pub network_root: Option<PathBuf>,

    /// Seconds the management link may go without an address after an
    /// apply before the previous configuration is restored.
    #[arg(long, value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(2..=600))]
    pub network_lost_after: u64,

    /// The local Open_vSwitch database (`unix:PATH` or `tcp:IP:PORT`).
    #[arg(long, value_name = "REMOTE", default_value = crate::agent::DEFAULT_OVS_DB)]
    pub ovs_db: lqx_ovsdb::Remote,

    /// Seconds OVN chassis registration waits for ovn-controller's rows in
    /// the southbound database.
    #[arg(long, value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub ovn_wait: u64,

    /// Seconds to wait for a Ceph monitor when joining or connecting; later
    /// Ceph operations give up after max(this, 30) seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=300))]
    pub ceph_timeout: u64,

    /// The libvirt daemon that runs this host's VMs and receives the Ceph
    /// key as a secret for their disks. Default: qemu:///system in
    /// appliance mode, none otherwise (the host then runs no VMs).
    #[arg(long, value_name = "URI")]
    pub libvirt_uri: Option<String>,

    /// Where VMs' files (cloud-init seeds, UEFI variables, serial
    /// sockets) and local pools go by default. Default: /var/lib/lqx-vms in
    /// appliance mode, STATE_DIR/vm-data otherwise.
    #[arg(long, value_name = "DIR")]
    pub vm_data_dir: Option<PathBuf>,

    /// How QEMU runs VMs: kvm, tcg (emulation, where KVM does not work),
    /// or auto (kvm when /dev/kvm opens).
    #[arg(long, value_enum, default_value_t = AccelArg::Auto)]
    pub vm_accel: AccelArg,

    /// The etcd binary that runs this host's member of the cluster store.
    #[arg(long, value_name = "PATH", default_value = "etcd")]
    pub etcd_bin: PathBuf,

    /// etcd's client port on --address.
    #[arg(long, value_name = "PORT", default_value_t = lqx_etcd::member::DEFAULT_CLIENT_PORT)]
    pub etcd_client_port: u16,

    /// etcd's peer port on --address.
    #[arg(long, value_name = "PORT", default_value_t = lqx_etcd::member::DEFAULT_PEER_PORT)]
    pub etcd_peer_port: u16,

    /// Print the OpenAPI document of the API and exit.
    #[arg(long)]
    pub print_openapi: bool,
}

/// `--vm-accel`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AccelArg {
    /// KVM when /dev/kvm opens, else TCG.
    Auto,
    /// KVM.
    Kvm,
    /// TCG.
    Tcg,
}

impl From<AccelArg> for crate::vms::AccelChoice {
    fn from(arg: AccelArg) -> Self {
        match arg {
            AccelArg::Auto => Self::Auto,
            AccelArg::Kvm => Self::Kvm,
            AccelArg::Tcg => Self::Tcg,
        }
    }
}

/// `--mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// Appliance mode when systemd is PID 1 and lqxd.service is installed.
    Auto,
    /// Manage the host (the appliance).
    Appliance,
    /// Manage no units and no host networking (tests, development).
    Standalone,
}

impl From<ModeArg> for ModeRequest {
    fn from(arg: ModeArg) -> Self {
        match arg {
            ModeArg::Auto => ModeRequest::Auto,
            ModeArg::Appliance => ModeRequest::Appliance,
            ModeArg::Standalone => ModeRequest::Standalone,
        }
    }
}
