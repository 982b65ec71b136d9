//! Local directory storage pools and their volumes: image files (qcow2,
//! raw, ISO) in a host directory that libvirt manages.
//!
//! libvirt keeps a list of each pool's volumes and only learns of files
//! placed there by hand when the pool is refreshed: [`Libvirt::volumes`]
//! refreshes first, and a volume looked up by name that libvirt does not
//! know yet is looked up again after a refresh.

use crate::connection::Libvirt;
use crate::domain::{FileFormat, path_text};
use crate::error::LibvirtError;
use crate::readback;
use crate::xml::escape;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use virt::error::{Error as VirtError, ErrorNumber};
use virt::storage_pool::StoragePool;
use virt::storage_vol::StorageVol;
use virt::sys;

/// A storage pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolInfo {
    /// Its name.
    pub name: String,
    /// Its directory (empty for a pool without a target path, such as
    /// an RBD pool).
    pub path: PathBuf,
    /// The size of the filesystem holding it, in bytes, as of libvirt's
    /// last look (pool start, refresh, volume changes); 0 when inactive.
    pub capacity_bytes: u64,
    /// The free space on that filesystem, in bytes, likewise.
    pub available_bytes: u64,
    /// Whether the pool is started (its volumes usable).
    pub active: bool,
}

/// A volume in a pool: one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolumeInfo {
    /// Its name: the file's name.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// Its format, as libvirt detects it from the contents.
    pub format: VolumeFormat,
    /// The size the guest sees, in bytes.
    pub capacity_bytes: u64,
    /// What the file takes on the host's disk, in bytes.
    pub allocation_bytes: u64,
}

/// A volume's format, as libvirt detects it from the file's contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VolumeFormat {
    /// A qcow2 image.
    Qcow2,
    /// Anything without a recognised header: a raw disk image.
    Raw,
    /// An ISO 9660 image (`CD001` at its volume descriptor).
    Iso,
    /// Another format libvirt knows (vmdk, vdi, ...).
    Other,
}

impl VolumeFormat {
    fn from_libvirt(format: Option<&str>) -> Self {
        match format {
            Some("qcow2") => VolumeFormat::Qcow2,
            Some("raw") => VolumeFormat::Raw,
            Some("iso") => VolumeFormat::Iso,
            _ => VolumeFormat::Other,
        }
    }
}

/// The definition of a directory pool on `path`. Its mode lets QEMU,
/// running as another user, reach the images inside without listing them.
pub(crate) fn dir_pool_xml(name: &str, path: &str) -> String {
    format!(
        "\
<pool type='dir'>
  <name>{}</name>
  <target>
    <path>{}</path>
    <permissions>
      <mode>0711</mode>
    </permissions>
  </target>
</pool>
",
        escape(name),
        escape(path)
    )
}

/// The definition of a new, empty volume. No allocation: a raw file is
/// sparse and a qcow2 image holds only its metadata.
pub(crate) fn volume_xml(name: &str, size_bytes: u64, format: FileFormat) -> String {
    let mut xml = String::new();
    xml.push_str("<volume>\n");
    let _ = writeln!(xml, "  <name>{}</name>", escape(name));
    let _ = writeln!(xml, "  <capacity unit='bytes'>{size_bytes}</capacity>");
    xml.push_str("  <allocation unit='bytes'>0</allocation>\n");
    xml.push_str("  <target>\n");
    let _ = writeln!(xml, "    <format type='{}'/>", format.as_str());
    xml.push_str("  </target>\n");
    xml.push_str("</volume>\n");
    xml
}

fn check_name(kind: &'static str, name: &str) -> Result<(), LibvirtError> {
    // A `/` would name a file outside the pool's directory (libvirt
    // refuses it too, less clearly); the `virt` crate panics on a NUL.
    if name.is_empty()
        || name == "."
        || name == ".."
        || name.contains('/')
        || name.chars().any(char::is_control)
    {
        return Err(LibvirtError::InvalidName {
            kind,
            name: name.to_owned(),
        });
    }
    Ok(())
}

impl Libvirt {
    /// Makes `name` a started, autostarted directory pool on `path`,
    /// creating the directory (mode 0711) if needed. Idempotent: a pool of
    /// that name on the same directory is started if it is not, and
    /// returned; one on another directory is refused
    /// ([`LibvirtError::PoolPathMismatch`]).
    pub fn define_dir_pool(&self, name: &str, path: &Path) -> Result<PoolInfo, LibvirtError> {
        check_name("pool", name)?;
        let text = path_text(path).map_err(|problem| LibvirtError::InvalidPath {
            what: "pool",
            path: path.to_owned(),
            problem,
        })?;
        let pool = match self.find_pool(name)? {
            Some(pool) => {
                let (kind, existing) = pool_target(&pool, name)?;
                if kind != "dir" {
                    return Err(LibvirtError::PoolNotDir {
                        name: name.to_owned(),
                        kind,
                    });
                }
                // Path equality ignores a trailing `/` and repeated ones,
                // which libvirt drops from what it stores.
                if existing.as_deref() != Some(path) {
                    return Err(LibvirtError::PoolPathMismatch {
                        name: name.to_owned(),
                        existing,
                        requested: path.to_owned(),
                    });
                }
                if !pool.is_active().map_err(pool_err("inspecting", name))? {
                    build_and_start(&pool, name)?;
                }
                pool
            }
            None => {
                let pool = StoragePool::define_xml(&self.conn, &dir_pool_xml(name, text), 0)
                    .map_err(pool_err("defining", name))?;
                if let Err(e) = build_and_start(&pool, name) {
                    // Leave nothing half-made behind the error.
                    let _ = pool.undefine();
                    return Err(e);
                }
                pool
            }
        };
        pool.set_autostart(true)
            .map_err(pool_err("setting autostart on", name))?;
        pool_info(&pool, name)
    }

    /// Every storage pool, by name.
    pub fn pools(&self) -> Result<Vec<PoolInfo>, LibvirtError> {
        let all = self
            .conn
            .list_all_storage_pools(0)
            .map_err(|e| LibvirtError::List("storage pools", e))?;
        let mut infos = Vec::with_capacity(all.len());
        for pool in all {
            let name = pool
                .get_name()
                .map_err(|e| LibvirtError::List("storage pools", e))?;
            match pool_info(&pool, &name) {
                Ok(info) => infos.push(info),
                // Undefined since the list.
                Err(LibvirtError::Pool { source, .. })
                    if source.code() == ErrorNumber::NoStoragePool => {}
                Err(e) => return Err(e),
            }
        }
        infos.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(infos)
    }

    /// The pool `name`; [`LibvirtError::PoolNotFound`] when there is none.
    pub fn pool(&self, name: &str) -> Result<PoolInfo, LibvirtError> {
        pool_info(&self.existing_pool(name)?, name)
    }

    /// Stops and undefines the pool `name`. Its directory and files stay:
    /// they may be VMs' disks.
    pub fn remove_pool(&self, name: &str) -> Result<(), LibvirtError> {
        let pool = self.existing_pool(name)?;
        if pool.is_active().map_err(pool_err("inspecting", name))? {
            pool.destroy().map_err(pool_err("stopping", name))?;
        }
        pool.undefine().map_err(pool_err("undefining", name))
    }

    /// The volumes in pool `name`, by name, after a refresh so that files
    /// copied into its directory by hand are listed.
    pub fn volumes(&self, pool: &str) -> Result<Vec<VolumeInfo>, LibvirtError> {
        let handle = self.existing_pool(pool)?;
        refresh(&handle, pool)?;
        let all = handle
            .list_all_volumes(0)
            .map_err(pool_err("listing the volumes of", pool))?;
        let mut infos = Vec::with_capacity(all.len());
        for vol in &all {
            let name = vol
                .get_name()
                .map_err(pool_err("listing the volumes of", pool))?;
            match volume_info(vol, pool, &name) {
                Ok(info) => infos.push(info),
                // Deleted since the list.
                Err(LibvirtError::Volume { source, .. })
                    if source.code() == ErrorNumber::NoStorageVolume => {}
                Err(e) => return Err(e),
            }
        }
        infos.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(infos)
    }

    /// The volume `name` in pool `pool`.
    pub fn volume(&self, pool: &str, name: &str) -> Result<VolumeInfo, LibvirtError> {
        let (_, vol) = self.existing_volume(pool, name)?;
        volume_info(&vol, pool, name)
    }

    /// Creates an empty volume of `size_bytes` (qcow2 rounds it up to a
    /// multiple of 512) in pool `pool`; [`LibvirtError::VolumeExists`]
    /// when a volume or file of that name is already there.
    pub fn create_volume(
        &self,
        pool: &str,
        name: &str,
        size_bytes: u64,
        format: FileFormat,
    ) -> Result<VolumeInfo, LibvirtError> {
        check_name("volume", name)?;
        let handle = self.existing_pool(pool)?;
        // A file copied in by hand is a volume libvirt does not know yet:
        // refreshed, it is refused here instead of being overwritten.
        refresh(&handle, pool)?;
        let exists = || LibvirtError::VolumeExists {
            pool: pool.to_owned(),
            name: name.to_owned(),
        };
        if find_volume(&handle, pool, name)?.is_some() {
            return Err(exists());
        }
        let vol = StorageVol::create_xml(&handle, &volume_xml(name, size_bytes, format), 0)
            .map_err(|source| match source.code() {
                ErrorNumber::StorageVolExist => exists(),
                _ => vol_err("creating", pool, name)(source),
            })?;
        volume_info(&vol, pool, name)
    }

    /// Grows volume `name` to `size_bytes`; the same size changes nothing,
    /// a smaller one is refused ([`LibvirtError::ShrinkRefused`]).
    pub fn resize_volume(
        &self,
        pool: &str,
        name: &str,
        size_bytes: u64,
    ) -> Result<VolumeInfo, LibvirtError> {
        let (_, vol) = self.existing_volume(pool, name)?;
        let current = volume_info(&vol, pool, name)?;
        if size_bytes < current.capacity_bytes {
            return Err(LibvirtError::ShrinkRefused {
                pool: pool.to_owned(),
                name: name.to_owned(),
                current: current.capacity_bytes,
                requested: size_bytes,
            });
        }
        if size_bytes == current.capacity_bytes {
            return Ok(current);
        }
        vol.resize(size_bytes, 0)
            .map_err(vol_err("resizing", pool, name))?;
        volume_info(&vol, pool, name)
    }

    /// Deletes volume `name` and its file; [`LibvirtError::VolumeNotFound`]
    /// when there is none.
    pub fn delete_volume(&self, pool: &str, name: &str) -> Result<(), LibvirtError> {
        let (_, vol) = self.existing_volume(pool, name)?;
        vol.delete(0).map_err(vol_err("deleting", pool, name))
    }

    fn find_pool(&self, name: &str) -> Result<Option<StoragePool>, LibvirtError> {
        check_name("pool", name)?;
        match StoragePool::lookup_by_name(&self.conn, name) {
            Ok(pool) => Ok(Some(pool)),
            Err(e) if e.code() == ErrorNumber::NoStoragePool => Ok(None),
            Err(e) => Err(pool_err("looking up", name)(e)),
        }
    }

    fn existing_pool(&self, name: &str) -> Result<StoragePool, LibvirtError> {
        self.find_pool(name)?
            .ok_or_else(|| LibvirtError::PoolNotFound(name.to_owned()))
    }

    fn existing_volume(
        &self,
        pool: &str,
        name: &str,
    ) -> Result<(StoragePool, StorageVol), LibvirtError> {
        check_name("volume", name)?;
        let handle = self.existing_pool(pool)?;
        let not_found = || LibvirtError::VolumeNotFound {
            pool: pool.to_owned(),
            name: name.to_owned(),
        };
        let vol = match find_volume(&handle, pool, name)? {
            Some(vol) => vol,
            // Perhaps a file libvirt has not seen yet.
            None => {
                refresh(&handle, pool)?;
                find_volume(&handle, pool, name)?.ok_or_else(not_found)?
            }
        };
        Ok((handle, vol))
    }
}

fn build_and_start(pool: &StoragePool, name: &str) -> Result<(), LibvirtError> {
    // Creates the directory, or sets the mode of an existing one.
    pool.build(0).map_err(pool_err("building", name))?;
    pool.create(0).map_err(pool_err("starting", name))?;
    Ok(())
}

/// Rescans the pool's directory. An inactive pool cannot be: its volumes
/// are not listed until it is started, and the caller's next call says so.
fn refresh(pool: &StoragePool, name: &str) -> Result<(), LibvirtError> {
    if pool.is_active().map_err(pool_err("inspecting", name))? {
        pool.refresh(0).map_err(pool_err("refreshing", name))?;
    }
    Ok(())
}

fn find_volume(
    pool: &StoragePool,
    pool_name: &str,
    name: &str,
) -> Result<Option<StorageVol>, LibvirtError> {
    match StorageVol::lookup_by_name(pool, name) {
        Ok(vol) => Ok(Some(vol)),
        Err(e) if e.code() == ErrorNumber::NoStorageVolume => Ok(None),
        Err(e) => Err(vol_err("looking up", pool_name, name)(e)),
    }
}

fn pool_target(pool: &StoragePool, name: &str) -> Result<(String, Option<PathBuf>), LibvirtError> {
    let xml = pool
        .get_xml_desc(sys::VIR_STORAGE_XML_INACTIVE)
        .map_err(pool_err("reading the XML of", name))?;
    readback::pool_target(&xml).map_err(|reason| LibvirtError::UnreadableXml {
        what: format!("storage pool {name:?}"),
        reason,
    })
}

fn pool_info(pool: &StoragePool, name: &str) -> Result<PoolInfo, LibvirtError> {
    let (_, path) = pool_target(pool, name)?;
    let info = pool.get_info().map_err(pool_err("inspecting", name))?;
    let active = pool.is_active().map_err(pool_err("inspecting", name))?;
    Ok(PoolInfo {
        name: name.to_owned(),
        path: path.unwrap_or_default(),
        capacity_bytes: info.capacity,
        available_bytes: info.available,
        active,
    })
}

fn volume_info(vol: &StorageVol, pool: &str, name: &str) -> Result<VolumeInfo, LibvirtError> {
    let err = |action| vol_err(action, pool, name);
    let path = vol.get_path().map_err(err("inspecting"))?;
    let info = vol.get_info().map_err(err("inspecting"))?;
    let xml = vol.get_xml_desc(0).map_err(err("reading the XML of"))?;
    let format = readback::volume_format(&xml).map_err(|reason| LibvirtError::UnreadableXml {
        what: format!("volume {name:?} in storage pool {pool:?}"),
        reason,
    })?;
    Ok(VolumeInfo {
        name: name.to_owned(),
        path: PathBuf::from(path),
        format: VolumeFormat::from_libvirt(format.as_deref()),
        capacity_bytes: info.capacity,
        allocation_bytes: info.allocation,
    })
}

fn pool_err(action: &'static str, name: &str) -> impl FnOnce(VirtError) -> LibvirtError {
    let name = name.to_owned();
    move |source| LibvirtError::Pool {
        action,
        name,
        source,
    }
}

fn vol_err(action: &'static str, pool: &str, name: &str) -> impl FnOnce(VirtError) -> LibvirtError {
    let (pool, name) = (pool.to_owned(), name.to_owned());
    move |source| LibvirtError::Volume {
        action,
        pool,
        name,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_and_volume_xml_are_escaped() {
        assert_eq!(
            dir_pool_xml("img's", "/srv/<images>"),
            "\
<pool type='dir'>
  <name>img&apos;s</name>
  <target>
    <path>/srv/&lt;images&gt;</path>
    <permissions>
      <mode>0711</mode>
    </permissions>
  </target>
</pool>
"
        );
        assert_eq!(
            volume_xml("root&.qcow2", 1 << 30, FileFormat::Qcow2),
            "\
<volume>
  <name>root&amp;.qcow2</name>
  <capacity unit='bytes'>1073741824</capacity>
  <allocation unit='bytes'>0</allocation>
  <target>
    <format type='qcow2'/>
  </target>
</volume>
"
        );
    }

    #[test]
    fn names_that_leave_the_directory_are_refused() {
        for bad in ["", ".", "..", "a/b", "../x", "a\0b", "a\nb"] {
            assert!(
                matches!(
                    check_name("volume", bad),
                    Err(LibvirtError::InvalidName { kind: "volume", .. })
                ),
                "{bad:?}"
            );
        }
        for good in ["root.qcow2", "debian 12.iso", "..hidden", "ünï"] {
            assert!(check_name("volume", good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn formats_map_from_libvirts_names() {
        assert_eq!(
            VolumeFormat::from_libvirt(Some("qcow2")),
            VolumeFormat::Qcow2
        );
        assert_eq!(VolumeFormat::from_libvirt(Some("raw")), VolumeFormat::Raw);
        assert_eq!(VolumeFormat::from_libvirt(Some("iso")), VolumeFormat::Iso);
        assert_eq!(
            VolumeFormat::from_libvirt(Some("vmdk")),
            VolumeFormat::Other
        );
        assert_eq!(VolumeFormat::from_libvirt(None), VolumeFormat::Other);
    }
}
