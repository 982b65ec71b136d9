//! Installing this (live) system onto a disk: one job at a time, its
//! progress readable while it runs.

use crate::agent::AgentError;
use lqx_api::{InstallInfo, InstallPhase, InstallProgress, InstallRequest};
use lqx_install::disks::{self, DiskSources};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Smallest disk accepted: the image plus room for the second /usr slot
/// and a useful /var.
pub const MIN_DISK_BYTES: u64 = 8 << 30;

/// The installer of one agent.
pub struct Installer {
    sources: DiskSources,
    image: PathBuf,
    progress: Arc<Mutex<InstallProgress>>,
}

impl Installer {
    /// An installer writing `image` onto disks found through `sources`.
    pub fn new(sources: DiskSources, image: PathBuf) -> Self {
        Self {
            sources,
            image,
            progress: Arc::new(Mutex::new(InstallProgress::idle())),
        }
    }

    fn image_bytes(&self) -> Option<u64> {
        std::fs::metadata(&self.image)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len())
    }

    fn progress(&self) -> InstallProgress {
        self.progress
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Disks, image and progress.
    pub fn info(&self) -> InstallInfo {
        let image_bytes = self.image_bytes();
        InstallInfo {
            available: image_bytes.is_some(),
            image_bytes,
            min_disk_bytes: MIN_DISK_BYTES,
            disks: disks::list(&self.sources, MIN_DISK_BYTES),
            progress: self.progress(),
        }
    }

    /// Checks the request and starts writing in the background.
    pub fn start(&self, request: &InstallRequest) -> Result<InstallProgress, AgentError> {
        let image_bytes = self.image_bytes().ok_or_else(|| {
            AgentError::Conflict(format!(
                "this system has no image to install ({} is absent): installation runs from the \
                 live ISO",
                self.image.display()
            ))
        })?;
        let mut progress = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        if matches!(
            progress.phase,
            InstallPhase::Writing | InstallPhase::Verifying
        ) {
            return Err(AgentError::Conflict(format!(
                "an installation onto {} is already under way",
                progress.disk.as_deref().unwrap_or("?")
            )));
        }
        let disks = disks::list(&self.sources, MIN_DISK_BYTES);
        let disk = lqx_install::selection::check(&disks, request, image_bytes)
            .map_err(|e| AgentError::Invalid(e.to_string()))?;
        *progress = InstallProgress {
            phase: InstallPhase::Writing,
            disk: Some(disk.name.clone()),
            bytes_done: 0,
            bytes_total: image_bytes,
            message: None,
        };
        let snapshot = progress.clone();
        drop(progress);

        let (image, target, name) = (
            self.image.clone(),
            PathBuf::from(&disk.path),
            disk.name.clone(),
        );
        let shared = Arc::clone(&self.progress);
        tracing::info!(disk = %name, image = %image.display(), "installing");
        tokio::task::spawn_blocking(move || {
            let report = |phase, done, total| {
                let mut p = shared.lock().unwrap_or_else(|e| e.into_inner());
                (p.phase, p.bytes_done, p.bytes_total) = (phase, done, total);
            };
            let result = lqx_install::writer::install(&image, &target, &report);
            let mut p = shared.lock().unwrap_or_else(|e| e.into_inner());
            match result {
                Ok(()) => {
                    p.phase = InstallPhase::Done;
                    tracing::info!(disk = %name, "installed and verified");
                }
                Err(error) => {
                    let message = crate::api::error::chain(&error);
                    tracing::error!(disk = %name, %message, "installation failed");
                    p.phase = InstallPhase::Failed;
                    p.message = Some(message);
                }
            }
        });
        Ok(snapshot)
    }
}
