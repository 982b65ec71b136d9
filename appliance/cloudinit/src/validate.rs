//! Checks NoCloud documents before they reach a VM: cloud-init reports
//! mistakes only inside the guest, long after the request was accepted, and
//! ignores unrecognised user-data silently.

use yaml_rust2::{Yaml, YamlLoader};

use crate::error::{CloudInitError, Document};
use crate::{MAX_DOCUMENT_BYTES, MAX_TOTAL_BYTES, NoCloud};

/// Checks the documents: user-data must be `#cloud-config` YAML that parses
/// to a mapping (an empty document is allowed), or a script starting with
/// `#!`, or a MIME multi-part archive starting with `Content-Type:
/// multipart/`; `## template: jinja` first lines followed by one of those are
/// accepted too. meta-data, when given, must be a YAML mapping.
/// network-config, when given, must be a YAML mapping with `version: 1` or
/// `version: 2` at the top level or under a top-level `network:` key. Size
/// limit: each document at most 64 KiB, and together at most 128 KiB (NoCloud
/// data rides on a small ISO; refuse more with a clear message).
///
/// Give `meta_data: None` rather than an empty text for the default
/// meta-data ([`default_meta_data`](crate::default_meta_data)): an empty
/// meta-data is refused, as it would leave the VM without an instance id.
pub fn validate(data: &NoCloud) -> Result<(), CloudInitError> {
    validate_parts(
        &data.user_data,
        data.meta_data.as_deref(),
        data.network_config.as_deref(),
    )
}

/// [`validate`] on borrowed documents, so that a caller filling in the
/// default meta-data need not copy the others.
pub(crate) fn validate_parts(
    user_data: &str,
    meta_data: Option<&str>,
    network_config: Option<&str>,
) -> Result<(), CloudInitError> {
    // Sizes first: no point parsing a megabyte of YAML that will be refused.
    check_sizes(
        user_data.len(),
        meta_data.map(str::len),
        network_config.map(str::len),
    )?;
    check_user_data(user_data)?;
    if let Some(text) = meta_data {
        single_mapping(Document::MetaData, text)?;
    }
    if let Some(text) = network_config {
        check_network_config(text)?;
    }
    Ok(())
}

/// Refuses documents larger than [`MAX_DOCUMENT_BYTES`] each or
/// [`MAX_TOTAL_BYTES`] together.
pub(crate) fn check_sizes(
    user_data: usize,
    meta_data: Option<usize>,
    network_config: Option<usize>,
) -> Result<(), CloudInitError> {
    let sizes = [
        (Document::UserData, Some(user_data)),
        (Document::MetaData, meta_data),
        (Document::NetworkConfig, network_config),
    ];
    let mut total = 0usize;
    for (document, size) in sizes {
        let Some(size) = size else { continue };
        if size > MAX_DOCUMENT_BYTES {
            return Err(CloudInitError::DocumentTooLarge { document, size });
        }
        total += size;
    }
    if total > MAX_TOTAL_BYTES {
        return Err(CloudInitError::TotalTooLarge { size: total });
    }
    Ok(())
}

/// The kinds of user-data we accept, told by the first line as cloud-init
/// tells them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Header {
    CloudConfig,
    Script,
    Multipart,
    Jinja,
}

/// Which header `line` is. cloud-init compares headers without regard to
/// case, so we do too rather than refuse what the guest would run.
fn header(line: &str) -> Option<Header> {
    let line = line.trim_end();
    let starts = |prefix: &str| {
        line.get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    if starts("#!") {
        Some(Header::Script)
    } else if starts("#cloud-config") {
        // `#cloud-config-archive` and `#cloud-config-jsonp` are other formats
        // that share the prefix; only the bare header (perhaps with a comment
        // after a space) is YAML cloud-config.
        let rest = &line["#cloud-config".len()..];
        (rest.is_empty() || rest.starts_with(char::is_whitespace)).then_some(Header::CloudConfig)
    } else if starts("Content-Type: multipart/") {
        Some(Header::Multipart)
    } else if starts("## template:")
        && line["## template:".len()..]
            .trim()
            .eq_ignore_ascii_case("jinja")
    {
        Some(Header::Jinja)
    } else {
        None
    }
}

/// The first line (without its line break) and the rest of `text`.
fn split_first_line(text: &str) -> (&str, &str) {
    match text.split_once('\n') {
        Some((first, rest)) => (first.strip_suffix('\r').unwrap_or(first), rest),
        None => (text, ""),
    }
}

fn header_error(first_line: &str) -> CloudInitError {
    const SHOWN: usize = 40;
    // Only a line that looks like a header attempt is repeated back: any
    // other first line could be a password or a key.
    let found = first_line.starts_with('#').then(|| {
        let mut shown: String = first_line.chars().take(SHOWN).collect();
        if first_line.chars().count() > SHOWN {
            shown.push('…');
        }
        shown
    });
    CloudInitError::UserDataHeader { found }
}

fn check_user_data(text: &str) -> Result<(), CloudInitError> {
    let (first, rest) = split_first_line(text);
    match header(first) {
        Some(Header::CloudConfig) => {
            // The header is a YAML comment, so the whole text parses, and
            // line numbers in errors are the operator's own.
            match single_document(Document::UserData, text)? {
                None | Some(Yaml::Null) | Some(Yaml::Hash(_)) => Ok(()),
                Some(other) => Err(CloudInitError::NotMapping {
                    document: Document::UserData,
                    found: kind(&other),
                }),
            }
        }
        Some(Header::Script | Header::Multipart) => Ok(()),
        Some(Header::Jinja) => {
            // The body is rendered inside the guest with instance data we do
            // not have, so only its header can be checked here: a template
            // usually is not valid YAML until rendered.
            let (second, _) = split_first_line(rest);
            match header(second) {
                Some(Header::CloudConfig | Header::Script | Header::Multipart) => Ok(()),
                Some(Header::Jinja) | None => Err(header_error(second)),
            }
        }
        None => Err(header_error(first)),
    }
}

/// Parses `text` as a YAML stream of at most one document.
fn single_document(document: Document, text: &str) -> Result<Option<Yaml>, CloudInitError> {
    let mut docs = YamlLoader::load_from_str(text).map_err(|e| CloudInitError::Yaml {
        document,
        line: e.marker().line(),
        column: e.marker().col() + 1,
        reason: e.info().to_owned(),
    })?;
    match docs.len() {
        0 | 1 => Ok(docs.pop()),
        count => Err(CloudInitError::MultipleDocuments { document, count }),
    }
}

/// Parses `text` as one YAML document that is a mapping (`{}` is one; an
/// empty text is not).
fn single_mapping(document: Document, text: &str) -> Result<Yaml, CloudInitError> {
    match single_document(document, text)? {
        Some(mapping @ Yaml::Hash(_)) => Ok(mapping),
        Some(other) => Err(CloudInitError::NotMapping {
            document,
            found: kind(&other),
        }),
        None => Err(CloudInitError::NotMapping {
            document,
            found: "an empty document",
        }),
    }
}

/// What a YAML node is, in words for an error message.
fn kind(node: &Yaml) -> &'static str {
    match node {
        Yaml::Hash(_) => "a mapping",
        Yaml::Array(_) => "a list",
        Yaml::Null => "an empty document",
        Yaml::String(_) | Yaml::Integer(_) | Yaml::Real(_) | Yaml::Boolean(_) => "a single value",
        Yaml::Alias(_) | Yaml::BadValue => "an unreadable value",
    }
}

fn check_network_config(text: &str) -> Result<(), CloudInitError> {
    let top = single_mapping(Document::NetworkConfig, text)?;
    // Both layouts occur in the wild: netplan's `network:` wrapper, and the
    // bare form cloud-init's NoCloud documentation shows.
    let version = match &top["version"] {
        Yaml::BadValue => &top["network"]["version"],
        found => found,
    };
    match version {
        Yaml::Integer(1 | 2) => Ok(()),
        Yaml::BadValue => Err(CloudInitError::NetworkConfigVersion {
            found: "it has no `version`".to_owned(),
        }),
        other => Err(CloudInitError::NetworkConfigVersion {
            found: format!("it has `version: {}`", scalar_text(other)),
        }),
    }
}

/// A scalar as it would be written, for error messages.
fn scalar_text(node: &Yaml) -> String {
    match node {
        Yaml::String(s) => format!("{s:?}"),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Real(r) => r.clone(),
        Yaml::Boolean(b) => b.to_string(),
        Yaml::Null => "null".to_owned(),
        other => kind(other).to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(text: &str) -> NoCloud {
        NoCloud {
            user_data: text.to_owned(),
            meta_data: None,
            network_config: None,
        }
    }

    const CLOUD_CONFIG: &str = r#"#cloud-config
hostname: web-1
users:
  - default
  - name: ops
    groups: [sudo, adm]
    shell: /bin/bash
    sudo: "ALL=(ALL) NOPASSWD:ALL"
    lock_passwd: true
    ssh_authorized_keys:
      - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBbLdkMhMn3b5zX0cnQh7oaQ3K3bDk2Wm2Lz2Nq9f0xg ops@laptop
chpasswd:
  expire: false
package_update: true
packages: [nginx, qemu-guest-agent]
write_files:
  - path: /etc/motd
    permissions: '0644'
    owner: root:root
    content: |
      Managed by LimiQuantix.
      Changes here are lost.
  - path: /etc/nginx/conf.d/health.conf
    encoding: b64
    content: c2VydmVyIHsgbGlzdGVuIDgwODA7IH0K
runcmd:
  - [systemctl, enable, --now, qemu-guest-agent]
  - echo "booted $(date)" >> /var/log/first-boot.log
final_message: "up after $UPTIME seconds"
"#;

    #[test]
    fn accepts_real_world_cloud_config() {
        validate(&user(CLOUD_CONFIG)).unwrap();
    }

    #[test]
    fn accepts_cloud_config_with_crlf_and_comment_after_header() {
        validate(&user("#cloud-config  # from the portal\r\nhostname: a\r\n")).unwrap();
    }

    #[test]
    fn accepts_empty_cloud_config() {
        validate(&user("#cloud-config\n")).unwrap();
        validate(&user("#cloud-config")).unwrap();
        validate(&user("#cloud-config\n---\n")).unwrap();
        validate(&user("#cloud-config\n# nothing yet\n")).unwrap();
    }

    #[test]
    fn accepts_script() {
        validate(&user(
            "#!/bin/bash\nset -eu\napt-get update\necho 'ok: [' > /root/not-yaml\n",
        ))
        .unwrap();
        validate(&user("#!/usr/bin/env python3\nprint('hi')\n")).unwrap();
    }

    #[test]
    fn accepts_multipart() {
        let text = "Content-Type: multipart/mixed; boundary=\"===============2389165605550749110==\"\n\
                    MIME-Version: 1.0\n\n\
                    --===============2389165605550749110==\n\
                    Content-Type: text/cloud-config; charset=\"us-ascii\"\n\
                    MIME-Version: 1.0\n\
                    Content-Transfer-Encoding: 7bit\n\
                    Content-Disposition: attachment; filename=\"cloud-config.txt\"\n\n\
                    #cloud-config\n\
                    packages: [htop]\n\n\
                    --===============2389165605550749110==\n\
                    Content-Type: text/x-shellscript; charset=\"us-ascii\"\n\n\
                    #!/bin/sh\n\
                    echo hi\n\n\
                    --===============2389165605550749110==--\n";
        validate(&user(text)).unwrap();
    }

    #[test]
    fn accepts_jinja_templates() {
        // Not valid YAML until rendered in the guest; only headers are checked.
        validate(&user(
            "## template: jinja\n#cloud-config\nhostname: {{ v1.local_hostname }}-x\nruncmd:\n  - echo {{ ds.meta_data.instance_id }}\n",
        ))
        .unwrap();
        validate(&user(
            "## template: jinja\n#!/bin/sh\necho {{ v1.region }}\n",
        ))
        .unwrap();
        validate(&user(
            "## template:jinja\r\nContent-Type: multipart/mixed; boundary=x\n",
        ))
        .unwrap();
    }

    #[test]
    fn refuses_jinja_without_a_recognised_body() {
        let err = validate(&user("## template: jinja\nhostname: x\n")).unwrap_err();
        assert!(
            matches!(err, CloudInitError::UserDataHeader { found: None }),
            "{err:?}"
        );
        let err = validate(&user(
            "## template: jinja\n## template: jinja\n#cloud-config\n",
        ))
        .unwrap_err();
        assert!(
            matches!(err, CloudInitError::UserDataHeader { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn refuses_user_data_without_header() {
        let err = validate(&user("hostname: web-1\npassword: hunter2\n")).unwrap_err();
        let message = err.to_string();
        assert!(matches!(
            err,
            CloudInitError::UserDataHeader { found: None }
        ));
        assert!(message.contains("#cloud-config"), "{message}");
        assert!(
            !message.contains("hunter2"),
            "secrets are not echoed: {message}"
        );

        for text in [
            "",
            "\n#cloud-config\n",
            " #cloud-config\n",
            "#cloud-config-archive\n- a\n",
        ] {
            assert!(
                matches!(
                    validate(&user(text)),
                    Err(CloudInitError::UserDataHeader { .. })
                ),
                "{text:?}"
            );
        }
    }

    #[test]
    fn mistyped_header_is_named() {
        let message = validate(&user("#cloud-confg\nhostname: a\n"))
            .unwrap_err()
            .to_string();
        assert!(message.contains("\"#cloud-confg\""), "{message}");
    }

    #[test]
    fn refuses_bad_yaml_with_its_position() {
        let text = "#cloud-config\nhostname: web-1\nusers:\n  - name: ops\n   groups: sudo\n";
        let err = validate(&user(text)).unwrap_err();
        let CloudInitError::Yaml { document, line, .. } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(*document, Document::UserData);
        assert_eq!(*line, 5);
        let message = err.to_string();
        assert!(
            message.starts_with("user-data is not valid YAML: "),
            "{message}"
        );
        assert!(message.contains("line 5"), "{message}");
    }

    #[test]
    fn yaml_columns_count_from_one() {
        // The second `:` is the fifth character of line 2.
        let err = single_document(Document::MetaData, "x: 1\na: b: c\n").unwrap_err();
        let CloudInitError::Yaml {
            line,
            column,
            reason,
            ..
        } = err
        else {
            panic!("{err:?}");
        };
        assert_eq!((line, column), (2, 5), "{reason}");
        assert_eq!(reason, "mapping values are not allowed in this context");
    }

    #[test]
    fn refuses_non_mapping_cloud_config() {
        let err = validate(&user("#cloud-config\n- runcmd\n- packages\n")).unwrap_err();
        assert!(
            matches!(
                err,
                CloudInitError::NotMapping {
                    document: Document::UserData,
                    found: "a list"
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "user-data must be a YAML mapping (`key: value` lines), not a list"
        );
        let err = validate(&user("#cloud-config\njust words\n")).unwrap_err();
        assert!(matches!(
            err,
            CloudInitError::NotMapping {
                found: "a single value",
                ..
            }
        ));
    }

    #[test]
    fn refuses_several_documents() {
        let err = validate(&user("#cloud-config\na: 1\n---\nb: 2\n")).unwrap_err();
        assert!(
            matches!(err, CloudInitError::MultipleDocuments { count: 2, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn meta_data_must_be_a_mapping() {
        let with_meta = |meta: &str| NoCloud {
            meta_data: Some(meta.to_owned()),
            ..user("#cloud-config\n")
        };
        validate(&with_meta("instance-id: i-1\nlocal-hostname: web-1\n")).unwrap();
        validate(&with_meta("{}")).unwrap();
        for (meta, found) in [
            ("", "an empty document"),
            ("i-1", "a single value"),
            ("- a\n", "a list"),
        ] {
            let err = validate(&with_meta(meta)).unwrap_err();
            assert!(
                matches!(
                    err,
                    CloudInitError::NotMapping {
                        document: Document::MetaData,
                        found: f
                    } if f == found
                ),
                "{meta:?}: {err:?}"
            );
        }
        let err = validate(&with_meta("instance-id: [\n")).unwrap_err();
        assert!(
            err.to_string().starts_with("meta-data is not valid YAML"),
            "{err}"
        );
    }

    fn with_network(net: &str) -> Result<(), CloudInitError> {
        validate(&NoCloud {
            network_config: Some(net.to_owned()),
            ..user("#cloud-config\n")
        })
    }

    #[test]
    fn accepts_network_config_versions() {
        with_network(
            "version: 2\nethernets:\n  id0:\n    match:\n      macaddress: '52:54:00:12:34:56'\n    dhcp4: true\n",
        )
        .unwrap();
        with_network("network:\n  version: 2\n  ethernets:\n    eth0:\n      dhcp4: true\n")
            .unwrap();
        with_network(
            "version: 1\nconfig:\n  - type: physical\n    name: eth0\n    mac_address: '52:54:00:12:34:56'\n    subnets:\n      - type: static\n        address: 192.0.2.10/24\n        gateway: 192.0.2.1\n",
        )
        .unwrap();
        with_network("network:\n  version: 1\n  config: []\n").unwrap();
    }

    #[test]
    fn refuses_network_config_without_known_version() {
        for (net, found) in [
            (
                "ethernets:\n  eth0:\n    dhcp4: true\n",
                "it has no `version`",
            ),
            ("network:\n  ethernets: {}\n", "it has no `version`"),
            ("version: 3\n", "it has `version: 3`"),
            ("version: \"2\"\n", "it has `version: \"2\"`"),
            ("network:\n  version: 2.0\n", "it has `version: 2.0`"),
        ] {
            let err = with_network(net).unwrap_err();
            let CloudInitError::NetworkConfigVersion { found: got } = &err else {
                panic!("{net:?}: {err:?}");
            };
            assert_eq!(got, found, "{net:?}");
            assert!(err.to_string().contains("`version: 1` or `version: 2`"));
        }
        assert!(matches!(
            with_network("- version: 2\n"),
            Err(CloudInitError::NotMapping {
                document: Document::NetworkConfig,
                ..
            })
        ));
    }

    #[test]
    fn refuses_oversize_documents() {
        let big = format!("#!/bin/sh\n{}", "#".repeat(MAX_DOCUMENT_BYTES));
        let err = validate(&user(&big)).unwrap_err();
        assert!(
            matches!(
                err,
                CloudInitError::DocumentTooLarge {
                    document: Document::UserData,
                    size
                } if size == big.len()
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("64 KiB"), "{err}");

        // Exactly at the limit is fine.
        let edge = format!("#!/bin/sh\n{}", "#".repeat(MAX_DOCUMENT_BYTES - 10));
        validate(&user(&edge)).unwrap();

        let meta = format!("instance-id: x\n#{}", " ".repeat(MAX_DOCUMENT_BYTES));
        let err = validate(&NoCloud {
            meta_data: Some(meta),
            ..user("#cloud-config\n")
        })
        .unwrap_err();
        assert!(matches!(
            err,
            CloudInitError::DocumentTooLarge {
                document: Document::MetaData,
                ..
            }
        ));
    }

    #[test]
    fn refuses_oversize_total() {
        // Each document at its limit, which together is more than the ISO takes.
        let data = NoCloud {
            user_data: format!("#!/bin/sh\n{}", "#".repeat(MAX_DOCUMENT_BYTES - 10)),
            meta_data: Some(format!(
                "instance-id: x\n#{}",
                "#".repeat(MAX_DOCUMENT_BYTES - 16)
            )),
            network_config: Some("version: 2\n".to_owned()),
        };
        assert_eq!(data.user_data.len(), MAX_DOCUMENT_BYTES);
        assert_eq!(data.meta_data.as_ref().unwrap().len(), MAX_DOCUMENT_BYTES);
        let err = validate(&data).unwrap_err();
        assert!(
            matches!(err, CloudInitError::TotalTooLarge { size } if size > MAX_TOTAL_BYTES),
            "{err:?}"
        );
        assert!(err.to_string().contains("128 KiB"), "{err}");
    }
}
