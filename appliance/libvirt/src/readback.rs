//! Reading back what libvirt and the kernel describe in text: domain,
//! pool and volume XML, and the host's ARP table. No I/O.
//!
//! Only the few values lqxd needs are picked out; everything else in the
//! documents is ignored, so libvirt adding elements changes nothing.

use roxmltree::{Document, Node};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use uuid::Uuid;

/// Why a document could not be read: its parser's words.
pub(crate) type Unreadable = String;

fn parse(xml: &str) -> Result<Document<'_>, Unreadable> {
    Document::parse(xml).map_err(|e| e.to_string())
}

fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|n| n.has_tag_name(name))
}

fn devices<'a, 'i>(doc: &'a Document<'i>, name: &'a str) -> impl Iterator<Item = Node<'a, 'i>> {
    child(doc.root_element(), "devices")
        .into_iter()
        .flat_map(|d| d.children())
        .filter(move |n| n.has_tag_name(name))
}

/// The VNC port in a running domain's XML; `None` when it has no VNC
/// display or no port yet (`-1` until the domain starts).
pub(crate) fn vnc_port(domain_xml: &str) -> Result<Option<u16>, Unreadable> {
    let doc = parse(domain_xml)?;
    Ok(devices(&doc, "graphics")
        .find(|g| g.attribute("type") == Some("vnc"))
        .and_then(|g| g.attribute("port"))
        .and_then(|p| p.parse::<u16>().ok())
        .filter(|&p| p > 0))
}

/// The VM id in the `<lqx:vm id='UUID'/>` metadata element libvirt hands
/// back for [`crate::domain::METADATA_NS`]; `None` when it is not a UUID.
pub(crate) fn metadata_owner(element: &str) -> Result<Option<Uuid>, Unreadable> {
    let doc = parse(element)?;
    Ok(doc
        .root_element()
        .attribute("id")
        .and_then(|id| id.parse().ok()))
}

/// The `<boot order>` of the disk with target `target`, if it has one.
pub(crate) fn disk_boot_order(domain_xml: &str, target: &str) -> Result<Option<u32>, Unreadable> {
    let doc = parse(domain_xml)?;
    Ok(devices(&doc, "disk")
        .find(|d| child(*d, "target").and_then(|t| t.attribute("dev")) == Some(target))
        .and_then(|d| child(d, "boot"))
        .and_then(|b| b.attribute("order"))
        .and_then(|o| o.parse().ok()))
}

/// The MAC addresses of a domain's interfaces, lower case.
pub(crate) fn interface_macs(domain_xml: &str) -> Result<Vec<String>, Unreadable> {
    let doc = parse(domain_xml)?;
    Ok(devices(&doc, "interface")
        .filter_map(|i| child(i, "mac"))
        .filter_map(|m| m.attribute("address"))
        .map(str::to_ascii_lowercase)
        .collect())
}

/// A pool's type (`dir`, `rbd`, ...) and its target path, if it has one.
pub(crate) fn pool_target(pool_xml: &str) -> Result<(String, Option<PathBuf>), Unreadable> {
    let doc = parse(pool_xml)?;
    let pool = doc.root_element();
    let kind = pool.attribute("type").unwrap_or_default().to_owned();
    let path = child(pool, "target")
        .and_then(|t| child(t, "path"))
        .and_then(|p| p.text())
        .map(|p| PathBuf::from(p.trim()));
    Ok((kind, path))
}

/// The `<target><format type=...>` of a volume, as libvirt detected or
/// created it.
pub(crate) fn volume_format(volume_xml: &str) -> Result<Option<String>, Unreadable> {
    let doc = parse(volume_xml)?;
    Ok(child(doc.root_element(), "target")
        .and_then(|t| child(t, "format"))
        .and_then(|f| f.attribute("type"))
        .map(str::to_owned))
}

/// The complete entries of `/proc/net/arp`: IPv4 address and lower-case
/// MAC. Incomplete ones (no answer yet, or none ever) carry no address
/// that a guest owns.
pub(crate) fn arp_entries(proc_net_arp: &str) -> Vec<(Ipv4Addr, String)> {
    // ATF_COM in the "Flags" column.
    const COMPLETE: u32 = 0x2;
    proc_net_arp
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [ip, _hw_type, flags, mac, ..] = fields[..] else {
                return None;
            };
            let flags = u32::from_str_radix(flags.trim_start_matches("0x"), 16).ok()?;
            (flags & COMPLETE != 0).then_some((ip.parse().ok()?, mac.to_ascii_lowercase()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Trimmed from a running domain's XML, as libvirt 9.0 gives it.
    const LIVE: &str = "\
<domain type='qemu' id='3'>
  <name>web-1</name>
  <metadata>
    <lqx:vm xmlns:lqx=\"https://limiquantix.dev/xmlns/vm/1\" id=\"7c9e6679-7425-40de-944b-e07fc1f90ae7\"/>
  </metadata>
  <devices>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source index='4'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
      <boot order='2'/>
    </disk>
    <disk type='file' device='cdrom'>
      <target dev='sdb' bus='sata'/>
    </disk>
    <interface type='bridge'>
      <mac address='52:54:00:AB:cd:01'/>
      <source bridge='br0'/>
    </interface>
    <graphics type='spice' port='5901'/>
    <graphics type='vnc' port='5900' autoport='yes' listen='127.0.0.1'>
      <listen type='address' address='127.0.0.1'/>
    </graphics>
  </devices>
</domain>
";

    #[test]
    fn reads_the_vnc_port_of_a_running_domain_only() {
        assert_eq!(vnc_port(LIVE), Ok(Some(5900)));
        let inactive =
            "<domain><devices><graphics type='vnc' port='-1' autoport='yes'/></devices></domain>";
        assert_eq!(vnc_port(inactive), Ok(None));
        assert_eq!(vnc_port("<domain><devices/></domain>"), Ok(None));
        assert!(vnc_port("<domain>").is_err());
    }

    #[test]
    fn reads_the_owner_from_the_metadata_element() {
        // virDomainGetMetadata returns the element without its prefix.
        assert_eq!(
            metadata_owner("<vm id=\"7c9e6679-7425-40de-944b-e07fc1f90ae7\"/>"),
            Ok(Some(
                "7c9e6679-7425-40de-944b-e07fc1f90ae7".parse().unwrap()
            ))
        );
        assert_eq!(metadata_owner("<vm id=\"not-a-uuid\"/>"), Ok(None));
        assert_eq!(metadata_owner("<vm/>"), Ok(None));
    }

    #[test]
    fn reads_a_disks_boot_order_and_the_macs() {
        assert_eq!(disk_boot_order(LIVE, "sda"), Ok(Some(2)));
        assert_eq!(disk_boot_order(LIVE, "sdb"), Ok(None));
        assert_eq!(disk_boot_order(LIVE, "vda"), Ok(None));
        assert_eq!(
            interface_macs(LIVE),
            Ok(vec!["52:54:00:ab:cd:01".to_owned()])
        );
    }

    #[test]
    fn reads_pools_and_volumes() {
        let pool = "\
<pool type='dir'>
  <name>images</name>
  <target>
    <path>/var/lib/lqx/images</path>
  </target>
</pool>";
        assert_eq!(
            pool_target(pool),
            Ok(("dir".to_owned(), Some(PathBuf::from("/var/lib/lqx/images"))))
        );
        assert_eq!(
            pool_target("<pool type='rbd'><name>x</name></pool>"),
            Ok(("rbd".to_owned(), None))
        );
        let vol = "<volume type='file'><name>a.iso</name><target><path>/x/a.iso</path><format type='iso'/></target></volume>";
        assert_eq!(volume_format(vol), Ok(Some("iso".to_owned())));
        assert_eq!(volume_format("<volume><target/></volume>"), Ok(None));
    }

    #[test]
    fn keeps_complete_arp_entries() {
        let table = "\
IP address       HW type     Flags       HW address            Mask     Device
192.0.2.1        0x1         0x2         02:FC:00:00:00:05     *        eth0
192.0.2.9        0x1         0x0         00:00:00:00:00:00     *        eth0
198.51.100.7     0x1         0x6         52:54:00:00:00:07     *        br0
garbage
";
        assert_eq!(
            arp_entries(table),
            vec![
                ("192.0.2.1".parse().unwrap(), "02:fc:00:00:00:05".to_owned()),
                (
                    "198.51.100.7".parse().unwrap(),
                    "52:54:00:00:00:07".to_owned()
                ),
            ]
        );
    }
}
