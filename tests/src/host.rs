//! One loopback SSH target.

/// A loopback address where one of the testbed's sshd processes listens.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Host {
    /// IPv4 loopback address, e.g. `127.101.3.7`.
    pub ip: String,
    /// TCP port, e.g. `40123`.
    pub port: u16,
}

impl Host {
    /// The name OpenSSH uses for this host in `known_hosts`: `[ip]:port`.
    pub fn known_hosts_name(&self) -> String {
        format!("[{}]:{}", self.ip, self.port)
    }

    /// `ip:port`, the form `connect` and `TcpStream::connect` accept.
    pub fn address(&self) -> String {
        format!("{}:{}", self.ip, self.port)
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
    }
}
