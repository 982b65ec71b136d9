//! The NoCloud seed ISO, written with hadris-iso.

use std::io::Cursor;
use std::sync::Arc;

use hadris_iso::joliet::JolietLevel;
use hadris_iso::read::PathSeparator;
use hadris_iso::rrip::RripOptions;
use hadris_iso::write::options::{BaseIsoLevel, CreationFeatures, IsoFormatOptions};
use hadris_iso::write::{File, InputFiles, IsoImageWriter};

use crate::error::CloudInitError;
use crate::validate::check_sizes;

/// The volume label cloud-init looks for (`blkid` must report it).
pub const VOLUME_ID: &str = "cidata";

/// The bytes of an ISO 9660 image with volume identifier `cidata` holding
/// the files `user-data`, `meta-data` and, when given, `network-config`,
/// with exactly those names as Linux's isofs shows them.
///
/// The image is laid out as `genisoimage -J -r -V cidata` lays it out: the
/// names are in Rock Ridge `NM` entries and in a Joliet tree (Linux's isofs
/// reads Rock Ridge first and Joliet otherwise; the plain ISO 9660 names,
/// uppercase, are seen by neither), and the volume identifier is `cidata` in
/// both the primary and the Joliet descriptor, since `blkid` reports the
/// Joliet one when there is one.
///
/// The documents are not validated here (the caller may seed what it
/// likes), but the size limits of [`validate`](crate::validate) hold.
pub fn seed_iso(
    user_data: &[u8],
    meta_data: &[u8],
    network_config: Option<&[u8]>,
) -> Result<Vec<u8>, CloudInitError> {
    check_sizes(
        user_data.len(),
        Some(meta_data.len()),
        network_config.map(<[u8]>::len),
    )?;
    let file = |name: &str, contents: &[u8]| File::File {
        name: Arc::new(name.to_owned()),
        contents: contents.to_vec(),
    };
    let mut files = vec![file("user-data", user_data), file("meta-data", meta_data)];
    if let Some(contents) = network_config {
        files.push(file("network-config", contents));
    }
    let files = InputFiles {
        path_separator: PathSeparator::ForwardSlash,
        files,
    };
    let image = IsoImageWriter::create(Cursor::new(Vec::new()), files, options())
        .map_err(CloudInitError::Iso)?;
    Ok(image.into_inner())
}

fn options() -> IsoFormatOptions {
    IsoFormatOptions {
        volume_name: VOLUME_ID.to_owned(),
        system_id: None,
        volume_set_id: None,
        publisher_id: None,
        preparer_id: None,
        application_id: Some("LIMIQUANTIX".to_owned()),
        sector_size: 2048,
        features: CreationFeatures {
            // Level 2 keeps the plain names readable (NETWORK_CONFIG rather
            // than an 8.3 mangling) for tools that see only those.
            filenames: BaseIsoLevel::Level2 {
                supports_lowercase: false,
                supports_rrip: true,
            },
            long_filenames: false,
            joliet: Some(JolietLevel::Level3),
            rock_ridge: Some(RripOptions::default()),
            el_torito: None,
            hybrid_boot: None,
        },
        path_separator: PathSeparator::ForwardSlash,
        // Stored as given, as genisoimage does: strict mode would uppercase
        // the label to CIDATA, which cloud-init would not find on a reader
        // that ignores Joliet.
        strict_charset: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECTOR: usize = 2048;

    fn sector(image: &[u8], n: usize) -> &[u8] {
        &image[n * SECTOR..(n + 1) * SECTOR]
    }

    fn le32(b: &[u8]) -> u32 {
        u32::from_le_bytes(b[..4].try_into().unwrap())
    }

    fn be32(b: &[u8]) -> u32 {
        u32::from_be_bytes(b[..4].try_into().unwrap())
    }

    /// A directory record: (extent, size, flags, identifier, system use).
    type Record<'a> = (u32, u32, u8, &'a [u8], &'a [u8]);

    fn records(dir: &[u8]) -> Vec<Record<'_>> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < dir.len() && dir[at] != 0 {
            let r = &dir[at..at + usize::from(dir[at])];
            let name_len = usize::from(r[32]);
            let name = &r[33..33 + name_len];
            // A padding byte keeps the system use area at an even offset.
            let su = &r[33 + name_len + (1 - name_len % 2)..];
            out.push((le32(&r[2..]), le32(&r[10..]), r[25], name, su));
            at += r.len();
        }
        out
    }

    /// The Rock Ridge `NM` name in a system use area.
    fn nm(su: &[u8]) -> Option<&[u8]> {
        let mut at = 0;
        while at + 4 <= su.len() {
            let len = usize::from(su[at + 2]);
            if len < 4 {
                return None;
            }
            if &su[at..at + 2] == b"NM" {
                return Some(&su[at + 5..at + len]);
            }
            at += len;
        }
        None
    }

    fn ucs2(name: &[u8]) -> String {
        let units: Vec<u16> = name
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16(&units).unwrap()
    }

    fn contents<'a>(image: &'a [u8], record: &Record<'_>) -> &'a [u8] {
        let start = record.0 as usize * SECTOR;
        &image[start..start + record.1 as usize]
    }

    #[test]
    fn descriptors_name_the_volume_cidata() {
        let image = seed_iso(b"#cloud-config\n", b"instance-id: a\n", None).unwrap();
        assert_eq!(image.len() % SECTOR, 0);
        let pvd = sector(&image, 16);
        assert_eq!(&pvd[..7], b"\x01CD001\x01");
        assert_eq!(&pvd[40..72], format!("{VOLUME_ID:<32}").as_bytes());
        // Volume space size, both-endian, covers the whole image.
        assert_eq!(le32(&pvd[80..]) as usize * SECTOR, image.len());
        assert_eq!(be32(&pvd[84..]), le32(&pvd[80..]));
        // Logical block size 2048, both-endian.
        assert_eq!(&pvd[128..132], &[0x00, 0x08, 0x08, 0x00]);

        let svd = sector(&image, 17);
        assert_eq!(&svd[..7], b"\x02CD001\x01");
        assert_eq!(&svd[88..91], b"%/E", "Joliet level 3 escape");
        assert_eq!(ucs2(&svd[40..72]).trim_end(), VOLUME_ID);

        let terminator = sector(&image, 18);
        assert_eq!(&terminator[..6], b"\xffCD001");
    }

    #[test]
    fn files_carry_their_names_in_rock_ridge_and_joliet() {
        let user = b"#cloud-config\nhostname: a\n".as_slice();
        let meta = b"instance-id: a\n".as_slice();
        let net = b"version: 2\n".as_slice();
        let image = seed_iso(user, meta, Some(net)).unwrap();
        let expected = [
            ("meta-data", meta),
            ("network-config", net),
            ("user-data", user),
        ];

        // Primary tree: Rock Ridge names, and SP in the root's `.` so that
        // readers look for them at all.
        let pvd = sector(&image, 16);
        let root = records(sector(&image, le32(&pvd[158..]) as usize));
        assert_eq!(root[0].3, b"\0");
        assert_eq!(&root[0].4[..2], b"SP");
        assert_eq!(root[1].3, b"\x01");
        let files = &root[2..];
        assert_eq!(files.len(), expected.len());
        for (record, (name, body)) in files.iter().zip(expected) {
            assert_eq!(record.2 & 0x02, 0, "{name} is a file");
            assert_eq!(nm(record.4), Some(name.as_bytes()));
            assert_eq!(contents(&image, record), body);
        }

        // Joliet tree: UCS-2 names (a version suffix `;1` would be hidden
        // by Linux, but there is none).
        let svd = sector(&image, 17);
        let root = records(sector(&image, le32(&svd[158..]) as usize));
        let files = &root[2..];
        assert_eq!(files.len(), expected.len());
        for (record, (name, body)) in files.iter().zip(expected) {
            assert_eq!(ucs2(record.3).trim_end_matches(";1"), name);
            assert_eq!(contents(&image, record), body);
        }
    }

    #[test]
    fn network_config_only_when_given() {
        let image = seed_iso(b"#!/bin/sh\n", b"{}", None).unwrap();
        let pvd = sector(&image, 16);
        let root = records(sector(&image, le32(&pvd[158..]) as usize));
        let names: Vec<_> = root[2..].iter().filter_map(|r| nm(r.4)).collect();
        assert_eq!(names, [b"meta-data".as_slice(), b"user-data"]);
    }

    #[test]
    fn documents_of_several_sectors_and_empty_ones() {
        let user: Vec<u8> = (0..60_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        let image = seed_iso(&user, b"", Some(b"")).unwrap();
        let pvd = sector(&image, 16);
        let root = records(sector(&image, le32(&pvd[158..]) as usize));
        let user_record = root.iter().find(|r| nm(r.4) == Some(b"user-data")).unwrap();
        assert_eq!(contents(&image, user_record), user);
        let meta_record = root.iter().find(|r| nm(r.4) == Some(b"meta-data")).unwrap();
        assert_eq!(meta_record.1, 0);
    }

    #[test]
    fn refuses_oversize_documents() {
        let big = vec![b'#'; crate::MAX_DOCUMENT_BYTES + 1];
        assert!(matches!(
            seed_iso(&big, b"{}", None),
            Err(CloudInitError::DocumentTooLarge { .. })
        ));
    }
}
