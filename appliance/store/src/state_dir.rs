//! The locked state directory and its documents.

use crate::atomic;
use lqx_core::document::{self, Document, DocumentError};
use nix::fcntl::{Flock, FlockArg};
use std::fs::{DirBuilder, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Errors of the state directory.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The directory could not be created or opened.
    #[error("cannot open state directory {path}")]
    Open {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// Another process holds the lock.
    #[error("state directory {path} is in use by another lqxd")]
    Locked {
        /// The directory.
        path: PathBuf,
    },
    /// A document could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A document was read but is not valid.
    #[error("invalid state in {path}")]
    Decode {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: DocumentError,
    },
    /// A document could not be written; the previous one is still in force.
    #[error("cannot write {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// A state directory held exclusively by this process until dropped.
#[derive(Debug)]
pub struct StateDir {
    path: PathBuf,
    _lock: Flock<File>,
}

/// Permissions of the directory and of every document: state may hold
/// secrets, so only root (the agent's user) reads it.
const DIR_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;

impl StateDir {
    /// Creates (mode 0700) and locks `path`, and clears debris of
    /// interrupted writes. Fails at once if another process holds it.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(path)
            .map_err(open_err)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(DIR_MODE))
            .map_err(open_err)?;
        let lock_file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path.join(".lock"))
            .map_err(open_err)?;
        let lock =
            Flock::lock(lock_file, FlockArg::LockExclusiveNonblock).map_err(|(_, errno)| {
                match errno {
                    nix::errno::Errno::EWOULDBLOCK => StoreError::Locked {
                        path: path.to_owned(),
                    },
                    other => open_err(io::Error::from(other)),
                }
            })?;
        let removed = atomic::remove_debris(path).map_err(open_err)?;
        if removed > 0 {
            tracing::info!(removed, "removed temporary files of interrupted writes");
        }
        Ok(Self {
            path: path.to_owned(),
            _lock: lock,
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads document `D`; `Ok(None)` when it was never written.
    pub fn load<D: Document>(&self) -> Result<Option<D>, StoreError> {
        let path = self.path.join(D::FILE_NAME);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StoreError::Read { path, source }),
        };
        document::decode(&bytes)
            .map(Some)
            .map_err(|source| StoreError::Decode { path, source })
    }

    /// Writes document `D` atomically.
    pub fn save<D: Document>(&self, doc: &D) -> Result<(), StoreError> {
        let path = self.path.join(D::FILE_NAME);
        atomic::write_file(&path, &document::encode(doc), FILE_MODE)
            .map_err(|source| StoreError::Write { path, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Doc {
        schema_version: u32,
        n: u32,
    }
    impl Document for Doc {
        const FILE_NAME: &'static str = "doc.json";
        const SCHEMA_VERSION: u32 = 1;
    }

    #[test]
    fn save_then_load() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::open(&dir.path().join("state")).unwrap();
        assert_eq!(state.load::<Doc>().unwrap(), None);
        let doc = Doc {
            schema_version: 1,
            n: 7,
        };
        state.save(&doc).unwrap();
        assert_eq!(state.load::<Doc>().unwrap(), Some(doc));
        let mode = std::fs::metadata(state.path().join("doc.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = std::fs::metadata(state.path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
    }

    #[test]
    fn second_open_is_refused_while_held() {
        let dir = tempfile::tempdir().unwrap();
        let first = StateDir::open(dir.path()).unwrap();
        assert!(matches!(
            StateDir::open(dir.path()),
            Err(StoreError::Locked { .. })
        ));
        drop(first);
        StateDir::open(dir.path()).unwrap();
    }

    #[test]
    fn corrupt_document_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::open(dir.path()).unwrap();
        std::fs::write(dir.path().join("doc.json"), b"{\"schema_version\":1,").unwrap();
        let err = state.load::<Doc>().unwrap_err();
        assert!(err.to_string().contains("doc.json"), "{err}");
    }
}
