use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A loop device over a sparse file: a real block device for installer
/// tests. Detached when dropped.
pub struct LoopDisk {
    dev: PathBuf,
}

impl LoopDisk {
    /// Creates `file` with `bytes` (sparse) and attaches a loop device.
    ///
    /// # Panics
    /// When `losetup` fails (no loop devices, not root).
    pub fn new(file: &Path, bytes: u64) -> Self {
        std::fs::File::create(file)
            .and_then(|f| f.set_len(bytes))
            .expect("backing file");
        let out = Command::new("losetup")
            .args(["-f", "--show"])
            .arg(file)
            .output()
            .expect("run losetup");
        assert!(
            out.status.success(),
            "losetup: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self {
            dev: PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()),
        }
    }

    /// The device node, e.g. `/dev/loop3`.
    pub fn dev(&self) -> &Path {
        &self.dev
    }

    /// The kernel name, e.g. `loop3`.
    pub fn name(&self) -> String {
        self.dev
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// The first `n` bytes of the device.
    pub fn head(&self, n: usize) -> Vec<u8> {
        let mut buf = vec![0u8; n];
        std::fs::File::open(&self.dev)
            .and_then(|mut f| f.read_exact(&mut buf))
            .expect("read loop device");
        buf
    }
}

impl Drop for LoopDisk {
    fn drop(&mut self) {
        let _ = Command::new("losetup").arg("-d").arg(&self.dev).status();
    }
}
