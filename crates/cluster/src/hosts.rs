//! Host files: one `host:port` per line, in process order (line 1 is process 0).

use std::fmt;

/// Why a host file was refused: the line (1-based) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {why}")]
pub struct HostsError {
    /// The offending line, counted from 1 (0: the file as a whole).
    pub line: usize,
    /// What is wrong with it.
    pub why: String,
}

/// One process's address: a host name or IP address, and a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// The host name or address (an IPv6 address without brackets).
    pub host: String,
    /// The TCP port the process listens on.
    pub port: u16,
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// The most processes a cluster has.
pub const MAX_PROCESSES: usize = 1024;

/// Parses a host file: one `host:port` per line (`[v6]:port` for IPv6); blank lines and
/// lines starting with `#` are skipped. At least one host, at most [`MAX_PROCESSES`], no
/// address twice.
pub fn parse_hosts(text: &str) -> Result<Vec<Host>, HostsError> {
    let mut hosts: Vec<Host> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        let entry = raw.trim();
        if entry.is_empty() || entry.starts_with('#') {
            continue;
        }
        let bad = |why: String| HostsError { line, why };
        let host = parse_host(entry).map_err(bad)?;
        if let Some(first) = hosts.iter().position(|h| *h == host) {
            return Err(bad(format!(
                "{host} is listed twice (also process {first})"
            )));
        }
        if hosts.len() == MAX_PROCESSES {
            return Err(bad(format!("more than {MAX_PROCESSES} processes")));
        }
        hosts.push(host);
    }
    if hosts.is_empty() {
        return Err(HostsError {
            line: 0,
            why: "no hosts: expected one `host:port` per line".into(),
        });
    }
    Ok(hosts)
}

/// Parses one `host:port` (or `[v6]:port`).
pub fn parse_host(entry: &str) -> Result<Host, String> {
    let (host, port) = if let Some(rest) = entry.strip_prefix('[') {
        let (v6, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("'{entry}': an IPv6 address needs its closing ']'"))?;
        let port = after
            .strip_prefix(':')
            .ok_or_else(|| format!("'{entry}': expected [address]:port"))?;
        (v6, port)
    } else {
        entry
            .rsplit_once(':')
            .ok_or_else(|| format!("'{entry}': expected host:port"))?
    };
    if host.is_empty()
        || host.len() > 253
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'))
    {
        return Err(format!("'{entry}': '{host}' is not a host name or address"));
    }
    let port = match port.parse::<u16>() {
        Ok(p) if p > 0 => p,
        _ => {
            return Err(format!(
                "'{entry}': the port must be a number from 1 to 65535"
            ));
        }
    };
    Ok(Host {
        host: host.to_owned(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hosts_and_names_the_bad_line() {
        let hosts =
            parse_hosts("# two hosts\n10.0.0.1:7000\n\n[::1]:7001\nbox-2.lan:7002\n").unwrap();
        let shown: Vec<String> = hosts.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["10.0.0.1:7000", "[::1]:7001", "box-2.lan:7002"]);
        for (text, line, says) in [
            ("a:1\nb\n", 2, "expected host:port"),
            ("a:1\nb:0\n", 2, "from 1 to 65535"),
            ("a:99999\n", 1, "from 1 to 65535"),
            ("a:1\n\na:1\n", 3, "listed twice"),
            ("a b:1\n", 1, "not a host name"),
            ("[::1:7\n", 1, "closing ']'"),
            ("# nothing\n\n", 0, "no hosts"),
        ] {
            let e = parse_hosts(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.why.contains(says), "{text:?}: {e}");
        }
    }
}
