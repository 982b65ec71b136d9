//! RBD volumes: images in a Ceph pool, their snapshots and clones.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

/// `POST /v1/volumes/{pool}`: a new volume.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VolumeCreate {
    /// The image name.
    pub name: String,
    /// Size in bytes (a whole number of 512-byte sectors).
    pub size_bytes: u64,
}

/// `POST /v1/volumes/{pool}/{name}/resize`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VolumeResize {
    /// The new size in bytes.
    pub size_bytes: u64,
    /// Allow a smaller size, discarding the data past it.
    #[serde(default)]
    pub allow_shrink: bool,
}

/// `POST /v1/volumes/{pool}/{name}/snapshots`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SnapshotCreate {
    /// The snapshot name.
    pub name: String,
}

/// `POST /v1/volumes/{pool}/{name}/snapshots/{snap}/clone`: where the
/// clone goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloneRequest {
    /// Pool of the new volume.
    pub pool: String,
    /// Name of the new volume.
    pub name: String,
}

/// Query of `DELETE /v1/volumes/{pool}/{name}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VolumeDeleteQuery {
    /// Also delete the volume's snapshots (unprotecting them). Refused
    /// when one has clones, unless `flatten_clones`.
    #[serde(default)]
    pub snapshots: bool,
    /// Flatten the clones of those snapshots first, so they keep their
    /// data and lose their parent.
    #[serde(default)]
    pub flatten_clones: bool,
}

/// The parent of a cloned volume.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VolumeParent {
    /// Pool.
    pub pool: String,
    /// Volume.
    pub name: String,
    /// Snapshot.
    pub snapshot: String,
}

/// A snapshot of a volume.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Snapshot {
    /// Its name.
    pub name: String,
    /// Its id.
    pub id: u64,
    /// The volume's size when taken.
    pub size_bytes: u64,
    /// Protected (needed for clones with clone format v1).
    pub protected: bool,
    /// Clones of it, `POOL/NAME`.
    pub clones: Vec<String>,
}

/// A volume.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Volume {
    /// Pool.
    pub pool: String,
    /// Image name.
    pub name: String,
    /// RBD's id for it.
    pub id: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// Object size in bytes.
    pub object_size_bytes: u64,
    /// The features enabled, by name.
    pub features: Vec<String>,
    /// The snapshot it was cloned from, while it depends on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<VolumeParent>,
    /// Its snapshots, oldest first.
    pub snapshots: Vec<Snapshot>,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

/// One entry of `GET /v1/volumes/{pool}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VolumeSummary {
    /// Image name.
    pub name: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// `POOL/NAME@SNAP` of its parent, for a clone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// How many snapshots it has.
    pub snapshots: usize,
}
