use std::net::IpAddr;

/// Name servers and search domains of a `resolv.conf(5)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resolvers {
    /// `nameserver` lines, in order.
    pub servers: Vec<IpAddr>,
    /// The last `search` (or `domain`) line's domains.
    pub search: Vec<String>,
}

/// Parses `resolv.conf(5)`. Later `search`/`domain` lines replace earlier
/// ones, as in glibc; IPv6 zone suffixes (`%eth0`) are dropped.
pub fn resolv_conf(text: &str) -> Resolvers {
    let mut out = Resolvers::default();
    for line in text.lines() {
        let line = line.split(['#', ';']).next().unwrap_or_default();
        let mut words = line.split_whitespace();
        match words.next() {
            Some("nameserver") => {
                let addr = words
                    .next()
                    .and_then(|w| w.split('%').next())
                    .and_then(|w| w.parse().ok());
                if let Some(addr) = addr {
                    out.servers.push(addr);
                }
            }
            Some("search") | Some("domain") => {
                out.search = words.map(str::to_owned).collect();
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_and_search() {
        let text = "# generated\nnameserver 10.0.0.2\nnameserver fe80::1%eth0\nnameserver bogus\n\
                    domain old.example\nsearch a.example b.example ; trailing\noptions edns0\n";
        let r = resolv_conf(text);
        assert_eq!(
            r.servers,
            vec![
                "10.0.0.2".parse::<IpAddr>().unwrap(),
                "fe80::1".parse().unwrap()
            ]
        );
        assert_eq!(r.search, vec!["a.example", "b.example"]);
    }

    #[test]
    fn empty() {
        assert_eq!(resolv_conf(""), Resolvers::default());
    }
}
