//! The librados handles librbd needs: a cluster connection and a pool's
//! I/O context, over the `ceph` crate's declarations of the C API.
//!
//! The `ceph` crate's own `connect_to_ceph` leaks the handle (and its
//! messenger threads) when connecting fails; an agent that retries an
//! unreachable cluster every few seconds cannot afford that, so the
//! connection is made here, and every path after `rados_create` ends in
//! `rados_shutdown`.

use crate::error::RbdError;
use ceph::rados as sys;
use std::ffi::CString;
use std::marker::PhantomData;
use std::path::Path;
use std::ptr;

/// A connected cluster handle, shut down when dropped. Not `Send`: it
/// belongs to the thread that made it.
pub struct Rados {
    handle: sys::rados_t,
}

/// A pool's I/O context, destroyed when dropped; it borrows its cluster.
pub struct IoCtx<'r> {
    handle: sys::rados_ioctx_t,
    _cluster: PhantomData<&'r Rados>,
}

/// What a monitor command answered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MonReply {
    /// The output buffer (JSON when asked for).
    pub out: Vec<u8>,
    /// The status string.
    pub status: String,
}

/// A failed monitor command: the errno and the monitor's status string.
#[derive(Debug, thiserror::Error)]
#[error("{error}: {status}")]
pub struct MonError {
    /// The errno, with the operation.
    #[source]
    pub error: RbdError,
    /// What the monitor said.
    pub status: String,
}

fn cstring(op: &'static str, s: &str) -> Result<CString, RbdError> {
    CString::new(s).map_err(|e| RbdError::nul(op, e))
}

/// Copies and frees a buffer librados allocated.
///
/// # Safety
/// `buf` is null or was returned by librados with `len` valid bytes.
unsafe fn take_buffer(buf: *mut libc::c_char, len: usize) -> Vec<u8> {
    if buf.is_null() {
        return vec![];
    }
    // SAFETY: the caller guarantees `len` readable bytes at `buf`.
    let out = unsafe { std::slice::from_raw_parts(buf as *const u8, len) }.to_vec();
    // SAFETY: allocated by librados, freed once.
    unsafe { sys::rados_buffer_free(buf) };
    out
}

impl Rados {
    /// Connects as `client.{id}` with the configuration file `conf`
    /// (monitors, keyring, timeouts); `client mount timeout` there bounds
    /// the wait.
    pub fn connect(id: &str, conf: &Path) -> Result<Self, RbdError> {
        let id = cstring("create", id)?;
        let conf = cstring("conf_read_file", &conf.display().to_string())?;
        let mut handle = ptr::null_mut();
        // SAFETY: `handle` is valid for writes; `id` is NUL-terminated.
        let ret = unsafe { sys::rados_create(&mut handle, id.as_ptr()) };
        RbdError::check("create", ret)?;
        // From here on the handle is owned: dropping `cluster` shuts it
        // down, whichever step fails.
        let cluster = Self { handle };
        // SAFETY: a created handle and a NUL-terminated path.
        let ret = unsafe { sys::rados_conf_read_file(cluster.handle, conf.as_ptr()) };
        RbdError::check("conf_read_file", ret)?;
        // SAFETY: a configured handle.
        let ret = unsafe { sys::rados_connect(cluster.handle) };
        RbdError::check("connect", ret)?;
        Ok(cluster)
    }

    /// Opens pool `name`.
    pub fn pool(&self, name: &str) -> Result<IoCtx<'_>, RbdError> {
        let c = cstring("ioctx_create", name)?;
        let mut io = ptr::null_mut();
        // SAFETY: a connected handle, a NUL-terminated name, `io` writable.
        let ret = unsafe { sys::rados_ioctx_create(self.handle, c.as_ptr(), &mut io) };
        RbdError::check("ioctx_create", ret)?;
        Ok(IoCtx {
            handle: io,
            _cluster: PhantomData,
        })
    }

    /// Sends one monitor command (a JSON object) and returns the answer.
    pub fn mon_command(&self, cmd: &str) -> Result<MonReply, MonError> {
        let c = cstring("mon_command", cmd).map_err(|error| MonError {
            error,
            status: String::new(),
        })?;
        let mut cmds = [c.as_ptr()];
        let (mut outbuf, mut outbuf_len) = (ptr::null_mut(), 0usize);
        let (mut outs, mut outs_len) = (ptr::null_mut(), 0usize);
        // SAFETY: one NUL-terminated command, no input buffer, and writable
        // out-pointers; librados allocates the outputs.
        let ret = unsafe {
            sys::rados_mon_command(
                self.handle,
                cmds.as_mut_ptr(),
                1,
                ptr::null(),
                0,
                &mut outbuf,
                &mut outbuf_len,
                &mut outs,
                &mut outs_len,
            )
        };
        // SAFETY: both buffers came from librados with these lengths (or
        // are null), and are freed exactly once here.
        let (out, status) =
            unsafe { (take_buffer(outbuf, outbuf_len), take_buffer(outs, outs_len)) };
        let status = String::from_utf8_lossy(&status).into_owned();
        match RbdError::check("mon_command", ret) {
            Ok(_) => Ok(MonReply { out, status }),
            Err(error) => Err(MonError { error, status }),
        }
    }
}

impl Drop for Rados {
    fn drop(&mut self) {
        // SAFETY: created by rados_create, shut down exactly once.
        unsafe { sys::rados_shutdown(self.handle) };
    }
}

impl IoCtx<'_> {
    pub(crate) fn raw(&self) -> crate::sys::rados_ioctx_t {
        self.handle
    }
}

impl Drop for IoCtx<'_> {
    fn drop(&mut self) {
        // SAFETY: created by rados_ioctx_create, destroyed exactly once,
        // before its cluster (it borrows it).
        unsafe { sys::rados_ioctx_destroy(self.handle) };
    }
}
