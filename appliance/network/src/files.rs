//! Writing the rendered files and removing the ones lqxd owns but no
//! longer renders.

use crate::{ApplyPlan, NetworkBackend, NetworkError};
use futures::future::BoxFuture;
use lqx_core::network::RenderedFile;
use lqx_core::network::render::{DROP_IN, FALLBACK_MASK, OWNED_PREFIX};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What [`write_owned`] changed, so daemons that must be restarted to
/// reread their configuration are only restarted when needed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Paths (relative to the root) written or removed.
    pub paths: BTreeSet<String>,
}

impl Changes {
    /// Whether anything under `dir` (e.g. "resolved.conf.d") changed.
    pub fn touched(&self, dir: &str) -> bool {
        self.paths.iter().any(|p| p.starts_with(&format!("{dir}/")))
    }
}

fn is_owned(dir: &str, name: &str) -> bool {
    match dir {
        "network" => name.starts_with(OWNED_PREFIX) || name == FALLBACK_MASK,
        _ => name == DROP_IN,
    }
}

/// Makes the lqxd-owned files under `root` (normally /etc/systemd) exactly
/// `files`: each written atomically (0644: networkd reads as its own user)
/// unless already identical, and owned files not in `files` removed.
pub fn write_owned(root: &Path, files: &[RenderedFile]) -> Result<Changes, NetworkError> {
    let mut changes = Changes::default();
    let wanted: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let err = |path: PathBuf| move |source| NetworkError::Write { path, source };
    for file in files {
        let path = root.join(&file.path);
        if std::fs::read(&path).ok().as_deref() == Some(file.contents.as_bytes()) {
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(err(dir.to_path_buf()))?;
        }
        lqx_store::atomic::write_file(&path, file.contents.as_bytes(), 0o644)
            .map_err(err(path.clone()))?;
        changes.paths.insert(file.path.clone());
    }
    for dir in ["network", "resolved.conf.d", "timesyncd.conf.d"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = format!("{dir}/{name}");
            if is_owned(dir, &name) && !wanted.contains(rel.as_str()) {
                std::fs::remove_file(entry.path()).map_err(err(entry.path()))?;
                changes.paths.insert(rel);
            }
        }
    }
    Ok(changes)
}

/// Writes the files into a directory and touches nothing else: the
/// backend of standalone agents, which must not reconfigure the machine
/// they run on. What was rendered can be inspected there.
#[derive(Debug)]
pub struct FilesOnly {
    root: PathBuf,
}

impl FilesOnly {
    /// Files go under `root` (network/, resolved.conf.d/, timesyncd.conf.d/).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
}

impl NetworkBackend for FilesOnly {
    fn apply<'a>(&'a self, plan: &'a ApplyPlan) -> BoxFuture<'a, Result<(), NetworkError>> {
        Box::pin(async move {
            let root = self.root.clone();
            let files = plan.files.clone();
            tokio::task::spawn_blocking(move || write_owned(&root, &files))
                .await
                .map_err(NetworkError::Task)?
                .map(drop)
        })
    }

    fn kind(&self) -> lqx_api::NetworkBackendKind {
        lqx_api::NetworkBackendKind::FilesOnly
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(path: &str, contents: &str) -> RenderedFile {
        RenderedFile {
            path: path.into(),
            contents: contents.into(),
        }
    }

    #[test]
    fn writes_replaces_and_removes_only_owned_files() {
        let root = tempfile::tempdir().unwrap();
        let net = root.path().join("network");
        std::fs::create_dir_all(&net).unwrap();
        std::fs::write(net.join("20-operator.network"), "keep").unwrap();
        let first = [
            f("network/10-lqx-eth0.network", "a"),
            f("network/10-lqx-bond0.netdev", "b"),
            f("resolved.conf.d/50-lqx.conf", "r"),
        ];
        let changes = write_owned(root.path(), &first).unwrap();
        assert_eq!(changes.paths.len(), 3);
        assert!(changes.touched("resolved.conf.d"));
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(net.join("10-lqx-eth0.network"))
                .unwrap()
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o644);

        let again = write_owned(root.path(), &first).unwrap();
        assert!(again.paths.is_empty(), "identical files are not rewritten");

        let second = [f("network/10-lqx-eth0.network", "a2")];
        let changes = write_owned(root.path(), &second).unwrap();
        assert_eq!(
            changes.paths.into_iter().collect::<Vec<_>>(),
            [
                "network/10-lqx-bond0.netdev",
                "network/10-lqx-eth0.network",
                "resolved.conf.d/50-lqx.conf"
            ]
        );
        assert_eq!(
            std::fs::read_to_string(net.join("10-lqx-eth0.network")).unwrap(),
            "a2"
        );
        assert!(!net.join("10-lqx-bond0.netdev").exists());
        assert_eq!(
            std::fs::read_to_string(net.join("20-operator.network")).unwrap(),
            "keep"
        );

        write_owned(root.path(), &[]).unwrap();
        let left: Vec<_> = std::fs::read_dir(&net)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["20-operator.network"]);
    }
}
