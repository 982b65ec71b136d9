//! An open image: its properties, size, snapshots and children.

use crate::error::RbdError;
use crate::pool::{cstring, owned, raw};
use crate::rados::IoCtx;
use crate::sys;
use std::marker::PhantomData;
use std::ptr;
use std::time::{Duration, SystemTime};

/// An open RBD image, closed when dropped. It borrows the I/O context it
/// was opened through, which must outlive it.
pub struct Image<'io> {
    handle: sys::rbd_image_t,
    _io: PhantomData<&'io ()>,
}

/// What `rbd_stat` and friends report about an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageInfo {
    /// Size in bytes.
    pub size: u64,
    /// Object size in bytes.
    pub obj_size: u64,
    /// Number of objects the image spans.
    pub num_objs: u64,
    /// log2 of the object size.
    pub order: i32,
}

/// A snapshot of an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapInfo {
    /// Its id.
    pub id: u64,
    /// The image's size when it was taken.
    pub size: u64,
    /// Its name.
    pub name: String,
}

/// An image linked to another: a clone's parent, or a snapshot's child.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedImage {
    /// Pool name.
    pub pool: String,
    /// Image name.
    pub image: String,
    /// The snapshot, for a parent; empty for a child.
    pub snap: String,
    /// Whether the image sits in the trash.
    pub trash: bool,
}

impl<'io> Image<'io> {
    /// Opens image `name` (its head, writable).
    pub fn open(io: &'io IoCtx<'_>, name: &str) -> Result<Self, RbdError> {
        Self::open_with(io, name, None, sys::rbd_open)
    }

    /// Opens image `name` read-only: no watch is registered, so readers do
    /// not show up as users of the image.
    pub fn open_read_only(io: &'io IoCtx<'_>, name: &str) -> Result<Self, RbdError> {
        Self::open_with(io, name, None, sys::rbd_open_read_only)
    }

    /// Opens image `name` at snapshot `snap` (read-only), as needed to list
    /// that snapshot's children.
    pub fn open_snapshot(io: &'io IoCtx<'_>, name: &str, snap: &str) -> Result<Self, RbdError> {
        Self::open_with(io, name, Some(snap), sys::rbd_open_read_only)
    }

    fn open_with(
        io: &'io IoCtx<'_>,
        name: &str,
        snap: Option<&str>,
        open: unsafe extern "C" fn(
            sys::rados_ioctx_t,
            *const libc::c_char,
            *mut sys::rbd_image_t,
            *const libc::c_char,
        ) -> libc::c_int,
    ) -> Result<Self, RbdError> {
        let name = cstring("open", name)?;
        let snap = snap.map(|s| cstring("open", s)).transpose()?;
        let mut handle = ptr::null_mut();
        // SAFETY: valid ioctx, NUL-terminated strings (or null snapshot),
        // `handle` valid for writes.
        let ret = unsafe {
            open(
                raw(io),
                name.as_ptr(),
                &mut handle,
                snap.as_ref().map_or(ptr::null(), |s| s.as_ptr()),
            )
        };
        RbdError::check("open", ret)?;
        Ok(Self {
            handle,
            _io: PhantomData,
        })
    }

    /// Size and layout.
    pub fn info(&self) -> Result<ImageInfo, RbdError> {
        let mut info = std::mem::MaybeUninit::<sys::rbd_image_info_t>::zeroed();
        // SAFETY: `info` is a zeroed struct of the size passed.
        let ret = unsafe {
            sys::rbd_stat(
                self.handle,
                info.as_mut_ptr(),
                std::mem::size_of::<sys::rbd_image_info_t>(),
            )
        };
        RbdError::check("stat", ret)?;
        // SAFETY: rbd_stat filled it (and it was zeroed before).
        let info = unsafe { info.assume_init() };
        Ok(ImageInfo {
            size: info.size,
            obj_size: info.obj_size,
            num_objs: info.num_objs,
            order: info.order,
        })
    }

    /// The image's internal id.
    pub fn id(&self) -> Result<String, RbdError> {
        let mut buf = vec![0 as libc::c_char; 64];
        loop {
            // SAFETY: `buf` is writable for its length.
            let ret = unsafe { sys::rbd_get_id(self.handle, buf.as_mut_ptr(), buf.len()) };
            if ret == -libc::ERANGE && buf.len() < 4096 {
                buf.resize(buf.len() * 2, 0);
                continue;
            }
            RbdError::check("get_id", ret)?;
            // SAFETY: librbd wrote a NUL-terminated string into `buf`.
            return Ok(unsafe { owned(buf.as_ptr()) });
        }
    }

    /// The feature bits (`RBD_FEATURE_*`).
    pub fn features(&self) -> Result<u64, RbdError> {
        let mut features = 0;
        // SAFETY: `features` is valid for writes.
        let ret = unsafe { sys::rbd_get_features(self.handle, &mut features) };
        RbdError::check("get_features", ret).map(|_| features)
    }

    /// When the image was created.
    pub fn created(&self) -> Result<SystemTime, RbdError> {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is valid for writes.
        let ret = unsafe { sys::rbd_get_create_timestamp(self.handle, &mut ts) };
        RbdError::check("get_create_timestamp", ret)?;
        Ok(SystemTime::UNIX_EPOCH
            + Duration::new(
                ts.tv_sec.max(0) as u64,
                ts.tv_nsec.clamp(0, 999_999_999) as u32,
            ))
    }

    /// The parent snapshot of a clone; `None` for an image that is not one
    /// (or no longer is, once flattened).
    pub fn parent(&self) -> Result<Option<LinkedImage>, RbdError> {
        let mut image = std::mem::MaybeUninit::<sys::rbd_linked_image_spec_t>::zeroed();
        let mut snap = std::mem::MaybeUninit::<sys::rbd_snap_spec_t>::zeroed();
        // SAFETY: both structs are zeroed and valid for writes.
        let ret =
            unsafe { sys::rbd_get_parent(self.handle, image.as_mut_ptr(), snap.as_mut_ptr()) };
        if ret == -libc::ENOENT {
            return Ok(None);
        }
        RbdError::check("get_parent", ret)?;
        // SAFETY: filled by librbd on success; strings freed right after
        // being copied.
        unsafe {
            let (image, snap) = (image.assume_init_mut(), snap.assume_init_mut());
            let linked = LinkedImage {
                pool: owned(image.pool_name),
                image: owned(image.image_name),
                snap: owned(snap.name),
                trash: image.trash,
            };
            sys::rbd_linked_image_spec_cleanup(image);
            sys::rbd_snap_spec_cleanup(snap);
            Ok(Some(linked))
        }
    }

    /// Sets the size to `size` bytes, growing or shrinking; shrinking
    /// discards the data past the new end.
    pub fn resize(&self, size: u64) -> Result<(), RbdError> {
        // SAFETY: open handle.
        let ret = unsafe { sys::rbd_resize(self.handle, size) };
        RbdError::check("resize", ret).map(drop)
    }

    /// Copies the parent's data into this clone and detaches it.
    pub fn flatten(&self) -> Result<(), RbdError> {
        // SAFETY: open handle.
        let ret = unsafe { sys::rbd_flatten(self.handle) };
        RbdError::check("flatten", ret).map(drop)
    }

    /// The image's snapshots, oldest first.
    pub fn snapshots(&self) -> Result<Vec<SnapInfo>, RbdError> {
        let mut max: libc::c_int = 16;
        loop {
            // One more entry than snapshots: librbd ends the list with an
            // entry whose name is null.
            let mut snaps: Vec<sys::rbd_snap_info_t> = Vec::with_capacity(max as usize);
            let mut n = max;
            // SAFETY: room for `n` entries; on ERANGE `n` is the size needed.
            let ret = unsafe { sys::rbd_snap_list(self.handle, snaps.as_mut_ptr(), &mut n) };
            if ret == -libc::ERANGE {
                max = n.max(max * 2);
                continue;
            }
            let count = RbdError::check("snap_list", ret)? as usize;
            // SAFETY: librbd initialised `count` entries plus the terminator.
            unsafe { snaps.set_len(count + 1) };
            let out = snaps[..count]
                .iter()
                .map(|s| SnapInfo {
                    id: s.id,
                    size: s.size,
                    // SAFETY: the names live until rbd_snap_list_end.
                    name: unsafe { owned(s.name) },
                })
                .collect();
            // SAFETY: frees the names librbd allocated, up to the terminator.
            unsafe { sys::rbd_snap_list_end(snaps.as_mut_ptr()) };
            return Ok(out);
        }
    }

    /// Takes a snapshot.
    pub fn snap_create(&self, name: &str) -> Result<(), RbdError> {
        self.snap_op("snap_create", name, sys::rbd_snap_create)
    }

    /// Removes a snapshot; librbd refuses while it is protected.
    pub fn snap_remove(&self, name: &str) -> Result<(), RbdError> {
        self.snap_op("snap_remove", name, sys::rbd_snap_remove)
    }

    /// Protects a snapshot so that it can be cloned (clone format v1).
    pub fn snap_protect(&self, name: &str) -> Result<(), RbdError> {
        self.snap_op("snap_protect", name, sys::rbd_snap_protect)
    }

    /// Unprotects a snapshot; librbd refuses with `EBUSY` while clones of
    /// it exist.
    pub fn snap_unprotect(&self, name: &str) -> Result<(), RbdError> {
        self.snap_op("snap_unprotect", name, sys::rbd_snap_unprotect)
    }

    fn snap_op(
        &self,
        op: &'static str,
        name: &str,
        f: unsafe extern "C" fn(sys::rbd_image_t, *const libc::c_char) -> libc::c_int,
    ) -> Result<(), RbdError> {
        let name = cstring(op, name)?;
        // SAFETY: open handle and NUL-terminated name.
        let ret = unsafe { f(self.handle, name.as_ptr()) };
        RbdError::check(op, ret).map(drop)
    }

    /// Whether snapshot `name` is protected.
    pub fn snap_is_protected(&self, name: &str) -> Result<bool, RbdError> {
        let c = cstring("snap_is_protected", name)?;
        let mut protected = 0;
        // SAFETY: open handle, NUL-terminated name, writable int.
        let ret = unsafe { sys::rbd_snap_is_protected(self.handle, c.as_ptr(), &mut protected) };
        RbdError::check("snap_is_protected", ret).map(|_| protected != 0)
    }

    /// The clones of the snapshot this image was opened at (see
    /// [`Image::open_snapshot`]), in every pool the client can see.
    pub fn children(&self) -> Result<Vec<LinkedImage>, RbdError> {
        let mut max: usize = 16;
        loop {
            let mut specs: Vec<sys::rbd_linked_image_spec_t> = Vec::with_capacity(max);
            let mut n = max;
            // SAFETY: room for `n` entries; on ERANGE `n` is the size needed.
            let ret = unsafe { sys::rbd_list_children3(self.handle, specs.as_mut_ptr(), &mut n) };
            if ret == -libc::ERANGE {
                max = n.max(max * 2);
                continue;
            }
            RbdError::check("list_children3", ret)?;
            // SAFETY: librbd initialised `n` entries.
            unsafe { specs.set_len(n) };
            let out = specs
                .iter()
                .map(|s| LinkedImage {
                    // SAFETY: strings live until the cleanup below.
                    pool: unsafe { owned(s.pool_name) },
                    image: unsafe { owned(s.image_name) },
                    snap: String::new(),
                    trash: s.trash,
                })
                .collect();
            // SAFETY: frees the strings of the `n` entries librbd filled.
            unsafe { sys::rbd_linked_image_spec_list_cleanup(specs.as_mut_ptr(), n) };
            return Ok(out);
        }
    }
}

impl Drop for Image<'_> {
    fn drop(&mut self) {
        // SAFETY: opened by rbd_open, closed exactly once.
        unsafe { sys::rbd_close(self.handle) };
    }
}
