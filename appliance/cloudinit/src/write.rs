//! Writing the seed ISO to its file, crash-safely and privately.

use std::fs::{File, Permissions};
use std::io::{self, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use crate::NoCloud;
use crate::error::CloudInitError;
use crate::iso::seed_iso;
use crate::validate::validate_parts;

/// The seed's file mode: user-data may hold passwords and keys.
const MODE: u32 = 0o600;

/// Writes [`seed_iso`] of `data` to `path` atomically (a temporary file in
/// the same directory, fsync, rename, fsync of the directory), mode 0600
/// (user-data may hold secrets).
///
/// `default_meta` is the meta-data used when `data.meta_data` is `None`
/// (see [`default_meta_data`](crate::default_meta_data)). The data is
/// [`validate`](crate::validate)d first, with the meta-data that will be
/// written; when it is refused nothing is written and an existing file at
/// `path` stays as it was.
pub fn write_seed(path: &Path, data: &NoCloud, default_meta: &str) -> Result<(), CloudInitError> {
    let meta_data = data.meta_data.as_deref().unwrap_or(default_meta);
    let network_config = data.network_config.as_deref();
    validate_parts(&data.user_data, Some(meta_data), network_config)?;
    let image = seed_iso(
        data.user_data.as_bytes(),
        meta_data.as_bytes(),
        network_config.map(str::as_bytes),
    )?;
    replace_file(path, &image).map_err(|source| CloudInitError::Write {
        path: path.to_owned(),
        source,
    })
}

/// Replaces `path` with `contents` so that, whatever happens, the file is
/// either the old one or the new one, whole.
fn replace_file(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let dir = dir.unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    // A unique temporary name, so that two writers of the same seed cannot
    // mix their bytes; it is removed when dropped unless persisted.
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".tmp-{}.", name.to_string_lossy()))
        .permissions(Permissions::from_mode(MODE))
        .tempfile_in(dir)?;
    // The mode given at creation is narrowed by the umask; set it exactly.
    temp.as_file()
        .set_permissions(Permissions::from_mode(MODE))?;
    temp.write_all(contents)?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> NoCloud {
        NoCloud {
            user_data: "#cloud-config\nhostname: a\n".to_owned(),
            meta_data: None,
            network_config: None,
        }
    }

    #[test]
    fn writes_private_file_and_replaces_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seed.iso");
        std::fs::write(&path, b"old").unwrap();
        std::fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();
        write_seed(&path, &data(), "instance-id: i-1\n").unwrap();
        let image = std::fs::read(&path).unwrap();
        assert_eq!(&image[16 * 2048 + 1..16 * 2048 + 6], b"CD001");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, MODE);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["seed.iso"], "no temporary file left");
    }

    #[test]
    fn refused_data_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seed.iso");
        std::fs::write(&path, b"old").unwrap();
        let bad = NoCloud {
            user_data: "hostname: a\n".to_owned(),
            ..data()
        };
        assert!(matches!(
            write_seed(&path, &bad, "instance-id: i-1\n"),
            Err(CloudInitError::UserDataHeader { .. })
        ));
        // The default meta-data is checked like given meta-data.
        assert!(matches!(
            write_seed(&path, &data(), "- not a mapping\n"),
            Err(CloudInitError::NotMapping { .. })
        ));
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn missing_directory_is_a_write_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent").join("seed.iso");
        let err = write_seed(&path, &data(), "instance-id: i-1\n").unwrap_err();
        assert!(matches!(err, CloudInitError::Write { .. }), "{err:?}");
        assert!(err.to_string().contains("absent/seed.iso"), "{err}");
    }
}
