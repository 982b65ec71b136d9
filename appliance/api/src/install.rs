//! Installing the appliance onto a disk (from the live ISO).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A disk the system could be installed on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InstallDisk {
    /// Kernel name, e.g. `sda`, `nvme0n1`, `vda`. The operator confirms by
    /// typing it.
    pub name: String,
    /// Device node.
    pub path: String,
    /// Capacity in bytes.
    pub size_bytes: u64,
    /// Vendor and model, when the device reports them.
    pub model: Option<String>,
    /// Serial number, when reported.
    pub serial: Option<String>,
    /// Spinning disk.
    pub rotational: bool,
    /// Removable medium (USB stick, card reader).
    pub removable: bool,
    /// Whether it may be chosen.
    pub eligible: bool,
    /// Why it may not be chosen.
    pub reason: Option<String>,
}

/// `GET /v1/install`: whether this system can install itself, where, and
/// how an installation under way is doing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InstallInfo {
    /// Whether a system image to install is present (only on the live
    /// system).
    pub available: bool,
    /// Size of the system image in bytes.
    pub image_bytes: Option<u64>,
    /// Smallest disk accepted, in bytes.
    pub min_disk_bytes: u64,
    /// The machine's disks.
    pub disks: Vec<InstallDisk>,
    /// Progress of the current or last installation.
    pub progress: InstallProgress,
}

/// `POST /v1/install`: install onto `disk`, confirmed by typing its name
/// again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstallRequest {
    /// Kernel name of the target disk.
    pub disk: String,
    /// Must equal `disk`: the operator's typed confirmation that every
    /// byte on it will be replaced.
    pub confirm: String,
}

/// Phase of an installation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InstallPhase {
    /// Nothing started.
    Idle,
    /// Writing the image.
    Writing,
    /// Reading it back and comparing.
    Verifying,
    /// Installed and verified; reboot to start the installed system.
    Done,
    /// Failed; see the message.
    Failed,
}

/// Progress of an installation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InstallProgress {
    /// Phase.
    pub phase: InstallPhase,
    /// Target disk name.
    pub disk: Option<String>,
    /// Bytes written (or verified) so far in this phase.
    pub bytes_done: u64,
    /// Bytes to write (or verify).
    pub bytes_total: u64,
    /// What went wrong, when failed.
    pub message: Option<String>,
}

impl InstallProgress {
    /// No installation yet.
    pub fn idle() -> Self {
        Self {
            phase: InstallPhase::Idle,
            disk: None,
            bytes_done: 0,
            bytes_total: 0,
            message: None,
        }
    }
}
