//! Declarations of the part of `<rbd/librbd.h>` (librbd 1.16, Ceph 16 and
//! later) that LimiQuantix uses, written by hand: the C API is stable, and
//! bindgen would need libclang on every build machine.

#![allow(non_camel_case_types, missing_docs)]

use libc::{c_char, c_int, size_t, timespec};
use std::ffi::c_void;

pub type rados_ioctx_t = *mut c_void;
pub type rbd_image_t = *mut c_void;
pub type rbd_image_options_t = *mut c_void;

#[repr(C)]
pub struct rbd_image_spec_t {
    pub id: *mut c_char,
    pub name: *mut c_char,
}

#[repr(C)]
pub struct rbd_linked_image_spec_t {
    pub pool_id: i64,
    pub pool_name: *mut c_char,
    pub pool_namespace: *mut c_char,
    pub image_id: *mut c_char,
    pub image_name: *mut c_char,
    pub trash: bool,
}

#[repr(C)]
pub struct rbd_snap_spec_t {
    pub id: u64,
    /// `rbd_snap_namespace_type_t`, a C enum.
    pub namespace_type: c_int,
    pub name: *mut c_char,
}

#[repr(C)]
pub struct rbd_snap_info_t {
    pub id: u64,
    pub size: u64,
    pub name: *const c_char,
}

pub const RBD_MAX_IMAGE_NAME_SIZE: usize = 96;
pub const RBD_MAX_BLOCK_NAME_SIZE: usize = 24;

#[repr(C)]
pub struct rbd_image_info_t {
    pub size: u64,
    pub obj_size: u64,
    pub num_objs: u64,
    pub order: c_int,
    pub block_name_prefix: [c_char; RBD_MAX_BLOCK_NAME_SIZE],
    pub parent_pool: i64,
    pub parent_name: [c_char; RBD_MAX_IMAGE_NAME_SIZE],
}

#[link(name = "rbd")]
unsafe extern "C" {
    pub fn rbd_version(major: *mut c_int, minor: *mut c_int, extra: *mut c_int);

    pub fn rbd_image_options_create(opts: *mut rbd_image_options_t);
    pub fn rbd_image_options_destroy(opts: rbd_image_options_t);

    pub fn rbd_list2(io: rados_ioctx_t, images: *mut rbd_image_spec_t, max: *mut size_t) -> c_int;
    pub fn rbd_image_spec_list_cleanup(images: *mut rbd_image_spec_t, num: size_t);

    pub fn rbd_create4(
        io: rados_ioctx_t,
        name: *const c_char,
        size: u64,
        opts: rbd_image_options_t,
    ) -> c_int;
    pub fn rbd_clone3(
        p_ioctx: rados_ioctx_t,
        p_name: *const c_char,
        p_snapname: *const c_char,
        c_ioctx: rados_ioctx_t,
        c_name: *const c_char,
        c_opts: rbd_image_options_t,
    ) -> c_int;
    pub fn rbd_remove(io: rados_ioctx_t, name: *const c_char) -> c_int;

    pub fn rbd_open(
        io: rados_ioctx_t,
        name: *const c_char,
        image: *mut rbd_image_t,
        snap_name: *const c_char,
    ) -> c_int;
    pub fn rbd_open_read_only(
        io: rados_ioctx_t,
        name: *const c_char,
        image: *mut rbd_image_t,
        snap_name: *const c_char,
    ) -> c_int;
    pub fn rbd_close(image: rbd_image_t) -> c_int;

    pub fn rbd_stat(image: rbd_image_t, info: *mut rbd_image_info_t, infosize: size_t) -> c_int;
    pub fn rbd_get_id(image: rbd_image_t, id: *mut c_char, id_len: size_t) -> c_int;
    pub fn rbd_get_features(image: rbd_image_t, features: *mut u64) -> c_int;
    pub fn rbd_get_create_timestamp(image: rbd_image_t, timestamp: *mut timespec) -> c_int;
    pub fn rbd_get_parent(
        image: rbd_image_t,
        parent_image: *mut rbd_linked_image_spec_t,
        parent_snap: *mut rbd_snap_spec_t,
    ) -> c_int;
    pub fn rbd_linked_image_spec_cleanup(image: *mut rbd_linked_image_spec_t);
    pub fn rbd_snap_spec_cleanup(snap: *mut rbd_snap_spec_t);
    pub fn rbd_resize(image: rbd_image_t, size: u64) -> c_int;
    pub fn rbd_flatten(image: rbd_image_t) -> c_int;

    pub fn rbd_snap_list(image: rbd_image_t, snaps: *mut rbd_snap_info_t, max: *mut c_int)
    -> c_int;
    pub fn rbd_snap_list_end(snaps: *mut rbd_snap_info_t);
    pub fn rbd_snap_create(image: rbd_image_t, name: *const c_char) -> c_int;
    pub fn rbd_snap_remove(image: rbd_image_t, name: *const c_char) -> c_int;
    pub fn rbd_snap_protect(image: rbd_image_t, name: *const c_char) -> c_int;
    pub fn rbd_snap_unprotect(image: rbd_image_t, name: *const c_char) -> c_int;
    pub fn rbd_snap_is_protected(
        image: rbd_image_t,
        name: *const c_char,
        is_protected: *mut c_int,
    ) -> c_int;

    pub fn rbd_list_children3(
        image: rbd_image_t,
        images: *mut rbd_linked_image_spec_t,
        max: *mut size_t,
    ) -> c_int;
    pub fn rbd_linked_image_spec_list_cleanup(images: *mut rbd_linked_image_spec_t, num: size_t);
}
