//! Seeds written by `write_seed` read back as a guest reads them: the
//! image is mounted by the kernel's isofs (with its Rock Ridge names, then
//! with its Joliet names), and `blkid` must report the label cloud-init
//! looks for. Runs as root.
//!
//! A kernel built without isofs (some CI sandboxes) cannot mount the image;
//! there both trees are read with `xorriso` (libisofs, a reader independent
//! of the writer) instead, and the test says so on stderr.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use lqx_cloudinit::{CloudInitError, NoCloud, default_meta_data, write_seed};

/// File name → contents, for the files in the image's root.
type Files = BTreeMap<String, Vec<u8>>;

const USER_DATA: &str = r#"#cloud-config
hostname: web-1
users:
  - default
  - name: ops
    groups: [sudo]
    shell: /bin/bash
    ssh_authorized_keys:
      - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBbLdkMhMn3b5zX0cnQh7oaQ3K3bDk2Wm2Lz2Nq9f0xg ops@laptop
runcmd:
  - [systemctl, enable, --now, qemu-guest-agent]
"#;

const NETWORK_CONFIG: &str = "version: 2\nethernets:\n  id0:\n    match:\n      macaddress: '52:54:00:12:34:56'\n    dhcp4: true\n";

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn blkid(file: &Path, tag: &str) -> String {
    let out = run(Command::new("blkid")
        .args(["-o", "value", "-s", tag])
        .arg(file));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Whether the running kernel can mount ISO 9660, loading isofs if it is a
/// module.
fn kernel_has_isofs() -> bool {
    let listed = || {
        std::fs::read_to_string("/proc/filesystems").is_ok_and(|s| {
            s.lines()
                .any(|l| l.split_whitespace().last() == Some("iso9660"))
        })
    };
    listed()
        || (Command::new("modprobe")
            .arg("isofs")
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
            && listed())
}

/// A read-only loop mount, unmounted when dropped (also when the test
/// panics while it is mounted).
struct Mount {
    dir: PathBuf,
}

impl Mount {
    fn new(image: &Path, dir: &Path, extra: &str) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        ensure_free_loop_device();
        run(Command::new("mount")
            .args(["-o", &format!("loop,ro{extra}"), "-t", "iso9660"])
            .arg(image)
            .arg(dir));
        Self {
            dir: dir.to_owned(),
        }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
    }
}

/// `mount -o loop` needs a free loop device node; containers sometimes
/// have /dev/loop-control but not the nodes it hands out.
fn ensure_free_loop_device() {
    let Ok(out) = Command::new("losetup").arg("-f").output() else {
        return;
    };
    let dev = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let Some(minor) = dev.strip_prefix("/dev/loop") else {
        return;
    };
    if !Path::new(&dev).exists() {
        let _ = Command::new("mknod").args([&dev, "b", "7", minor]).status();
    }
}

fn read_dir(dir: &Path) -> Files {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let name = entry.file_name().into_string().unwrap();
            (name, std::fs::read(entry.path()).unwrap())
        })
        .collect()
}

/// The image's root as Linux shows it, read through both of its name
/// trees, which must agree.
fn read_back(image: &Path, scratch: &Path) -> Files {
    let (rock_ridge, joliet) = if kernel_has_isofs() {
        // isofs prefers Rock Ridge; `norock` makes it use Joliet.
        let rock_ridge = read_dir(&Mount::new(image, &scratch.join("rr"), "").dir);
        let joliet = read_dir(&Mount::new(image, &scratch.join("joliet"), ",norock").dir);
        (rock_ridge, joliet)
    } else {
        eprintln!("this kernel has no iso9660 support; reading the image with xorriso instead");
        let extract = |read_fs: &str, into: &str| {
            let dir = scratch.join(into);
            run(Command::new("xorriso")
                .args(["-osirrox", "on", "-read_fs", read_fs, "-indev"])
                .arg(image)
                .args(["-extract", "/"])
                .arg(&dir));
            read_dir(&dir)
        };
        (extract("nojoliet", "rr"), extract("norock", "joliet"))
    };
    assert_eq!(rock_ridge, joliet, "Rock Ridge and Joliet trees differ");
    rock_ridge
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn seed_reads_back_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("seed.iso");
    // Several sectors of user-data, so that extents are laid out in full.
    let user_data = format!(
        "{USER_DATA}write_files:\n  - path: /etc/lqx-padding\n    content: |\n{}",
        "      0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n".repeat(200)
    );
    let data = NoCloud {
        user_data,
        meta_data: None,
        network_config: Some(NETWORK_CONFIG.to_owned()),
    };
    let default_meta = default_meta_data("0b5a7c1e-6f1d-4d8e-9a55-3c2a1f0e9b77", "web-1");
    write_seed(&image, &data, &default_meta).unwrap();

    assert_eq!(mode(&image), 0o600);
    assert_eq!(blkid(&image, "LABEL"), "cidata");
    assert_eq!(blkid(&image, "TYPE"), "iso9660");

    let files = read_back(&image, &dir.path().join("read"));
    let expected: Files = [
        ("user-data", data.user_data.as_bytes()),
        ("meta-data", default_meta.as_bytes()),
        ("network-config", NETWORK_CONFIG.as_bytes()),
    ]
    .into_iter()
    .map(|(name, body)| (name.to_owned(), body.to_vec()))
    .collect();
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "exactly these names are visible"
    );
    assert_eq!(files, expected);
}

#[test]
fn seed_without_network_config_has_no_such_file() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("seed.iso");
    let meta = "instance-id: i-0001\nlocal-hostname: db-1\n";
    let data = NoCloud {
        user_data: "#!/bin/sh\necho hello > /root/hello\n".to_owned(),
        meta_data: Some(meta.to_owned()),
        network_config: None,
    };
    write_seed(&image, &data, "instance-id: unused\n").unwrap();

    assert_eq!(mode(&image), 0o600);
    assert_eq!(blkid(&image, "LABEL"), "cidata");
    assert_eq!(blkid(&image, "TYPE"), "iso9660");

    let files = read_back(&image, &dir.path().join("read"));
    let names: Vec<_> = files.keys().map(String::as_str).collect();
    assert_eq!(names, ["meta-data", "user-data"]);
    assert_eq!(files["user-data"], data.user_data.as_bytes());
    assert_eq!(files["meta-data"], meta.as_bytes());
}

#[test]
fn invalid_user_data_writes_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("seed.iso");
    let data = NoCloud {
        user_data: "#cloud-config\nusers:\n  - name: ops\n   groups: sudo\n".to_owned(),
        meta_data: None,
        network_config: None,
    };
    let err = write_seed(&image, &data, &default_meta_data("i-1", "vm")).unwrap_err();
    assert!(
        matches!(err, CloudInitError::Yaml { line: 4, .. }),
        "{err:?}"
    );
    assert!(!image.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no temporary file left either"
    );
}
