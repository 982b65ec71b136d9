//! Checking what an operator gives to join a Ceph cluster and to name
//! volumes: monitor addresses, cephx names and keys, keyrings, sizes, and
//! `POOL/NAME[@SNAP]` specs.

use lqx_api::CephJoinRequest;
use std::fmt;
use std::net::IpAddr;
use uuid::Uuid;

/// The msgr v2 port monitors listen on by default.
pub const MON_V2_PORT: u16 = 3300;
/// The legacy msgr v1 port.
pub const MON_V1_PORT: u16 = 6789;

/// The wire protocol of a monitor address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Msgr {
    /// msgr v2 (Nautilus and later).
    V2,
    /// msgr v1.
    V1,
}

/// One monitor address as given, resolved to a protocol and port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MonAddr {
    /// Its IP.
    pub ip: IpAddr,
    /// Its port; `None` when not given (both default ports are tried).
    pub port: Option<u16>,
    /// Its protocol; a port of 6789 means v1, any other v2.
    pub msgr: Msgr,
}

impl MonAddr {
    /// Parses `IP`, `IP:PORT`, `[IPv6]:PORT`, optionally prefixed with
    /// `v2:` or `v1:`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (prefix, rest) = match s.split_once(':') {
            Some(("v1", rest)) => (Some(Msgr::V1), rest),
            Some(("v2", rest)) => (Some(Msgr::V2), rest),
            _ => (None, s),
        };
        let (ip, port) = if let Ok(ip) = rest.parse::<IpAddr>() {
            (ip, None)
        } else if let Ok(sa) = rest.parse::<std::net::SocketAddr>() {
            (sa.ip(), Some(sa.port()))
        } else {
            return Err(format!(
                "{s:?} is not IP, IP:PORT or [IPv6]:PORT (host names are not resolved)"
            ));
        };
        if port == Some(0) {
            return Err(format!("{s:?}: port 0"));
        }
        if ip.is_unspecified() || ip.is_multicast() {
            return Err(format!("{s:?}: not a monitor's address"));
        }
        let msgr = prefix.unwrap_or(match port {
            Some(MON_V1_PORT) => Msgr::V1,
            _ => Msgr::V2,
        });
        Ok(Self { ip, port, msgr })
    }

    /// Its entry of `mon host` in ceph.conf.
    pub fn conf_entry(&self) -> String {
        let host = |port: u16| std::net::SocketAddr::new(self.ip, port).to_string();
        match (self.port, self.msgr) {
            (None, _) => format!("[v2:{},v1:{}]", host(MON_V2_PORT), host(MON_V1_PORT)),
            (Some(p), Msgr::V2) => format!("v2:{}", host(p)),
            (Some(p), Msgr::V1) => format!("v1:{}", host(p)),
        }
    }
}

impl fmt::Display for MonAddr {
    /// The normalised form persisted and shown: `v2:IP:PORT` or `IP`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            None => write!(f, "{}", self.ip),
            Some(p) => {
                let v = if self.msgr == Msgr::V1 { "v1" } else { "v2" };
                write!(f, "{v}:{}", std::net::SocketAddr::new(self.ip, p))
            }
        }
    }
}

/// A join request whose every field has been checked.
#[derive(Clone, PartialEq, Eq)]
pub struct ValidJoin {
    /// The monitors.
    pub mons: Vec<MonAddr>,
    /// `client.ID`.
    pub name: String,
    /// The key, base64 as given (for keyrings and the state file).
    pub key: String,
    /// The same key decoded (for libvirt).
    pub secret: CephxKey,
    /// The fsid the cluster must have, if any.
    pub fsid: Option<Uuid>,
}

// Keeps the key out of logs.
impl fmt::Debug for ValidJoin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidJoin")
            .field("mons", &self.mons)
            .field("name", &self.name)
            .field("fsid", &self.fsid)
            .finish_non_exhaustive()
    }
}

impl ValidJoin {
    /// The cephx id: the name without `client.`.
    pub fn id(&self) -> &str {
        self.name.strip_prefix("client.").unwrap_or(&self.name)
    }

    /// The monitors as persisted.
    pub fn mon_strings(&self) -> Vec<String> {
        self.mons.iter().map(MonAddr::to_string).collect()
    }
}

/// Checks a join request; every problem is reported, one per line, each
/// starting with the field's name.
pub fn validate_join(request: &CephJoinRequest) -> Result<ValidJoin, String> {
    let mut problems = vec![];
    let mut mons = vec![];
    if request.mons.is_empty() {
        problems.push("mons: give at least one monitor address".to_owned());
    }
    for m in &request.mons {
        match MonAddr::parse(m) {
            Ok(a) if mons.contains(&a) => problems.push(format!("mons: {m} is given twice")),
            Ok(a) => mons.push(a),
            Err(e) => problems.push(format!("mons: {e}")),
        }
    }
    if let Err(e) = check_client_name(&request.name) {
        problems.push(format!("name: {e}"));
    }
    let secret = CephxKey::from_base64(&request.key)
        .map_err(|e| problems.push(format!("key: {e}")))
        .ok();
    match secret {
        Some(secret) if problems.is_empty() => Ok(ValidJoin {
            mons,
            name: request.name.clone(),
            key: request.key.trim().to_owned(),
            secret,
            fsid: request.fsid,
        }),
        _ => Err(problems.join("\n")),
    }
}

/// `client.ID`, with ID made of letters, digits, `_`, `-` and `.`.
pub fn check_client_name(name: &str) -> Result<(), String> {
    let Some(id) = name.strip_prefix("client.") else {
        return Err(format!("{name:?} is not client.ID"));
    };
    if id.is_empty()
        || id.len() > 64
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(format!(
            "{name:?}: the ID must be 1-64 letters, digits, '_', '-' or '.'"
        ));
    }
    Ok(())
}

/// A cephx key in its decoded form, the bytes its base64 text (what
/// `ceph auth print-key` prints) stands for: a 2-byte type (1, AES), an
/// 8-byte creation time, a 2-byte length (16) and the 16-byte secret.
/// libvirt stores this form as a secret's value. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct CephxKey(Vec<u8>);

/// Why a text is not a cephx key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not base64.
    #[error("not base64 (give the key as `ceph auth print-key` prints it)")]
    Base64,
    /// Base64, but not laid out as a cephx key (this catches, among others,
    /// the raw 16-byte secret given alone).
    #[error("not a cephx key (expected 28 bytes holding a 16-byte secret)")]
    Layout {
        /// The decoded length.
        len: usize,
    },
}

impl CephxKey {
    /// `CEPH_CRYPTO_AES`, the only type Ceph issues.
    const AES: u16 = 1;

    /// Decodes and checks the base64 text.
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| KeyError::Base64)?;
        let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
        if bytes.len() != 28 || u16_at(0) != Self::AES || u16_at(10) != 16 {
            return Err(KeyError::Layout { len: bytes.len() });
        }
        Ok(Self(bytes))
    }

    /// The decoded bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for CephxKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CephxKey(<redacted>)")
    }
}

/// The key of `name` in a keyring file's text (`[client.ID]` then
/// `key = BASE64`).
pub fn key_from_keyring(text: &str, name: &str) -> Result<String, String> {
    let mut in_section = false;
    for line in text.lines() {
        let line = line.trim();
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_section = section.trim() == name;
        } else if in_section
            && let Some((k, v)) = line.split_once('=')
            && k.trim() == "key"
        {
            return Ok(v.trim().to_owned());
        }
    }
    Err(format!("the keyring has no key for {name}"))
}

/// Parses a size: a number of bytes, or with a binary unit (`K`, `KiB`,
/// `M`, `MiB`, `G`, `GiB`, `T`, `TiB`, as `rbd` reads them) or a decimal
/// one (`KB`, `MB`, `GB`, `TB`). It must be positive and a multiple of 512.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a size like 10GiB or 512MiB"))?;
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "K" | "KiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        "T" | "TiB" => 1 << 40,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        other => {
            return Err(format!(
                "{s:?}: unknown unit {other:?} (use KiB, MiB, GiB, TiB)"
            ));
        }
    };
    let bytes = n
        .checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too large"))?;
    check_size(bytes).map(|()| bytes)
}

/// A volume size must be positive and a whole number of 512-byte sectors.
pub fn check_size(bytes: u64) -> Result<(), String> {
    if bytes == 0 {
        Err("size must be more than 0".into())
    } else if !bytes.is_multiple_of(512) {
        Err(format!("{bytes} bytes is not a multiple of 512"))
    } else {
        Ok(())
    }
}

/// A size for people: the largest binary unit that keeps it whole to one
/// decimal (`10 GiB`, `1.5 GiB`, `512 B`).
pub fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut unit = 0;
    let mut value = bytes as f64;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if value.fract() == 0.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// What names a pool, image or snapshot: 1-95 bytes, no `/`, `@`,
/// whitespace or control characters (RBD's separators and what shells
/// and libvirt XML would trip on).
pub fn check_name(what: &str, name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!("{what} name is empty"));
    }
    if name.len() > 95 {
        return Err(format!("{what} name {name:?} is longer than 95 bytes"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| matches!(c, '/' | '@') || c.is_whitespace() || c.is_control())
    {
        return Err(format!("{what} name {name:?} contains {c:?}"));
    }
    if name.starts_with('.') {
        return Err(format!("{what} name {name:?} starts with '.'"));
    }
    Ok(())
}

/// `POOL/NAME`, or `POOL/NAME@SNAP`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolumeSpec {
    /// The pool.
    pub pool: String,
    /// The image.
    pub name: String,
    /// The snapshot, when given.
    pub snapshot: Option<String>,
}

impl VolumeSpec {
    /// Parses and checks a spec.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (path, snapshot) = match s.split_once('@') {
            Some((p, snap)) => (p, Some(snap)),
            None => (s, None),
        };
        let Some((pool, name)) = path.split_once('/') else {
            return Err(format!("{s:?} is not POOL/NAME"));
        };
        check_name("pool", pool)?;
        check_name("volume", name)?;
        if let Some(snap) = snapshot {
            check_name("snapshot", snap)?;
        }
        Ok(Self {
            pool: pool.to_owned(),
            name: name.to_owned(),
            snapshot: snapshot.map(str::to_owned),
        })
    }
}

impl fmt::Display for VolumeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.pool, self.name)?;
        if let Some(s) = &self.snapshot {
            write!(f, "@{s}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AQBvCEVnAAAAABAAnmzkLkfJEEXKZQqjuAQ0tQ==";

    fn request(mons: &[&str], name: &str, key: &str) -> CephJoinRequest {
        CephJoinRequest {
            mons: mons.iter().map(|s| s.to_string()).collect(),
            name: name.into(),
            key: key.into(),
            fsid: None,
        }
    }

    #[test]
    fn monitor_addresses_resolve_to_a_protocol() {
        let a = MonAddr::parse("10.0.0.1").unwrap();
        assert_eq!(a.conf_entry(), "[v2:10.0.0.1:3300,v1:10.0.0.1:6789]");
        assert_eq!(a.to_string(), "10.0.0.1");
        assert_eq!(
            MonAddr::parse("10.0.0.1:6789").unwrap().conf_entry(),
            "v1:10.0.0.1:6789"
        );
        assert_eq!(
            MonAddr::parse("127.0.0.1:40123").unwrap().conf_entry(),
            "v2:127.0.0.1:40123"
        );
        let v6 = MonAddr::parse("[fd00::1]:3300").unwrap();
        assert_eq!(v6.conf_entry(), "v2:[fd00::1]:3300");
        assert_eq!(v6.to_string(), "v2:[fd00::1]:3300");
        assert_eq!(
            MonAddr::parse("v1:10.0.0.2:7000").unwrap().conf_entry(),
            "v1:10.0.0.2:7000"
        );
        // What is persisted parses back to the same address.
        for s in ["10.0.0.1", "v2:[fd00::1]:3300", "v1:10.0.0.2:7000"] {
            let a = MonAddr::parse(s).unwrap();
            assert_eq!(MonAddr::parse(&a.to_string()).unwrap(), a);
        }
        for bad in [
            "mon1.example",
            "10.0.0.1:0",
            "0.0.0.0",
            "10.0.0.1:99999",
            "",
        ] {
            assert!(MonAddr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_join_reports_every_problem() {
        let ok =
            validate_join(&request(&["10.0.0.1", "10.0.0.2:3300"], "client.lqx", KEY)).unwrap();
        assert_eq!(ok.id(), "lqx");
        assert_eq!(ok.mon_strings(), ["10.0.0.1", "v2:10.0.0.2:3300"]);
        assert!(!format!("{ok:?}").contains(KEY));

        let err =
            validate_join(&request(&["nope", "10.0.0.1", "10.0.0.1"], "admin", "xyz")).unwrap_err();
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 4, "{err}");
        assert!(lines[0].starts_with("mons: "));
        assert!(lines[1].contains("given twice"));
        assert!(lines[2].starts_with("name: "));
        assert!(lines[3].starts_with("key: "));
        assert!(validate_join(&request(&[], "client.x", KEY)).is_err());
    }

    #[test]
    fn keys_are_cephx_keys() {
        let key = CephxKey::from_base64(KEY).unwrap();
        assert_eq!(key.as_bytes().len(), 28);
        assert!(!format!("{key:?}").contains(KEY));
        // Base64, but not a key.
        assert!(
            CephxKey::from_base64("aGVsbG8gd29ybGQ=")
                .unwrap_err()
                .to_string()
                .contains("cephx")
        );
        assert!(
            CephxKey::from_base64("!!!")
                .unwrap_err()
                .to_string()
                .contains("base64")
        );
    }

    #[test]
    fn keys_decode_to_the_28_bytes_libvirt_stores() {
        let key = CephxKey::from_base64(KEY).unwrap();
        assert_eq!(&key.as_bytes()[..2], &[1, 0]);
        assert_eq!(CephxKey::from_base64(&format!("{KEY}\n")), Ok(key));
    }

    #[test]
    fn non_keys_are_refused_by_layout() {
        use base64::Engine as _;
        assert_eq!(CephxKey::from_base64("not base64!"), Err(KeyError::Base64));
        // The bare 16-byte secret, without type and length.
        assert_eq!(
            CephxKey::from_base64("gQz2sleLL0DXYVYH0DSCxQ=="),
            Err(KeyError::Layout { len: 16 })
        );
        // Right length, wrong type.
        let mut bytes = CephxKey::from_base64(KEY).unwrap().as_bytes().to_vec();
        bytes[0] = 2;
        let text = base64::engine::general_purpose::STANDARD.encode(bytes);
        assert_eq!(
            CephxKey::from_base64(&text),
            Err(KeyError::Layout { len: 28 })
        );
    }

    #[test]
    fn keyrings_give_the_named_entity_key() {
        let text = format!(
            "[client.admin]\n\tkey = other\n\tcaps mon = \"allow *\"\n[client.lqx]\n\tkey = {KEY}\n"
        );
        assert_eq!(key_from_keyring(&text, "client.lqx").unwrap(), KEY);
        assert_eq!(key_from_keyring(&text, "client.admin").unwrap(), "other");
        assert!(key_from_keyring(&text, "client.nobody").is_err());
    }

    #[test]
    fn sizes_parse_like_rbd_and_print_for_people() {
        assert_eq!(parse_size("10GiB").unwrap(), 10 << 30);
        assert_eq!(parse_size("10G").unwrap(), 10 << 30);
        assert_eq!(parse_size("512MiB").unwrap(), 512 << 20);
        assert_eq!(parse_size("1GB").unwrap(), 1_000_000_000);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        for bad in ["", "0", "10 apples", "-1G", "1000", "99999999999TiB"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert_eq!(format_size(10 << 30), "10 GiB");
        assert_eq!(format_size(1536 << 20), "1.5 GiB");
        assert_eq!(format_size(512), "512 B");
    }

    #[test]
    fn specs_and_names() {
        let s = VolumeSpec::parse("vms/disk-1@before").unwrap();
        assert_eq!((s.pool.as_str(), s.name.as_str()), ("vms", "disk-1"));
        assert_eq!(s.snapshot.as_deref(), Some("before"));
        assert_eq!(s.to_string(), "vms/disk-1@before");
        assert_eq!(VolumeSpec::parse("vms/d").unwrap().snapshot, None);
        for bad in [
            "vms",
            "/d",
            "vms/",
            "vms/a/b",
            "vms/a b",
            "vms/d@",
            "vms/.hidden",
        ] {
            assert!(VolumeSpec::parse(bad).is_err(), "{bad}");
        }
        assert!(check_name("volume", &"x".repeat(96)).is_err());
    }
}
