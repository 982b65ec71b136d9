//! Writing the system image onto a disk, then reading it back.

use lqx_api::InstallPhase;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Bytes per read/write.
const CHUNK: usize = 4 << 20;
/// Zeroed at the end of the disk, where an older GPT keeps its backup
/// header; left alone, firmware or tools might trust the stale copy.
const TAIL: u64 = 1 << 20;

/// Why writing failed. The disk may hold a partial image; the running
/// (live) system is unaffected.
#[derive(Debug, Error)]
pub enum WriteError {
    /// The image could not be read.
    #[error("cannot read the system image {path}")]
    Source {
        /// The image.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The disk could not be opened, written or read back.
    #[error("cannot {action} {path}")]
    Target {
        /// What was being done.
        action: &'static str,
        /// The disk.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The disk is smaller than the image.
    #[error("{path} has {disk} bytes, the image {image}")]
    TooSmall {
        /// The disk.
        path: PathBuf,
        /// Disk size.
        disk: u64,
        /// Image size.
        image: u64,
    },
    /// What was read back differs from the image.
    #[error("verification failed: {path} differs from the image at byte {offset}")]
    Mismatch {
        /// The disk.
        path: PathBuf,
        /// First differing chunk's offset.
        offset: u64,
    },
}

/// Reads until `buf` is full or the end; returns the count.
fn fill(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Writes `image` onto `disk` from its first byte, zeroes the disk's last
/// MiB, flushes, then reads everything back and compares. `progress` is
/// called with the phase, bytes done and bytes total.
pub fn install(
    image: &Path,
    disk: &Path,
    progress: &dyn Fn(InstallPhase, u64, u64),
) -> Result<(), WriteError> {
    let src_err = |source| WriteError::Source {
        path: image.to_owned(),
        source,
    };
    let dst_err = |action| {
        move |source| WriteError::Target {
            action,
            path: disk.to_owned(),
            source,
        }
    };
    let mut source = File::open(image).map_err(src_err)?;
    let image_len = source.metadata().map_err(src_err)?.len();
    // O_EXCL on a block device fails with EBUSY while anything (a mount,
    // device-mapper, RAID) holds it: a last guard against writing over
    // a disk in use.
    let mut target = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(nix::fcntl::OFlag::O_EXCL.bits())
        .open(disk)
        .map_err(dst_err("open"))?;
    let disk_len = target.seek(SeekFrom::End(0)).map_err(dst_err("size"))?;
    if disk_len < image_len {
        return Err(WriteError::TooSmall {
            path: disk.to_owned(),
            disk: disk_len,
            image: image_len,
        });
    }
    target.seek(SeekFrom::Start(0)).map_err(dst_err("seek"))?;

    let mut buf = vec![0u8; CHUNK];
    let mut done = 0;
    // A digest per chunk, so verification reads only the disk: the image
    // may sit on slow media (a CD, compressed), the disk rarely does.
    let mut digests = Vec::new();
    progress(InstallPhase::Writing, 0, image_len);
    loop {
        let n = fill(&mut source, &mut buf).map_err(src_err)?;
        if n == 0 {
            break;
        }
        digests.push(digest(&buf[..n]));
        // Long zero runs (free space in the ESP, partition tails) are
        // zeroed by the device itself where it can, which is much faster
        // than sending zeros; otherwise they are written like the rest.
        let zeroed = buf[..n].iter().all(|b| *b == 0)
            && nix::fcntl::fallocate(
                &target,
                nix::fcntl::FallocateFlags::FALLOC_FL_ZERO_RANGE,
                i64::try_from(done).unwrap_or(i64::MAX),
                i64::try_from(n).unwrap_or(i64::MAX),
            )
            .is_ok();
        if zeroed {
            target
                .seek(SeekFrom::Current(n as i64))
                .map_err(dst_err("seek"))?;
        } else {
            target.write_all(&buf[..n]).map_err(dst_err("write"))?;
        }
        done += n as u64;
        progress(InstallPhase::Writing, done, image_len);
    }
    if disk_len >= image_len + TAIL {
        target
            .seek(SeekFrom::Start(disk_len - TAIL))
            .map_err(dst_err("seek"))?;
        target
            .write_all(&vec![0u8; TAIL as usize])
            .map_err(dst_err("write"))?;
    }
    target.sync_all().map_err(dst_err("flush"))?;
    drop(target);

    verify(disk, image_len, &digests, progress)
}

/// Digest of one chunk. SipHash with fixed keys: this guards against
/// corruption on the way to the disk, not against an adversary, who
/// would have to control the disk's firmware anyway.
fn digest(bytes: &[u8]) -> u64 {
    use std::hash::Hasher;
    #[allow(deprecated)]
    let mut hasher = std::hash::SipHasher::new();
    hasher.write(bytes);
    hasher.finish()
}

/// Reads the disk back, past the page cache, and compares each chunk's
/// digest with the one taken while writing.
fn verify(
    disk: &Path,
    len: u64,
    digests: &[u64],
    progress: &dyn Fn(InstallPhase, u64, u64),
) -> Result<(), WriteError> {
    let read_err = |source| WriteError::Target {
        action: "read back",
        path: disk.to_owned(),
        source,
    };
    let mut written = File::open(disk).map_err(read_err)?;
    // What was just written sits in the page cache; drop it so the
    // comparison reads the device.
    nix::fcntl::posix_fadvise(
        &written,
        0,
        0,
        nix::fcntl::PosixFadviseAdvice::POSIX_FADV_DONTNEED,
    )
    .map_err(|e| read_err(io::Error::from(e)))?;
    let mut buf = vec![0u8; CHUNK];
    let mut done = 0u64;
    progress(InstallPhase::Verifying, 0, len);
    for expected in digests {
        let want = usize::try_from((len - done).min(CHUNK as u64)).unwrap_or(CHUNK);
        let n = fill(&mut written, &mut buf[..want]).map_err(read_err)?;
        if n != want || digest(&buf[..want]) != *expected {
            return Err(WriteError::Mismatch {
                path: disk.to_owned(),
                offset: done,
            });
        }
        done += want as u64;
        progress(InstallPhase::Verifying, done, len);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn image(dir: &Path, len: usize) -> PathBuf {
        let path = dir.join("image.raw");
        let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&path, data).unwrap();
        path
    }

    #[test]
    fn writes_zeroes_tail_and_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let img = image(dir.path(), 9 << 20 | 123);
        // A zero chunk in the middle: zeroed on the target, not skipped.
        let mut data = std::fs::read(&img).unwrap();
        data[CHUNK..2 * CHUNK].fill(0);
        std::fs::write(&img, &data).unwrap();
        let disk = dir.path().join("disk");
        std::fs::write(&disk, vec![0xffu8; 16 << 20]).unwrap();
        let seen = Mutex::new(Vec::new());
        install(&img, &disk, &|phase, done, total| {
            seen.lock().unwrap().push((phase, done, total))
        })
        .unwrap();
        let written = std::fs::read(&disk).unwrap();
        assert_eq!(
            &written[..(9 << 20 | 123)],
            &std::fs::read(&img).unwrap()[..]
        );
        assert!(written[(15 << 20)..].iter().all(|b| *b == 0), "tail zeroed");
        assert_eq!(
            written[(9 << 20) + 200],
            0xff,
            "between image and tail untouched"
        );
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.first().unwrap().0, InstallPhase::Writing);
        assert_eq!(
            *seen.last().unwrap(),
            (InstallPhase::Verifying, 9 << 20 | 123, 9 << 20 | 123)
        );
    }

    #[test]
    fn verification_catches_a_changed_chunk() {
        let dir = tempfile::tempdir().unwrap();
        let disk = dir.path().join("disk");
        let mut data = vec![7u8; CHUNK + 10];
        let digests = vec![digest(&data[..CHUNK]), digest(&data[CHUNK..])];
        data[CHUNK + 3] = 8;
        std::fs::write(&disk, &data).unwrap();
        let err = verify(&disk, data.len() as u64, &digests, &|_, _, _| {}).unwrap_err();
        assert!(
            matches!(err, WriteError::Mismatch { offset, .. } if offset == CHUNK as u64),
            "{err}"
        );
    }

    #[test]
    fn too_small_disk_is_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let img = image(dir.path(), 2 << 20);
        let disk = dir.path().join("disk");
        std::fs::write(&disk, vec![0xabu8; 1 << 20]).unwrap();
        let err = install(&img, &disk, &|_, _, _| {}).unwrap_err();
        assert!(matches!(err, WriteError::TooSmall { .. }), "{err}");
        assert!(std::fs::read(&disk).unwrap().iter().all(|b| *b == 0xab));
    }

    #[test]
    fn missing_image_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let disk = dir.path().join("disk");
        std::fs::write(&disk, b"x").unwrap();
        let err = install(&dir.path().join("nope"), &disk, &|_, _, _| {}).unwrap_err();
        assert!(
            err.to_string().contains("cannot read the system image"),
            "{err}"
        );
    }
}
