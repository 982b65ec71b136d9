//! Keeping the build's disk use within what the machine has.
//!
//! CI keeps cargo's target directory across runs; cargo never deletes
//! outputs that a newer build no longer uses, so it only grows. A run that
//! fills the disk fails late and for no reason of the project's, so each
//! stage first makes sure there is room, dropping the cache when not.

use crate::shell::target_dir;
use std::path::Path;
use std::process::Command;

const GIB: u64 = 1 << 30;

/// Free bytes on the file system that holds `path` (or its nearest
/// existing ancestor), as `df` reports them.
fn free_bytes(path: &Path) -> Option<u64> {
    let existing = path.ancestors().find(|p| p.exists())?;
    let out = Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(existing)
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)?
        .trim()
        .parse()
        .ok()
}

fn remove(path: &Path) {
    if path.exists() {
        eprintln!("xtask: removing {} to make room", path.display());
        if let Err(e) = std::fs::remove_dir_all(path) {
            eprintln!("xtask: cannot remove {}: {e}", path.display());
        }
    }
}

/// Makes sure the target directory's file system has `need_gib` GiB free
/// before a stage (`what`) that writes that much: first the incremental
/// caches go, then the whole target directory (a full rebuild is slower
/// than a cached one but does not fail).
pub fn ensure_room(what: &str, need_gib: u64) {
    let target = target_dir();
    let Some(free) = free_bytes(&target) else {
        return;
    };
    eprintln!(
        "xtask: {:.1} GiB free for {what} (wants {need_gib})",
        free as f64 / GIB as f64
    );
    if free >= need_gib * GIB {
        return;
    }
    for profile in ["debug", "release"] {
        remove(&target.join(profile).join("incremental"));
    }
    if free_bytes(&target).is_some_and(|f| f < need_gib * GIB) {
        remove(&target);
    }
}
