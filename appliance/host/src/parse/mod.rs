//! Pure parsers of the text files the kernel and the system expose.
//! Each takes the file's contents and returns typed values or a reason.

mod os_release;
mod procfs;
mod resolv_conf;

pub use os_release::os_release;
pub use procfs::{boot_time, cpu_model, load_average, meminfo, uptime_seconds};
pub use resolv_conf::{Resolvers, resolv_conf};
