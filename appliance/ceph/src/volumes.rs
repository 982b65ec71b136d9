//! Volume operations on librbd. Each checks everything that could refuse
//! it before changing anything, so a refusal leaves the pool as it was.

use crate::error::CephError;
use crate::rados::Session;
use lqx_api::{Snapshot, Volume, VolumeDeleteQuery, VolumeParent, VolumeSummary};
use lqx_core::ceph::VolumeSpec;
use lqx_rbd::{ErrorKind, Image, IoCtx, RbdError};
use time::OffsetDateTime;

/// RBD feature bits and their names, as `rbd info` prints them.
const FEATURES: [(u64, &str); 11] = [
    (1, "layering"),
    (2, "striping"),
    (4, "exclusive-lock"),
    (8, "object-map"),
    (16, "fast-diff"),
    (32, "deep-flatten"),
    (64, "journaling"),
    (128, "data-pool"),
    (256, "operations"),
    (512, "migrating"),
    (1024, "non-primary"),
];

fn ioctx<'s>(s: &'s Session, pool: &str) -> Result<IoCtx<'s>, CephError> {
    s.rados.pool(pool).map_err(|source| match source.kind() {
        ErrorKind::NotFound => CephError::NotFound(format!("pool {pool}")),
        ErrorKind::PermissionDenied => CephError::PermissionDenied {
            name: s.name.clone(),
            action: format!("use pool {pool}"),
        },
        _ => CephError::Rados {
            action: format!("open pool {pool}"),
            source,
        },
    })
}

/// Turns a librbd error into what it means for `target`; `action` says
/// what was attempted, for permission errors.
fn rbd(s: &Session, target: &str, action: &str) -> impl Fn(RbdError) -> CephError + use<> {
    let (target, action, name) = (target.to_owned(), action.to_owned(), s.name.clone());
    move |e| match e.kind() {
        ErrorKind::NotFound => CephError::NotFound(target.clone()),
        ErrorKind::Exists => CephError::Exists(target.clone()),
        ErrorKind::PermissionDenied => CephError::PermissionDenied {
            name: name.clone(),
            action: format!("{action} {target}"),
        },
        ErrorKind::Busy => CephError::InUse(target.clone()),
        ErrorKind::TimedOut => CephError::TimedOut(format!("{action} {target}")),
        _ => CephError::Rbd {
            target: target.clone(),
            source: e,
        },
    }
}

/// Whether the client can list the pool's images.
pub(crate) fn readable(s: &Session, pool: &str) -> bool {
    ioctx(s, pool).is_ok_and(|io| lqx_rbd::list(&io).is_ok())
}

pub(crate) fn list(s: &Session, pool: &str) -> Result<Vec<VolumeSummary>, CephError> {
    let io = ioctx(s, pool)?;
    let specs = lqx_rbd::list(&io).map_err(rbd(s, &format!("pool {pool}"), "list"))?;
    let mut out = Vec::with_capacity(specs.len());
    for spec in specs {
        let target = format!("{pool}/{}", spec.name);
        let image = match Image::open_read_only(&io, &spec.name) {
            Ok(i) => i,
            // Deleted between listing and opening.
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(rbd(s, &target, "read")(e)),
        };
        let err = rbd(s, &target, "read");
        let parent = image.parent().map_err(&err)?;
        out.push(VolumeSummary {
            name: spec.name,
            size_bytes: image.info().map_err(&err)?.size,
            parent: parent.map(|p| format!("{}/{}@{}", p.pool, p.image, p.snap)),
            snapshots: image.snapshots().map_err(&err)?.len(),
        });
    }
    Ok(out)
}

pub(crate) fn show(s: &Session, pool: &str, name: &str) -> Result<Volume, CephError> {
    let io = ioctx(s, pool)?;
    let target = format!("{pool}/{name}");
    let err = rbd(s, &target, "read");
    let image = Image::open_read_only(&io, name).map_err(&err)?;
    let info = image.info().map_err(&err)?;
    let features = image.features().map_err(&err)?;
    let mut snapshots = vec![];
    for snap in image.snapshots().map_err(&err)? {
        let clones = Image::open_snapshot(&io, name, &snap.name)
            .and_then(|at| at.children())
            .map_err(&err)?
            .into_iter()
            .map(|c| format!("{}/{}", c.pool, c.image))
            .collect();
        snapshots.push(Snapshot {
            protected: image.snap_is_protected(&snap.name).map_err(&err)?,
            name: snap.name,
            id: snap.id,
            size_bytes: snap.size,
            clones,
        });
    }
    let created = image.created().map_err(&err)?;
    Ok(Volume {
        pool: pool.to_owned(),
        name: name.to_owned(),
        id: image.id().map_err(&err)?,
        size_bytes: info.size,
        object_size_bytes: info.obj_size,
        features: FEATURES
            .iter()
            .filter(|(bit, _)| features & bit != 0)
            .map(|(_, n)| (*n).to_owned())
            .collect(),
        parent: image.parent().map_err(&err)?.map(|p| VolumeParent {
            pool: p.pool,
            name: p.image,
            snapshot: p.snap,
        }),
        snapshots,
        created_at: OffsetDateTime::from(created),
    })
}

pub(crate) fn create(s: &Session, pool: &str, name: &str, size: u64) -> Result<Volume, CephError> {
    let io = ioctx(s, pool)?;
    lqx_rbd::create(&io, name, size).map_err(rbd(s, &format!("{pool}/{name}"), "create"))?;
    show(s, pool, name)
}

pub(crate) fn resize(
    s: &Session,
    pool: &str,
    name: &str,
    size: u64,
    allow_shrink: bool,
) -> Result<Volume, CephError> {
    let io = ioctx(s, pool)?;
    let target = format!("{pool}/{name}");
    let err = rbd(s, &target, "resize");
    {
        let image = Image::open(&io, name).map_err(&err)?;
        let current = image.info().map_err(&err)?.size;
        if size < current && !allow_shrink {
            return Err(CephError::ShrinkRefused {
                volume: target,
                current,
                requested: size,
            });
        }
        image.resize(size).map_err(&err)?;
    }
    show(s, pool, name)
}

pub(crate) fn snapshot_create(
    s: &Session,
    pool: &str,
    name: &str,
    snap: &str,
) -> Result<Volume, CephError> {
    let io = ioctx(s, pool)?;
    {
        let image =
            Image::open(&io, name).map_err(rbd(s, &format!("{pool}/{name}"), "snapshot"))?;
        image
            .snap_create(snap)
            .map_err(rbd(s, &format!("{pool}/{name}@{snap}"), "create"))?;
    }
    show(s, pool, name)
}

/// The clones of `name@snap`, as `POOL/NAME`.
fn clones_of(
    s: &Session,
    io: &IoCtx<'_>,
    pool: &str,
    name: &str,
    snap: &str,
) -> Result<Vec<String>, CephError> {
    let at = Image::open_snapshot(io, name, snap).map_err(rbd(
        s,
        &format!("{pool}/{name}@{snap}"),
        "read",
    ))?;
    Ok(at
        .children()
        .map_err(rbd(
            s,
            &format!("{pool}/{name}@{snap}"),
            "list the clones of",
        ))?
        .into_iter()
        .map(|c| format!("{}/{}", c.pool, c.image))
        .collect())
}

/// Unprotects (when protected) and removes a snapshot with no clones.
fn remove_snapshot(
    s: &Session,
    image: &Image<'_>,
    target: &str,
    snap: &str,
) -> Result<(), CephError> {
    let err = rbd(s, target, "delete");
    if image.snap_is_protected(snap).map_err(&err)? {
        image.snap_unprotect(snap).map_err(&err)?;
    }
    image.snap_remove(snap).map_err(&err)
}

pub(crate) fn snapshot_delete(
    s: &Session,
    pool: &str,
    name: &str,
    snap: &str,
) -> Result<Volume, CephError> {
    let io = ioctx(s, pool)?;
    let target = format!("{pool}/{name}@{snap}");
    let clones = clones_of(s, &io, pool, name, snap)?;
    if !clones.is_empty() {
        return Err(CephError::HasClones {
            snapshot: target,
            clones,
        });
    }
    {
        let image = Image::open(&io, name).map_err(rbd(s, &format!("{pool}/{name}"), "open"))?;
        remove_snapshot(s, &image, &target, snap)?;
    }
    show(s, pool, name)
}

pub(crate) fn clone(
    s: &Session,
    source: &VolumeSpec,
    target: &VolumeSpec,
) -> Result<Volume, CephError> {
    let snap = source.snapshot.as_deref().unwrap_or_default();
    let src_io = ioctx(s, &source.pool)?;
    let dst_io = ioctx(s, &target.pool)?;
    let src = source.to_string();
    {
        let parent = Image::open(&src_io, &source.name).map_err(rbd(
            s,
            &format!("{}/{}", source.pool, source.name),
            "open",
        ))?;
        // Clone format v1 (the default until every client is Mimic or
        // newer) needs a protected snapshot; with v2 protecting is harmless.
        if !parent
            .snap_is_protected(snap)
            .map_err(rbd(s, &src, "read"))?
        {
            parent.snap_protect(snap).map_err(rbd(s, &src, "protect"))?;
        }
    }
    lqx_rbd::clone(&src_io, &source.name, snap, &dst_io, &target.name).map_err(|e| {
        match e.kind() {
            ErrorKind::Exists => CephError::Exists(target.to_string()),
            _ => rbd(s, &target.to_string(), "clone into")(e),
        }
    })?;
    show(s, &target.pool, &target.name)
}

pub(crate) fn delete(
    s: &Session,
    pool: &str,
    name: &str,
    how: VolumeDeleteQuery,
) -> Result<(), CephError> {
    let io = ioctx(s, pool)?;
    let target = format!("{pool}/{name}");
    let err = rbd(s, &target, "delete");
    let snaps = Image::open_read_only(&io, name)
        .and_then(|i| i.snapshots())
        .map_err(&err)?;
    if !snaps.is_empty() && !how.snapshots {
        return Err(CephError::HasSnapshots {
            volume: target,
            snapshots: snaps.into_iter().map(|s| s.name).collect(),
        });
    }
    // Every refusal is found before anything is changed.
    let mut dependents = vec![];
    for snap in &snaps {
        let clones = clones_of(s, &io, pool, name, &snap.name)?;
        if !clones.is_empty() && !how.flatten_clones {
            return Err(CephError::HasClones {
                snapshot: format!("{target}@{}", snap.name),
                clones,
            });
        }
        dependents.extend(clones);
    }
    for clone in &dependents {
        let spec = VolumeSpec::parse(clone).map_err(|detail| CephError::Answer {
            command: "list children".into(),
            detail,
        })?;
        let clone_io = ioctx(s, &spec.pool)?;
        Image::open(&clone_io, &spec.name)
            .and_then(|c| c.flatten())
            .map_err(rbd(s, clone, "flatten"))?;
    }
    {
        let image = Image::open(&io, name).map_err(&err)?;
        for snap in &snaps {
            remove_snapshot(s, &image, &format!("{target}@{}", snap.name), &snap.name)?;
        }
    }
    lqx_rbd::remove(&io, name).map_err(&err)
}
