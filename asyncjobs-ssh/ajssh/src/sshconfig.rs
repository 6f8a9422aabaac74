//! `~/.ssh/config`, read with the `ssh2-config` crate: what it says about a
//! host (HostName, User, Port, IdentityFile, ProxyJump, UserKnownHostsFile,
//! StrictHostKeyChecking, ConnectTimeout, KexAlgorithms). As in OpenSSH, the
//! first value obtained for a field wins and command-line values win over the
//! file. KexAlgorithms (and `--kex`) edit this client's default list, not
//! OpenSSH's: `^a` puts `a` first, `+a` appends, `-a` removes, `a,b` replaces.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ssh2_config::{DefaultAlgorithms, ParseRule, SshConfig};

/// Which config file to read (`-F`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// `~/.ssh/config` if it exists.
    Default,
    /// No config file (`-F none`).
    None,
    /// This file, which must exist.
    File(PathBuf),
}

impl ConfigSource {
    /// From the `-F` value.
    pub fn from_arg(arg: Option<&Path>) -> Self {
        match arg {
            None => ConfigSource::Default,
            Some(p) if p.as_os_str() == "none" => ConfigSource::None,
            Some(p) => ConfigSource::File(p.to_path_buf()),
        }
    }
}

/// A config file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("ssh config {path}: {message}")]
pub struct ConfigError {
    path: String,
    message: String,
}

/// What the config says about one host; `None` where it says nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostConfig {
    /// `HostName`: the real name to connect to.
    pub host_name: Option<String>,
    /// `User`.
    pub user: Option<String>,
    /// `Port`.
    pub port: Option<u16>,
    /// `IdentityFile` entries, `~` expanded.
    pub identity_files: Vec<PathBuf>,
    /// `ProxyJump` hops; `Some(empty)` for `ProxyJump none`.
    pub proxy_jump: Option<Vec<String>>,
    /// `UserKnownHostsFile` entries, `~` expanded.
    pub known_hosts_files: Vec<PathBuf>,
    /// `StrictHostKeyChecking`, lower-cased (`yes`, `no`, `accept-new`, `ask`, `off`).
    pub strict_host_key_checking: Option<String>,
    /// `ConnectTimeout`.
    pub connect_timeout: Option<Duration>,
    /// `KexAlgorithms`, applied to the default list (see [`kex_list`]).
    pub kex_algorithms: Option<Vec<String>>,
}

/// Key exchanges OpenSSH knows but this client does not implement. A list
/// written for OpenSSH may name them: they are left out, unless nothing else
/// remains (the connection then fails naming them).
const OPENSSH_ONLY_KEX: &[&str] = &[
    "sntrup761x25519-sha512",
    "sntrup761x25519-sha512@openssh.com",
];

/// The key exchange list a KexAlgorithms value gives (OpenSSH syntax: `^`,
/// `+`, `-` or a plain list), applied to the library's defaults as ssh2-config
/// does for the file. Repeats are left to the library (the first one counts).
pub fn kex_list(value: &str) -> Vec<String> {
    let defaults = || {
        asyncjobs_ssh::default_kex_algorithms()
            .into_iter()
            .map(str::to_string)
    };
    let names = |s: &str| -> Vec<String> { s.split(',').map(str::to_string).collect() };
    let list: Vec<String> = match value.chars().next() {
        Some('^') => names(&value[1..]).into_iter().chain(defaults()).collect(),
        Some('+') => defaults().chain(names(&value[1..])).collect(),
        Some('-') => {
            let removed = names(&value[1..]);
            defaults().filter(|a| !removed.contains(a)).collect()
        }
        _ => names(value),
    };
    without_openssh_only(&list)
}

/// `list` without empty names, and without [`OPENSSH_ONLY_KEX`] if others remain.
fn without_openssh_only(list: &[String]) -> Vec<String> {
    let named: Vec<String> = list
        .iter()
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect();
    let kept: Vec<String> = named
        .iter()
        .filter(|a| !OPENSSH_ONLY_KEX.contains(&a.as_str()))
        .cloned()
        .collect();
    if kept.is_empty() {
        named
    } else {
        kept
    }
}

/// What the rules of a config file apply to: OpenSSH's defaults, but the key
/// exchanges this client offers by default.
fn default_algorithms() -> DefaultAlgorithms {
    DefaultAlgorithms {
        kex_algorithms: asyncjobs_ssh::default_kex_algorithms()
            .into_iter()
            .map(str::to_string)
            .collect(),
        ..DefaultAlgorithms::default()
    }
}

/// A parsed config file (or none).
pub struct Config {
    parsed: Option<SshConfig>,
    home: Option<PathBuf>,
}

impl Config {
    /// Reads the config `source` designates.
    pub fn load(source: &ConfigSource) -> Result<Config, ConfigError> {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let path = match source {
            ConfigSource::None => return Ok(Config { parsed: None, home }),
            ConfigSource::File(p) => p.clone(),
            ConfigSource::Default => match &home {
                Some(h) if h.join(".ssh/config").is_file() => h.join(".ssh/config"),
                _ => return Ok(Config { parsed: None, home }),
            },
        };
        let err = |message: String| ConfigError {
            path: path.display().to_string(),
            message,
        };
        let file = std::fs::File::open(&path).map_err(|e| err(e.to_string()))?;
        let mut config = SshConfig::default().default_algorithms(default_algorithms());
        if let Some(h) = &home {
            config = config.home_dir(h);
        }
        let parsed = config
            .parse(
                &mut BufReader::new(file),
                ParseRule::ALLOW_UNKNOWN_FIELDS | ParseRule::ALLOW_UNSUPPORTED_FIELDS,
            )
            .map_err(|e| err(e.to_string()))?;
        Ok(Config {
            parsed: Some(parsed),
            home,
        })
    }

    /// Parses config text (tests).
    #[cfg(test)]
    pub fn from_text(text: &str, home: &Path) -> Config {
        let parsed = SshConfig::default()
            .default_algorithms(default_algorithms())
            .home_dir(home)
            .parse(
                &mut BufReader::new(text.as_bytes()),
                ParseRule::ALLOW_UNKNOWN_FIELDS | ParseRule::ALLOW_UNSUPPORTED_FIELDS,
            )
            .expect("test config parses");
        Config {
            parsed: Some(parsed),
            home: Some(home.to_path_buf()),
        }
    }

    /// What the config says about `alias` (the name as given on the command line).
    pub fn query(&self, alias: &str) -> HostConfig {
        let Some(parsed) = &self.parsed else {
            return HostConfig::default();
        };
        let p = parsed.query(alias);
        let unsupported = |name: &str| {
            p.unsupported_fields
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let proxy_jump = p.proxy_jump.map(|hops| {
            let hops: Vec<String> = hops
                .into_iter()
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
                .collect();
            if hops.len() == 1 && hops[0].eq_ignore_ascii_case("none") {
                Vec::new()
            } else {
                hops
            }
        });
        HostConfig {
            host_name: p.host_name,
            user: p.user,
            port: p.port,
            identity_files: p.identity_file.unwrap_or_default(),
            proxy_jump,
            known_hosts_files: unsupported("UserKnownHostsFile")
                .unwrap_or_default()
                .iter()
                .flat_map(|v| v.split_whitespace().map(str::to_string).collect::<Vec<_>>())
                .filter(|f| f != "none" && f != "/dev/null")
                .map(|f| self.expand_tilde(&f))
                .collect(),
            strict_host_key_checking: unsupported("StrictHostKeyChecking")
                .and_then(|v| v.first().map(|s| s.to_ascii_lowercase())),
            connect_timeout: p.connect_timeout,
            kex_algorithms: (!p.kex_algorithms.is_default())
                .then(|| without_openssh_only(p.kex_algorithms.algorithms())),
        }
    }

    fn expand_tilde(&self, path: &str) -> PathBuf {
        match (path.strip_prefix("~/"), &self.home) {
            (Some(rest), Some(home)) => home.join(rest),
            _ => PathBuf::from(path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "\
Host web
    HostName 10.1.2.3
    User deploy
    Port 2200
    IdentityFile ~/.ssh/web_key
    ProxyJump admin@bastion:2222,inner
    UserKnownHostsFile ~/.ssh/kh_web
    StrictHostKeyChecking accept-new
    ConnectTimeout 7

Host direct
    ProxyJump none

Host fastkex
    KexAlgorithms ^ecdh-sha2-nistp256

Host hardened
    KexAlgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256

Host *
    User fallback
";

    fn config() -> Config {
        Config::from_text(CONFIG, Path::new("/home/alice"))
    }

    #[test]
    fn host_fields_are_read_and_tilde_expanded() {
        let c = config().query("web");
        assert_eq!(c.host_name.as_deref(), Some("10.1.2.3"));
        assert_eq!(c.user.as_deref(), Some("deploy"));
        assert_eq!(c.port, Some(2200));
        assert_eq!(
            c.identity_files,
            [PathBuf::from("/home/alice/.ssh/web_key")]
        );
        assert_eq!(
            c.proxy_jump,
            Some(vec!["admin@bastion:2222".to_string(), "inner".to_string()])
        );
        assert_eq!(
            c.known_hosts_files,
            [PathBuf::from("/home/alice/.ssh/kh_web")]
        );
        assert_eq!(c.strict_host_key_checking.as_deref(), Some("accept-new"));
        assert_eq!(c.connect_timeout, Some(Duration::from_secs(7)));
    }

    #[test]
    fn wildcard_sections_fill_what_is_missing() {
        let c = config().query("other");
        assert_eq!(c.user.as_deref(), Some("fallback"));
        assert_eq!(c.host_name, None);
        assert_eq!(c.port, None);
    }

    #[test]
    fn proxy_jump_none_means_direct() {
        assert_eq!(config().query("direct").proxy_jump, Some(vec![]));
    }

    #[test]
    fn kex_algorithms_edit_the_client_defaults() {
        let defaults: Vec<String> = asyncjobs_ssh::default_kex_algorithms()
            .into_iter()
            .map(str::to_string)
            .collect();
        let fast = config().query("fastkex").kex_algorithms.unwrap();
        assert_eq!(fast[0], "ecdh-sha2-nistp256");
        assert_eq!(fast[1..], defaults[..]);
        assert_eq!(
            config().query("hardened").kex_algorithms.unwrap(),
            ["curve25519-sha256"],
            "names only OpenSSH implements are left out"
        );
        assert_eq!(config().query("web").kex_algorithms, None);
    }

    #[test]
    fn kex_list_follows_openssh_syntax() {
        let defaults = asyncjobs_ssh::default_kex_algorithms();
        assert_eq!(
            kex_list("ecdh-sha2-nistp256,curve25519-sha256"),
            ["ecdh-sha2-nistp256", "curve25519-sha256"]
        );
        assert_eq!(kex_list("^ecdh-sha2-nistp256")[1..], defaults[..]);
        let appended = kex_list("+ecdh-sha2-nistp521");
        assert_eq!(appended.last().unwrap(), "ecdh-sha2-nistp521");
        assert_eq!(appended.len(), defaults.len() + 1);
        let removed = kex_list("-mlkem768x25519-sha256");
        assert_eq!(removed[0], "curve25519-sha256");
        assert_eq!(
            kex_list("sntrup761x25519-sha512"),
            ["sntrup761x25519-sha512"],
            "kept when alone, so that the error names it"
        );
        assert!(kex_list(" , ").is_empty());
    }

    #[test]
    fn no_config_says_nothing() {
        let c = Config::load(&ConfigSource::None).unwrap();
        assert_eq!(c.query("web"), HostConfig::default());
    }

    #[test]
    fn a_missing_config_file_is_an_error_naming_it() {
        let e = Config::load(&ConfigSource::File("/nonexistent/ajssh-config".into()))
            .err()
            .unwrap();
        assert!(
            e.to_string()
                .starts_with("ssh config /nonexistent/ajssh-config:"),
            "{e}"
        );
    }
}
