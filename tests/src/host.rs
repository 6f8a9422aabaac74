//! One loopback SSH target.

/// A loopback address where one of the testbed's servers listens.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Host {
    /// Loopback address: IPv4 `127.101.3.7`, or IPv6 `::1` (no brackets).
    pub ip: String,
    /// TCP port, e.g. `40123`.
    pub port: u16,
}

impl Host {
    /// The name OpenSSH uses for this host in `known_hosts`: `[ip]:port`
    /// (`[::1]:40123` for IPv6).
    pub fn known_hosts_name(&self) -> String {
        format!("[{}]:{}", self.ip, self.port)
    }

    /// `ip:port`, the form `connect` and `TcpStream::connect` accept; an IPv6
    /// address is bracketed: `[::1]:40123`.
    pub fn address(&self) -> String {
        if self.is_ipv6() {
            format!("[{}]:{}", self.ip, self.port)
        } else {
            format!("{}:{}", self.ip, self.port)
        }
    }

    /// Whether the address is IPv6 (`::1`).
    pub fn is_ipv6(&self) -> bool {
        self.ip.contains(':')
    }
}

#[cfg(test)]
mod tests {
    use super::Host;

    #[test]
    fn known_hosts_name_brackets_ip_and_port() {
        let h = Host {
            ip: "127.101.3.7".into(),
            port: 40123,
        };
        assert_eq!(h.known_hosts_name(), "[127.101.3.7]:40123");
        assert_eq!(h.address(), "127.101.3.7:40123");
        assert!(!h.is_ipv6());
    }

    #[test]
    fn ipv6_address_is_bracketed_everywhere() {
        let h = Host {
            ip: "::1".into(),
            port: 2222,
        };
        assert!(h.is_ipv6());
        assert_eq!(h.known_hosts_name(), "[::1]:2222");
        assert_eq!(h.address(), "[::1]:2222");
        assert!(h.address().parse::<std::net::SocketAddr>().is_ok());
    }
}
