//! librbd's failures: a negative errno, kept with the operation.

use std::ffi::NulError;

/// What kind of failure an errno means for callers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// `ENOENT`: no such image, snapshot or pool.
    NotFound,
    /// `EEXIST`: the name is taken.
    Exists,
    /// `EPERM` or `EACCES`: the client's capabilities do not allow it.
    PermissionDenied,
    /// `EBUSY`: in use (watchers, protected snapshot with children).
    Busy,
    /// `ENOTEMPTY`: the image still has snapshots.
    NotEmpty,
    /// `EINVAL`, `ERANGE` or a name with a NUL byte.
    InvalidArgument,
    /// `ETIMEDOUT`: the cluster did not answer in time.
    TimedOut,
    /// Anything else.
    Other,
}

/// A librbd call failed.
#[derive(Debug, thiserror::Error)]
#[error("{op}: {}", std::io::Error::from_raw_os_error(*.errno))]
pub struct RbdError {
    /// The librbd function, without its `rbd_` prefix.
    pub op: &'static str,
    /// The positive errno.
    pub errno: i32,
}

impl RbdError {
    /// Turns a librbd return value into a result: negative is an error.
    pub(crate) fn check(op: &'static str, ret: i32) -> Result<i32, Self> {
        if ret < 0 {
            Err(Self { op, errno: -ret })
        } else {
            Ok(ret)
        }
    }

    pub(crate) fn nul(op: &'static str, _: NulError) -> Self {
        Self {
            op,
            errno: libc::EINVAL,
        }
    }

    /// What the errno means.
    pub fn kind(&self) -> ErrorKind {
        match self.errno {
            libc::ENOENT => ErrorKind::NotFound,
            libc::EEXIST => ErrorKind::Exists,
            libc::EPERM | libc::EACCES => ErrorKind::PermissionDenied,
            libc::EBUSY => ErrorKind::Busy,
            libc::ENOTEMPTY => ErrorKind::NotEmpty,
            libc::EINVAL | libc::ERANGE => ErrorKind::InvalidArgument,
            libc::ETIMEDOUT => ErrorKind::TimedOut,
            _ => ErrorKind::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_returns_are_errors_with_their_kind() {
        assert_eq!(RbdError::check("create4", 0).unwrap(), 0);
        let err = RbdError::check("remove", -libc::ENOTEMPTY).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotEmpty);
        assert_eq!(err.errno, libc::ENOTEMPTY);
        assert!(err.to_string().starts_with("remove: "), "{err}");
        assert_eq!(
            RbdError::check("open", -libc::EACCES).unwrap_err().kind(),
            ErrorKind::PermissionDenied
        );
    }
}
