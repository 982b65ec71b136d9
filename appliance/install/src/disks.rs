//! Disks from sysfs.

use lqx_api::InstallDisk;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Where block devices are described; tests point these at fixture trees.
#[derive(Clone, Debug)]
pub struct DiskSources {
    /// `/sys/block`.
    pub sys_block: PathBuf,
    /// `/proc/self/mountinfo` contents source.
    pub mountinfo: PathBuf,
    /// `/proc/swaps`.
    pub swaps: PathBuf,
    /// Where device nodes live, `/dev`.
    pub dev: PathBuf,
    /// Offer loop devices too (to test an installer on files).
    pub include_loop: bool,
}

impl Default for DiskSources {
    fn default() -> Self {
        Self {
            sys_block: "/sys/block".into(),
            mountinfo: "/proc/self/mountinfo".into(),
            swaps: "/proc/swaps".into(),
            dev: "/dev".into(),
            include_loop: false,
        }
    }
}

/// Kernel name prefixes of devices that are never installation targets:
/// virtual, optical, RAM-backed or device-mapper devices.
const NOT_DISKS: [&str; 9] = ["loop", "ram", "zram", "dm-", "md", "sr", "fd", "nbd", "zd"];

fn read_trim(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// `major:minor` of every mounted file system.
fn mounted_devices(mountinfo: &str) -> BTreeSet<String> {
    mountinfo
        .lines()
        .filter_map(|line| line.split_whitespace().nth(2).map(str::to_owned))
        .collect()
}

/// `major:minor` of the device and every partition of it, with partition names.
fn device_numbers(disk_dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let name = disk_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(dev) = read_trim(&disk_dir.join("dev")) {
        out.push((name, dev));
    }
    if let Ok(entries) = std::fs::read_dir(disk_dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.join("partition").exists()
                && let Some(dev) = read_trim(&path.join("dev"))
            {
                out.push((entry.file_name().to_string_lossy().into_owned(), dev));
            }
        }
    }
    out
}

fn holders(disk_dir: &Path) -> Vec<String> {
    let mut dirs = vec![disk_dir.join("holders")];
    if let Ok(entries) = std::fs::read_dir(disk_dir) {
        for entry in entries.flatten() {
            if entry.path().join("partition").exists() {
                dirs.push(entry.path().join("holders"));
            }
        }
    }
    dirs.iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flat_map(|entries| entries.flatten())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// Why a disk is in use, if it is: a mounted file system, active swap, or
/// a device-mapper/RAID device stacked on it.
fn in_use(disk_dir: &Path, mounted: &BTreeSet<String>, swaps: &str) -> Option<String> {
    for (name, dev) in device_numbers(disk_dir) {
        if mounted.contains(&dev) {
            return Some(format!(
                "{name} is mounted (this disk holds the running system)"
            ));
        }
        if swaps
            .lines()
            .skip(1)
            .any(|l| l.split_whitespace().next() == Some(&format!("/dev/{name}")))
        {
            return Some(format!("{name} is in use as swap"));
        }
    }
    holders(disk_dir)
        .first()
        .map(|holder| format!("in use by {holder}"))
}

/// Every disk of the machine, sorted by name, each marked eligible or
/// not for a system of `min_bytes`.
pub fn list(sources: &DiskSources, min_bytes: u64) -> Vec<InstallDisk> {
    let mountinfo = std::fs::read_to_string(&sources.mountinfo).unwrap_or_default();
    let swaps = std::fs::read_to_string(&sources.swaps).unwrap_or_default();
    let mounted = mounted_devices(&mountinfo);
    let mut disks: Vec<InstallDisk> = std::fs::read_dir(&sources.sys_block)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_loop = name.starts_with("loop");
            if NOT_DISKS.iter().any(|p| name.starts_with(p)) && !(is_loop && sources.include_loop) {
                return None;
            }
            let dir = entry.path();
            let sectors: u64 = read_trim(&dir.join("size"))?.parse().ok()?;
            if sectors == 0 {
                return None;
            }
            let size_bytes = sectors * 512;
            let flag = |file: &str| read_trim(&dir.join(file)).as_deref() == Some("1");
            let read_only = flag("ro");
            // virtio reports a PCI vendor id instead of a name.
            let vendor = read_trim(&dir.join("device/vendor")).map(|v| match v.as_str() {
                "0x1af4" => "Virtio".to_owned(),
                _ => v,
            });
            let model = read_trim(&dir.join("device/model"));
            let model = match (vendor, model) {
                (Some(v), Some(m)) if !m.starts_with(&v) => Some(format!("{v} {m}")),
                (v, m) => m.or(v),
            };
            let problem = if read_only {
                Some("read-only".to_owned())
            } else if let Some(reason) = in_use(&dir, &mounted, &swaps) {
                Some(reason)
            } else if size_bytes < min_bytes {
                Some(format!(
                    "too small: {} GiB, the system needs at least {} GiB",
                    size_bytes >> 30,
                    min_bytes.div_ceil(1 << 30)
                ))
            } else {
                None
            };
            Some(InstallDisk {
                path: sources.dev.join(&name).display().to_string(),
                name,
                size_bytes,
                model,
                serial: read_trim(&dir.join("device/serial"))
                    .or_else(|| read_trim(&dir.join("serial"))),
                rotational: flag("queue/rotational"),
                removable: flag("removable"),
                eligible: problem.is_none(),
                reason: problem,
            })
        })
        .collect();
    disks.sort_by(|a, b| a.name.cmp(&b.name));
    disks
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a fake sysfs tree.
    pub struct FakeSys {
        pub dir: tempfile::TempDir,
    }

    impl FakeSys {
        pub fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(dir.path().join("sys/block")).unwrap();
            std::fs::write(dir.path().join("mountinfo"), "").unwrap();
            std::fs::write(
                dir.path().join("swaps"),
                "Filename Type Size Used Priority\n",
            )
            .unwrap();
            Self { dir }
        }

        pub fn disk(&self, name: &str, gib: u64, dev: &str, model: Option<&str>) -> PathBuf {
            let d = self.dir.path().join("sys/block").join(name);
            std::fs::create_dir_all(d.join("device")).unwrap();
            std::fs::create_dir_all(d.join("holders")).unwrap();
            std::fs::create_dir_all(d.join("queue")).unwrap();
            std::fs::write(d.join("size"), format!("{}\n", gib * 2 * 1024 * 1024)).unwrap();
            std::fs::write(d.join("dev"), format!("{dev}\n")).unwrap();
            std::fs::write(d.join("ro"), "0\n").unwrap();
            std::fs::write(d.join("removable"), "0\n").unwrap();
            std::fs::write(d.join("queue/rotational"), "0\n").unwrap();
            if let Some(m) = model {
                std::fs::write(d.join("device/model"), format!("{m}   \n")).unwrap();
            }
            d
        }

        pub fn partition(&self, disk: &Path, name: &str, dev: &str) {
            let p = disk.join(name);
            std::fs::create_dir_all(p.join("holders")).unwrap();
            std::fs::write(p.join("partition"), "1\n").unwrap();
            std::fs::write(p.join("dev"), format!("{dev}\n")).unwrap();
        }

        pub fn mount(&self, dev: &str) {
            let path = self.dir.path().join("mountinfo");
            let mut text = std::fs::read_to_string(&path).unwrap();
            text.push_str(&format!("30 1 {dev} / /x rw - ext4 /dev/x rw\n"));
            std::fs::write(path, text).unwrap();
        }

        pub fn sources(&self) -> DiskSources {
            DiskSources {
                sys_block: self.dir.path().join("sys/block"),
                mountinfo: self.dir.path().join("mountinfo"),
                swaps: self.dir.path().join("swaps"),
                dev: self.dir.path().join("dev"),
                include_loop: false,
            }
        }
    }

    #[test]
    fn eligibility_with_reasons() {
        let sys = FakeSys::new();
        let boot = sys.disk("sda", 64, "8:0", Some("BOOT SSD"));
        sys.partition(&boot, "sda1", "8:1");
        sys.mount("8:1");
        sys.disk("sdb", 4, "8:16", Some("SMALL"));
        sys.disk("vdb", 32, "254:16", None);
        let ro = sys.disk("vdc", 32, "254:32", None);
        std::fs::write(ro.join("ro"), "1\n").unwrap();
        let held = sys.disk("vdd", 32, "254:48", None);
        std::fs::write(held.join("holders/dm-0"), "").unwrap();
        sys.disk("loop0", 32, "7:0", None);
        sys.disk("sr0", 1, "11:0", None);

        let disks = list(&sys.sources(), 8 << 30);
        let summary: Vec<(&str, bool, Option<&str>)> = disks
            .iter()
            .map(|d| (d.name.as_str(), d.eligible, d.reason.as_deref()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    "sda",
                    false,
                    Some("sda1 is mounted (this disk holds the running system)")
                ),
                (
                    "sdb",
                    false,
                    Some("too small: 4 GiB, the system needs at least 8 GiB")
                ),
                ("vdb", true, None),
                ("vdc", false, Some("read-only")),
                ("vdd", false, Some("in use by dm-0")),
            ]
        );
        assert_eq!(disks[0].model.as_deref(), Some("BOOT SSD"));
        assert_eq!(disks[2].size_bytes, 32 << 30);
    }

    #[test]
    fn this_machine_lists_without_panicking() {
        let disks = list(&DiskSources::default(), 1 << 30);
        for d in disks {
            assert!(!d.name.starts_with("loop"));
        }
    }
}
