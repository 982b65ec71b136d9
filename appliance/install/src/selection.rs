//! The operator's choice of disk, checked before anything is written.

use lqx_api::{InstallDisk, InstallRequest};
use thiserror::Error;

/// Why a choice is refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SelectionError {
    /// No disk of that name.
    #[error("no disk named {0:?}")]
    Unknown(String),
    /// The disk may not be used.
    #[error("{name} cannot be used: {reason}")]
    NotEligible {
        /// The disk.
        name: String,
        /// Why.
        reason: String,
    },
    /// The typed confirmation does not match.
    #[error("confirmation {typed:?} does not match the disk name {name:?}; nothing was written")]
    NotConfirmed {
        /// The disk.
        name: String,
        /// What was typed.
        typed: String,
    },
    /// The image does not fit.
    #[error("{name} holds {disk_bytes} bytes but the system image needs {image_bytes}")]
    TooSmall {
        /// The disk.
        name: String,
        /// Its size.
        disk_bytes: u64,
        /// The image size.
        image_bytes: u64,
    },
}

/// The chosen disk, when the request is acceptable.
pub fn check<'a>(
    disks: &'a [InstallDisk],
    request: &InstallRequest,
    image_bytes: u64,
) -> Result<&'a InstallDisk, SelectionError> {
    let disk = disks
        .iter()
        .find(|d| d.name == request.disk)
        .ok_or_else(|| SelectionError::Unknown(request.disk.clone()))?;
    if !disk.eligible {
        return Err(SelectionError::NotEligible {
            name: disk.name.clone(),
            reason: disk.reason.clone().unwrap_or_default(),
        });
    }
    if request.confirm.trim() != disk.name {
        return Err(SelectionError::NotConfirmed {
            name: disk.name.clone(),
            typed: request.confirm.clone(),
        });
    }
    if disk.size_bytes < image_bytes {
        return Err(SelectionError::TooSmall {
            name: disk.name.clone(),
            disk_bytes: disk.size_bytes,
            image_bytes,
        });
    }
    Ok(disk)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disk(name: &str, gib: u64, reason: Option<&str>) -> InstallDisk {
        InstallDisk {
            name: name.into(),
            path: format!("/dev/{name}"),
            size_bytes: gib << 30,
            model: None,
            serial: None,
            rotational: false,
            removable: false,
            eligible: reason.is_none(),
            reason: reason.map(Into::into),
        }
    }

    fn req(disk: &str, confirm: &str) -> InstallRequest {
        InstallRequest {
            disk: disk.into(),
            confirm: confirm.into(),
        }
    }

    #[test]
    fn every_refusal_names_its_reason() {
        let disks = [
            disk("sda", 64, Some("sda1 is mounted")),
            disk("vdb", 2, None),
        ];
        assert_eq!(
            check(&disks, &req("vdz", "vdz"), 1),
            Err(SelectionError::Unknown("vdz".into()))
        );
        assert!(matches!(
            check(&disks, &req("sda", "sda"), 1),
            Err(SelectionError::NotEligible { .. })
        ));
        assert!(matches!(
            check(&disks, &req("vdb", "vda"), 1),
            Err(SelectionError::NotConfirmed { .. })
        ));
        assert!(matches!(
            check(&disks, &req("vdb", ""), 1),
            Err(SelectionError::NotConfirmed { .. })
        ));
        assert!(matches!(
            check(&disks, &req("vdb", "vdb"), 3 << 30),
            Err(SelectionError::TooSmall { .. })
        ));
        assert_eq!(
            check(&disks, &req("vdb", " vdb\n"), 1 << 30).unwrap().name,
            "vdb"
        );
    }
}
