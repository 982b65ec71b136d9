//! Crash-safe file replacement.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Prefix of temporary files; anything with it is debris of an
/// interrupted write and may be removed.
pub const TEMP_PREFIX: &str = ".tmp-";

/// Creates `dir` and its missing parents, root-only (0700): directories
/// under the state directory hold keys and certificates.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Replaces `path` with `contents` so that, whatever happens, the file is
/// either the old one or the new one, whole: the new bytes go to a
/// temporary file in the same directory with permissions `mode`, which is
/// fsynced, renamed over `path`, and then the directory is fsynced so the
/// rename itself survives a power loss.
pub fn write_file(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let dir = dir.unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let temp = dir.join(format!(
        "{TEMP_PREFIX}{}.{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&temp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, path)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        // Best effort: the old file is untouched either way.
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Removes temporary files left by writes that were interrupted by a crash.
/// Returns how many were removed.
pub fn remove_debris(dir: &Path) -> io::Result<usize> {
    let mut removed = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            std::fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn replaces_whole_file_with_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("doc.json");
        write_file(&path, b"first", 0o600).unwrap();
        write_file(&path, b"second, longer", 0o600).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second, longer");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp left"
        );
    }

    #[test]
    fn failed_write_keeps_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("doc.json");
        write_file(&path, b"old", 0o600).unwrap();
        // A directory where the temp file would go makes the write fail.
        let temp = dir
            .path()
            .join(format!("{TEMP_PREFIX}doc.json.{}", std::process::id()));
        std::fs::create_dir(&temp).unwrap();
        assert!(write_file(&path, b"new", 0o600).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
    }

    #[test]
    fn debris_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(format!("{TEMP_PREFIX}x.1")), b"partial").unwrap();
        std::fs::write(dir.path().join("keep.json"), b"{}").unwrap();
        assert_eq!(remove_debris(dir.path()).unwrap(), 1);
        assert!(dir.path().join("keep.json").exists());
    }
}
