//! A hypervisor in a network namespace, as the virtual network tests and
//! benchmarks need one: its Open vSwitch and ovn-controller (the
//! userspace datapath), a libvirtd whose VMs' taps are made in the
//! namespace and plugged into that OVS, and an `lqxd` driving both.

use crate::cluster::ClusterHost;
use crate::libvirt::LibvirtdFixture;
use crate::ovn::OvnHost;

/// One hypervisor's daemons and agent.
pub struct VmHost {
    /// Its OVS and ovn-controller.
    pub ovn: OvnHost,
    /// Its libvirtd.
    pub libvirtd: LibvirtdFixture,
    /// Its agent.
    pub host: ClusterHost,
}

impl VmHost {
    /// Starts everything through `prefix` (`ip netns exec NS`), the agent
    /// on `address` (an address of that namespace), running VMs under TCG.
    pub async fn start(prefix: Vec<String>, address: &str) -> Self {
        let ovn = OvnHost::start_in(prefix.clone());
        // libvirt plugs taps with `ovs-vsctl` and no `--db`: it finds this
        // host's database on /run/openvswitch.
        let libvirtd =
            LibvirtdFixture::start_in(prefix.clone(), &[("/run/openvswitch", &ovn.ovs_rundir())]);
        let uri = libvirtd.uri();
        let ovs_db = ovn.ovs.server.unix_remote();
        let host = ClusterHost::start_through_with(
            prefix,
            address,
            &[
                "--libvirt-uri",
                &uri,
                "--vm-accel",
                "tcg",
                "--ovs-db",
                &ovs_db,
            ],
        )
        .await;
        Self {
            ovn,
            libvirtd,
            host,
        }
    }
}
