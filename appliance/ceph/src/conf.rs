//! The ceph.conf and keyring a connection reads.

use lqx_core::ceph::MonAddr;
use std::path::Path;
use std::time::Duration;

/// ceph.conf for a client of `mons` whose keyring is at `keyring`.
///
/// `timeout` bounds the initial connect (`client mount timeout`) and every
/// later monitor and OSD operation, so that no call hangs on an
/// unreachable cluster. Logs and the admin socket are off: the agent
/// reports errors itself and keeps no files outside its state.
pub fn render(mons: &[MonAddr], keyring: &Path, timeout: Duration) -> String {
    let mon_host = mons
        .iter()
        .map(MonAddr::conf_entry)
        .collect::<Vec<_>>()
        .join(",");
    let secs = timeout.as_secs().max(1);
    format!(
        "[global]
mon host = {mon_host}
keyring = {keyring}
auth client required = cephx
client mount timeout = {secs}
rados mon op timeout = {op}
rados osd op timeout = {op}
log file =
log to stderr = false
err to stderr = false
admin socket =
",
        keyring = keyring.display(),
        op = secs.max(30),
    )
}

/// A keyring holding `key` for `name`.
pub fn keyring(name: &str, key: &str) -> String {
    format!("[{name}]\n\tkey = {key}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conf_lists_monitors_and_bounds_every_wait() {
        let mons = [
            MonAddr::parse("10.0.0.1").unwrap(),
            MonAddr::parse("127.0.0.1:40000").unwrap(),
        ];
        let text = render(&mons, Path::new("/s/keyring"), Duration::from_secs(10));
        assert!(
            text.contains("mon host = [v2:10.0.0.1:3300,v1:10.0.0.1:6789],v2:127.0.0.1:40000\n"),
            "{text}"
        );
        assert!(text.contains("keyring = /s/keyring\n"));
        assert!(text.contains("client mount timeout = 10\n"));
        assert!(text.contains("rados osd op timeout = 30\n"));
        assert_eq!(
            keyring("client.lqx", "AQB=="),
            "[client.lqx]\n\tkey = AQB==\n"
        );
    }
}
