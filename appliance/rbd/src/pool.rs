//! Operations on a pool's images that need no open image.

use crate::error::RbdError;
use crate::rados::IoCtx;
use crate::sys;
use std::ffi::{CStr, CString};
use std::ptr;

/// An image's name and id in its pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageSpec {
    /// The image's name.
    pub name: String,
    /// Its internal id (stable across renames).
    pub id: String,
}

pub(crate) fn raw(io: &IoCtx<'_>) -> sys::rados_ioctx_t {
    io.raw()
}

pub(crate) fn cstring(op: &'static str, s: &str) -> Result<CString, RbdError> {
    CString::new(s).map_err(|e| RbdError::nul(op, e))
}

/// Owned `rbd_image_options_t`: empty options mean the cluster's defaults
/// (features, object size, clone format).
struct Options(sys::rbd_image_options_t);

impl Options {
    fn new() -> Self {
        let mut opts = ptr::null_mut();
        // SAFETY: `opts` is valid for writes; librbd allocates the object.
        unsafe { sys::rbd_image_options_create(&mut opts) };
        Self(opts)
    }
}

impl Drop for Options {
    fn drop(&mut self) {
        // SAFETY: created by rbd_image_options_create, destroyed once.
        unsafe { sys::rbd_image_options_destroy(self.0) };
    }
}

/// Copies a C string librbd owns; `None` for a null pointer.
///
/// # Safety
/// `p` is null or points to a NUL-terminated string alive for the call.
pub(crate) unsafe fn owned(p: *const libc::c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        // SAFETY: the caller guarantees a live NUL-terminated string.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

/// The images of the pool, sorted by name.
pub fn list(io: &IoCtx<'_>) -> Result<Vec<ImageSpec>, RbdError> {
    let mut max: usize = 64;
    loop {
        let mut specs: Vec<sys::rbd_image_spec_t> = Vec::with_capacity(max);
        let mut n = max;
        // SAFETY: `specs` has room for `n` entries; librbd writes at most
        // `n` and sets `n` to the count (or to the size needed on ERANGE).
        let ret = unsafe { sys::rbd_list2(raw(io), specs.as_mut_ptr(), &mut n) };
        if ret == -libc::ERANGE {
            max = n.max(max * 2);
            continue;
        }
        RbdError::check("list2", ret)?;
        // SAFETY: librbd initialised the first `n` entries.
        unsafe { specs.set_len(n) };
        let mut out: Vec<ImageSpec> = specs
            .iter()
            .map(|s| ImageSpec {
                // SAFETY: the strings live until the cleanup below.
                name: unsafe { owned(s.name) },
                id: unsafe { owned(s.id) },
            })
            .collect();
        // SAFETY: frees the strings of exactly the `n` entries librbd filled;
        // the Vec itself is freed by Rust.
        unsafe { sys::rbd_image_spec_list_cleanup(specs.as_mut_ptr(), n) };
        out.sort_by(|a, b| a.name.cmp(&b.name));
        return Ok(out);
    }
}

/// Creates an image of `size` bytes with the cluster's default features.
pub fn create(io: &IoCtx<'_>, name: &str, size: u64) -> Result<(), RbdError> {
    let name = cstring("create4", name)?;
    let opts = Options::new();
    // SAFETY: valid ioctx, NUL-terminated name, live options object.
    let ret = unsafe { sys::rbd_create4(raw(io), name.as_ptr(), size, opts.0) };
    RbdError::check("create4", ret).map(drop)
}

/// Removes an image. librbd refuses with `ENOTEMPTY` while it has
/// snapshots and `EBUSY` while a client has it open.
pub fn remove(io: &IoCtx<'_>, name: &str) -> Result<(), RbdError> {
    let name = cstring("remove", name)?;
    // SAFETY: valid ioctx and NUL-terminated name.
    let ret = unsafe { sys::rbd_remove(raw(io), name.as_ptr()) };
    RbdError::check("remove", ret).map(drop)
}

/// Clones `parent@snap` into a new image `child` (copy-on-write, with the
/// cluster's default features). With clone format v1 the snapshot must be
/// protected first; see [`crate::Image::snap_protect`].
pub fn clone(
    parent_io: &IoCtx<'_>,
    parent: &str,
    snap: &str,
    child_io: &IoCtx<'_>,
    child: &str,
) -> Result<(), RbdError> {
    let parent = cstring("clone3", parent)?;
    let snap = cstring("clone3", snap)?;
    let child = cstring("clone3", child)?;
    let opts = Options::new();
    // SAFETY: valid ioctxs, NUL-terminated names, live options object.
    let ret = unsafe {
        sys::rbd_clone3(
            raw(parent_io),
            parent.as_ptr(),
            snap.as_ptr(),
            raw(child_io),
            child.as_ptr(),
            opts.0,
        )
    };
    RbdError::check("clone3", ret).map(drop)
}
