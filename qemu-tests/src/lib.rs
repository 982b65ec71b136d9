//! The QEMU harness for appliance tests.
//!
//! It builds nothing: tests take the image and ISO from `LQX_IMAGE_DIR`
//! (default `image-build/out/`). A [`Machine`] is one QEMU process with
//! OVMF, its serial console on a socket ([`Serial`]: everything it prints
//! is kept and logged, and text can be typed into it), and QMP ([`Qmp`])
//! for tty1 screenshots and key presses. KVM is used when a probe shows
//! it works, TCG otherwise.

mod accel;
mod machine;
mod probe;
mod qmp;
mod serial;

pub use accel::{Accel, accel};
pub use machine::{Drive, Machine, MachineConfig, blank_disk, fresh_dir, image_dir, overlay};
pub use probe::Report;
pub use qmp::Qmp;
pub use serial::Serial;

/// Errors of the harness.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// Starting or talking to QEMU failed.
    #[error("{what}")]
    Io {
        /// What was being done.
        what: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Something expected did not appear in time.
    #[error("timed out after {seconds} s waiting for {what}; last output:\n{tail}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        seconds: u64,
        /// The end of the serial log.
        tail: String,
    },
    /// QMP answered with an error or something unexpected.
    #[error("QMP: {0}")]
    Qmp(String),
}

/// `io::Error` with context.
pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> HarnessError {
    let what = what.into();
    move |source| HarnessError::Io { what, source }
}
