//! Expansions in config values, as OpenSSH does them: `%` tokens
//! (`percent_expand`), `${VAR}` environment variables (`dollar_expand`) and
//! `~` / `~user` at the start of a path (`tilde_expand`). Each keyword has
//! its own token set (see [`Tokens`]); an unknown token is an error, as in
//! OpenSSH, never left as is.

use std::path::PathBuf;

use sha1::{Digest, Sha1};

/// What the local side contributes to expansions and to `Match`.
#[derive(Debug, Clone)]
pub(crate) struct Local {
    /// Login name (`%u`, `Match localuser`, the default remote user).
    pub user: String,
    /// Home directory from the password database (`~`, `%d`).
    pub home: PathBuf,
    /// Home directory used by `Include` globs (`$HOME`, as glob(3) does).
    pub glob_home: PathBuf,
    /// Numeric user id (`%i`).
    pub uid: u32,
    /// This host's name (`%l`; `%L` is up to the first dot).
    pub hostname: String,
}

impl Local {
    /// The current user, as OpenSSH finds it (`getpwuid(getuid())`), with
    /// `$USER`/`$HOME` as fallbacks when the password database has no entry.
    pub fn current() -> Local {
        let uid = nix::unistd::getuid();
        let pw = nix::unistd::User::from_uid(uid).ok().flatten();
        let env = |v: &str| std::env::var(v).ok().filter(|s| !s.is_empty());
        let user = pw
            .as_ref()
            .map(|p| p.name.clone())
            .or_else(|| env("USER"))
            .or_else(|| env("LOGNAME"))
            .unwrap_or_else(|| uid.to_string());
        let home = pw
            .as_ref()
            .map(|p| p.dir.clone())
            .or_else(|| env("HOME").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("/"));
        let glob_home = env("HOME").map_or_else(|| home.clone(), PathBuf::from);
        let hostname = nix::unistd::gethostname()
            .ok()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default();
        Local {
            user,
            home,
            glob_home,
            uid: uid.as_raw(),
            hostname,
        }
    }

    /// `%L`: the local host name up to the first dot.
    fn short_hostname(&self) -> &str {
        self.hostname.split('.').next().unwrap_or("")
    }
}

/// The connection a value is expanded for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Conn<'a> {
    /// The host name as given (`%n`).
    pub host_arg: &'a str,
    /// The host name connected to (`%h`).
    pub host: &'a str,
    /// The port (`%p`).
    pub port: u16,
    /// The remote user (`%r`).
    pub user: &'a str,
    /// HostKeyAlias if any (`%k`, else the host as given).
    pub key_alias: Option<&'a str>,
}

/// Which tokens a keyword accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tokens {
    /// `HostName`: `%h` (the name as given) and `%%`.
    HostName,
    /// `ProxyCommand`: `%h %k %n %p %r %%`.
    ProxyCommand,
    /// `Match exec`: the client set without `%k` of the final alias.
    MatchExec,
    /// `IdentityFile`, `CertificateFile`, `UserKnownHostsFile`: OpenSSH's
    /// default client set `%C %L %i %k %l %n %p %d %h %r %u %%`.
    Client,
}

/// `%C`: SHA-1 of local host name, host, port and user, in hex.
pub(crate) fn connection_hash(local: &Local, host: &str, port: u16, user: &str) -> String {
    let mut h = Sha1::new();
    h.update(local.hostname.as_bytes());
    h.update(host.as_bytes());
    h.update(port.to_string().as_bytes());
    h.update(user.as_bytes());
    data_encoding::HEXLOWER.encode(&h.finalize())
}

/// The replacement of token `c`, if the set has it.
fn token(c: char, set: Tokens, local: &Local, conn: &Conn<'_>) -> Option<String> {
    let key_alias = || conn.key_alias.unwrap_or(conn.host_arg).to_string();
    match (set, c) {
        (Tokens::HostName, 'h') => Some(conn.host_arg.to_string()),
        (Tokens::HostName, _) => None,
        (Tokens::ProxyCommand, 'h') => Some(conn.host.to_string()),
        (Tokens::ProxyCommand, 'k') => Some(key_alias()),
        (Tokens::ProxyCommand, 'n') => Some(conn.host_arg.to_string()),
        (Tokens::ProxyCommand, 'p') => Some(conn.port.to_string()),
        (Tokens::ProxyCommand, 'r') => Some(conn.user.to_string()),
        (Tokens::ProxyCommand, _) => None,
        (_, 'C') => Some(connection_hash(local, conn.host, conn.port, conn.user)),
        (_, 'L') => Some(local.short_hostname().to_string()),
        (_, 'd') => Some(local.home.to_string_lossy().into_owned()),
        (_, 'h') => Some(conn.host.to_string()),
        (_, 'i') => Some(local.uid.to_string()),
        (_, 'k') => Some(match set {
            // Match exec: the alias so far, else the host being matched
            Tokens::MatchExec => conn.key_alias.unwrap_or(conn.host).to_string(),
            _ => key_alias(),
        }),
        (_, 'l') => Some(local.hostname.clone()),
        (_, 'n') => Some(conn.host_arg.to_string()),
        (_, 'p') => Some(conn.port.to_string()),
        (_, 'r') => Some(conn.user.to_string()),
        (_, 'u') => Some(local.user.clone()),
        _ => None,
    }
}

/// Expands `%` tokens of `set` and, with `dollar`, `${VAR}` references.
pub(crate) fn expand(
    text: &str,
    set: Tokens,
    dollar: bool,
    local: &Local,
    conn: &Conn<'_>,
) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(['%', '$']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(var) = tail.strip_prefix("${").filter(|_| dollar) {
            let end = var
                .find('}')
                .ok_or_else(|| format!("environment variable `{tail}` has no closing `}}`"))?;
            let name = &var[..end];
            if name.is_empty() {
                return Err("empty environment variable name `${}`".into());
            }
            let value = std::env::var(name)
                .map_err(|_| format!("environment variable ${{{name}}} has no value"))?;
            out.push_str(&value);
            rest = &var[end + 1..];
            continue;
        }
        if let Some(after) = tail.strip_prefix('$') {
            out.push('$');
            rest = after;
            continue;
        }
        // a `%` token
        let mut chars = tail[1..].chars();
        match chars.next() {
            None => return Err(format!("`%` at the end of `{text}`")),
            Some('%') => out.push('%'),
            Some(c) => match token(c, set, local, conn) {
                Some(v) => out.push_str(&v),
                None => return Err(format!("unknown token %{c} in `{text}`")),
            },
        }
        rest = chars.as_str();
    }
    out.push_str(rest);
    Ok(out)
}

/// `~` or `~/path` (this user's home), `~user/path` (that user's home).
pub(crate) fn tilde(path: &str, home: &std::path::Path) -> Result<String, String> {
    let Some(after) = path.strip_prefix('~') else {
        return Ok(path.to_string());
    };
    let (user, rest) = match after.find('/') {
        Some(i) => (&after[..i], after[i..].trim_start_matches('/')),
        None => (after, ""),
    };
    let dir = if user.is_empty() {
        home.to_path_buf()
    } else {
        nix::unistd::User::from_name(user)
            .ok()
            .flatten()
            .map(|u| u.dir)
            .ok_or_else(|| format!("`{path}`: no such user `{user}`"))?
    };
    let dir = dir.to_string_lossy();
    let sep = if dir.ends_with('/') { "" } else { "/" };
    Ok(format!("{dir}{sep}{rest}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local() -> Local {
        Local {
            user: "alice".into(),
            home: "/home/alice".into(),
            glob_home: "/home/alice".into(),
            uid: 1000,
            hostname: "laptop.example.org".into(),
        }
    }

    fn conn() -> Conn<'static> {
        Conn {
            host_arg: "web",
            host: "10.0.0.5",
            port: 2222,
            user: "deploy",
            key_alias: None,
        }
    }

    #[test]
    fn client_tokens_expand() {
        let e = expand(
            "%d/%u@%l:%L/%n-%h-%p-%r-%i-%k-%%",
            Tokens::Client,
            true,
            &local(),
            &conn(),
        )
        .unwrap();
        assert_eq!(
            e,
            "/home/alice/alice@laptop.example.org:laptop/web-10.0.0.5-2222-deploy-1000-web-%"
        );
        let c = expand("%C", Tokens::Client, false, &local(), &conn()).unwrap();
        assert_eq!(c.len(), 40);
    }

    #[test]
    fn each_keyword_has_its_own_tokens() {
        assert_eq!(
            expand("%h.lan", Tokens::HostName, false, &local(), &conn()).unwrap(),
            "web.lan"
        );
        assert!(expand("%p", Tokens::HostName, false, &local(), &conn())
            .unwrap_err()
            .contains("unknown token %p"));
        assert_eq!(
            expand(
                "ssh -W %h:%p -l %r %k",
                Tokens::ProxyCommand,
                false,
                &local(),
                &conn()
            )
            .unwrap(),
            "ssh -W 10.0.0.5:2222 -l deploy web"
        );
        assert!(expand("%d", Tokens::ProxyCommand, false, &local(), &conn()).is_err());
        assert!(expand("50%", Tokens::Client, false, &local(), &conn()).is_err());
    }

    #[test]
    fn environment_variables_expand_where_allowed() {
        let path = std::env::var("PATH").unwrap_or_default();
        let e = expand("${PATH}/$x", Tokens::Client, true, &local(), &conn());
        assert_eq!(e.unwrap(), format!("{path}/$x"));
        let kept = expand("${X}", Tokens::ProxyCommand, false, &local(), &conn());
        assert_eq!(kept.unwrap(), "${X}");
        assert!(expand(
            "${AJ_CONFIG_TOKENS_UNSET}",
            Tokens::Client,
            true,
            &local(),
            &conn()
        )
        .is_err());
        assert!(expand("${OPEN", Tokens::Client, true, &local(), &conn()).is_err());
    }

    #[test]
    fn tilde_expands_to_home() {
        let home = std::path::Path::new("/home/alice");
        assert_eq!(tilde("~/.ssh/id", home).unwrap(), "/home/alice/.ssh/id");
        assert_eq!(tilde("~", home).unwrap(), "/home/alice/");
        assert_eq!(tilde("~//x", home).unwrap(), "/home/alice/x");
        assert_eq!(tilde("/abs/~", home).unwrap(), "/abs/~");
        assert_eq!(tilde("~root/x", home).unwrap(), "/root/x");
        assert!(tilde("~no-such-user-aj/x", home).is_err());
    }
}
