//! The agent's state directory.
//!
//! One agent owns a state directory at a time ([`StateDir::open`] takes an
//! exclusive lock). Every document is written with [`atomic::write_file`]:
//! a crash at any instant leaves either the old or the new file, whole.

pub mod atomic;
mod state_dir;

pub use state_dir::{StateDir, StoreError};
