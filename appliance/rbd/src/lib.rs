//! A binding to Ceph's librbd.
//!
//! [`sys`] declares the C functions; the rest wraps them so that callers
//! never touch a raw pointer: [`Image`] closes its handle when dropped,
//! lists are copied into owned Rust values and librbd's buffers are freed
//! before returning, and every failure is an [`RbdError`] that names the
//! operation and keeps the errno.
//!
//! Pools are reached through [`Rados`] and [`IoCtx`], librados handles
//! over the `ceph` crate's declarations that are always released, also
//! when connecting fails. Nothing here is `Send`: the handles belong to
//! the thread that owns the cluster connection.

#![allow(unsafe_code)]

mod error;
mod image;
mod pool;
mod rados;
pub mod sys;

pub use error::{ErrorKind, RbdError};
pub use image::{Image, ImageInfo, LinkedImage, SnapInfo};
pub use pool::{ImageSpec, clone, create, list, remove};
pub use rados::{IoCtx, MonError, MonReply, Rados};

/// The librbd version this process loaded: (major, minor, extra).
pub fn version() -> (i32, i32, i32) {
    let (mut major, mut minor, mut extra) = (0, 0, 0);
    // SAFETY: the three pointers are valid for writes.
    unsafe { sys::rbd_version(&mut major, &mut minor, &mut extra) };
    (major, minor, extra)
}
