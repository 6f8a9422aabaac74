//! Every keyword OpenSSH's client accepts (9.2, with Debian's GSSAPI
//! additions), and what this crate does with it: act on it, ignore it
//! (harmless here), or report it when it is in effect for a host — a warning
//! when ignoring it cannot weaken security (the feature is simply not
//! used), an error when it would change where or how securely we connect.

/// The keywords acted upon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    HostName,
    Port,
    User,
    IdentityFile,
    IdentitiesOnly,
    CertificateFile,
    ProxyJump,
    ProxyCommand,
    HostKeyAlias,
    UserKnownHostsFile,
    GlobalKnownHostsFile,
    StrictHostKeyChecking,
    ConnectTimeout,
    ServerAliveInterval,
    ServerAliveCountMax,
    KexAlgorithms,
    IgnoreUnknown,
    AddressFamily,
    HashKnownHosts,
    IdentityAgent,
}

/// The argument syntax of a keyword we do not act on, checked as OpenSSH
/// checks it (a bad value is an error even in a block that does not apply).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Syntax {
    /// `yes`, `no`, `true` or `false`.
    Flag,
    /// One of these words (case-insensitive).
    Choice(&'static [&'static str]),
    /// Exactly one argument.
    One,
    /// One or two arguments.
    OneOrTwo,
    /// A time (`convtime`) or `none`.
    Time,
    /// An integer.
    Int,
    /// The rest of the line, unparsed (a command).
    Rest,
    /// One or more arguments.
    List,
    /// Anything (deprecated keywords).
    Any,
}

/// What to do with a keyword we do not act on, when it applies to a host.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Report {
    /// Harmless here: ignored.
    Ignore,
    /// Not implemented, and ignoring it cannot weaken security: a warning
    /// unless its value is one of `inert` (which does nothing anyway).
    Warn {
        inert: &'static [&'static str],
        why: &'static str,
    },
    /// Not implemented, and ignoring it would change where or how securely
    /// we connect: an error unless its value is one of `inert`.
    Refuse {
        inert: &'static [&'static str],
        why: &'static str,
    },
}

/// What a keyword is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Host,
    Match,
    Include,
    Set(Key),
    Other {
        syntax: Syntax,
        report: Report,
        /// Every occurrence counts (forwardings), not only the first.
        accumulates: bool,
    },
}

const FLAG_NO: &[&str] = &["no", "false"];
const NONE: &[&str] = &["none"];

const fn ignore(syntax: Syntax) -> Kind {
    Kind::Other {
        syntax,
        report: Report::Ignore,
        accumulates: false,
    }
}

const fn warn(syntax: Syntax, inert: &'static [&'static str], why: &'static str) -> Kind {
    Kind::Other {
        syntax,
        report: Report::Warn { inert, why },
        accumulates: false,
    }
}

const fn warn_each(syntax: Syntax, why: &'static str) -> Kind {
    Kind::Other {
        syntax,
        report: Report::Warn { inert: &[], why },
        accumulates: true,
    }
}

const fn refuse(syntax: Syntax, inert: &'static [&'static str], why: &'static str) -> Kind {
    Kind::Other {
        syntax,
        report: Report::Refuse { inert, why },
        accumulates: false,
    }
}

use Syntax::*;

const YES_NO_ASK: Syntax = Choice(&["yes", "no", "true", "false", "ask"]);

/// The keyword table, by lower-case name.
const KEYWORDS: &[(&str, Kind)] = &[
    ("host", Kind::Host),
    ("match", Kind::Match),
    ("include", Kind::Include),
    ("hostname", Kind::Set(Key::HostName)),
    ("port", Kind::Set(Key::Port)),
    ("user", Kind::Set(Key::User)),
    ("identityfile", Kind::Set(Key::IdentityFile)),
    ("identityfile2", Kind::Set(Key::IdentityFile)),
    ("identitiesonly", Kind::Set(Key::IdentitiesOnly)),
    ("certificatefile", Kind::Set(Key::CertificateFile)),
    ("proxyjump", Kind::Set(Key::ProxyJump)),
    ("proxycommand", Kind::Set(Key::ProxyCommand)),
    ("hostkeyalias", Kind::Set(Key::HostKeyAlias)),
    ("userknownhostsfile", Kind::Set(Key::UserKnownHostsFile)),
    ("globalknownhostsfile", Kind::Set(Key::GlobalKnownHostsFile)),
    (
        "stricthostkeychecking",
        Kind::Set(Key::StrictHostKeyChecking),
    ),
    ("connecttimeout", Kind::Set(Key::ConnectTimeout)),
    ("serveraliveinterval", Kind::Set(Key::ServerAliveInterval)),
    ("serveralivecountmax", Kind::Set(Key::ServerAliveCountMax)),
    ("kexalgorithms", Kind::Set(Key::KexAlgorithms)),
    ("ignoreunknown", Kind::Set(Key::IgnoreUnknown)),
    ("addressfamily", Kind::Set(Key::AddressFamily)),
    ("hashknownhosts", Kind::Set(Key::HashKnownHosts)),
    ("identityagent", Kind::Set(Key::IdentityAgent)),
    // deprecated or unsupported by OpenSSH itself: ignored there too
    ("protocol", ignore(Any)),
    ("cipher", ignore(Any)),
    ("fallbacktorsh", ignore(Any)),
    ("globalknownhostsfile2", ignore(Any)),
    ("rhostsauthentication", ignore(Any)),
    ("userknownhostsfile2", ignore(Any)),
    ("useroaming", ignore(Any)),
    ("usersh", ignore(Any)),
    ("useprivilegedport", ignore(Any)),
    ("afstokenpassing", ignore(Any)),
    ("kerberosauthentication", ignore(Any)),
    ("kerberostgtpassing", ignore(Any)),
    ("rsaauthentication", ignore(Any)),
    ("rhostsrsaauthentication", ignore(Any)),
    ("compressionlevel", ignore(Any)),
    // authentication methods other than public keys are never used
    ("gssapiauthentication", ignore(Flag)),
    ("gssapidelegatecredentials", ignore(Flag)),
    ("gssapikeyexchange", ignore(Flag)),
    ("gssapitrustdns", ignore(Flag)),
    ("gssapirenewalforcesrekey", ignore(Flag)),
    ("gssapiclientidentity", ignore(One)),
    ("gssapiserveridentity", ignore(One)),
    ("gssapikexalgorithms", ignore(One)),
    ("passwordauthentication", ignore(Flag)),
    ("kbdinteractiveauthentication", ignore(Flag)),
    ("challengeresponseauthentication", ignore(Flag)),
    ("skeyauthentication", ignore(Flag)),
    ("tisauthentication", ignore(Flag)),
    ("kbdinteractivedevices", ignore(One)),
    ("hostbasedauthentication", ignore(Flag)),
    ("enablesshkeysign", ignore(Flag)),
    ("preferredauthentications", ignore(One)),
    ("numberofpasswordprompts", ignore(Int)),
    ("batchmode", ignore(Flag)),
    (
        "pubkeyauthentication",
        ignore(Choice(&[
            "yes",
            "no",
            "true",
            "false",
            "unbound",
            "host-bound",
        ])),
    ),
    (
        "dsaauthentication",
        ignore(Choice(&[
            "yes",
            "no",
            "true",
            "false",
            "unbound",
            "host-bound",
        ])),
    ),
    ("addkeystoagent", ignore(Any)),
    ("securitykeyprovider", ignore(One)),
    ("hostbasedacceptedalgorithms", ignore(One)),
    ("hostbasedkeytypes", ignore(One)),
    ("pubkeyacceptedalgorithms", ignore(One)),
    ("pubkeyacceptedkeytypes", ignore(One)),
    ("casignaturealgorithms", ignore(One)),
    ("requiredrsasize", ignore(Int)),
    // host keys: checking less than asked would be a hole; more is harmless
    (
        "revokedhostkeys",
        refuse(One, NONE, "revoked host key lists are not read"),
    ),
    (
        "knownhostscommand",
        refuse(Rest, NONE, "host keys from a command are not supported"),
    ),
    (
        "checkhostip",
        warn(
            Flag,
            FLAG_NO,
            "the host's IP address is not checked against known_hosts",
        ),
    ),
    ("verifyhostkeydns", ignore(YES_NO_ASK)),
    ("updatehostkeys", ignore(YES_NO_ASK)),
    ("nohostauthenticationforlocalhost", ignore(Flag)),
    ("visualhostkey", ignore(Flag)),
    ("fingerprinthash", ignore(One)),
    (
        "hostkeyalgorithms",
        warn(One, &[], "host key algorithms are the library's"),
    ),
    // algorithms
    ("ciphers", warn(One, &[], "ciphers are the library's")),
    ("macs", warn(One, &[], "MACs are the library's")),
    ("rekeylimit", ignore(Any)),
    ("compression", ignore(Flag)),
    // where and how to connect
    (
        "bindaddress",
        refuse(One, &[], "choosing the local address is not supported"),
    ),
    (
        "bindinterface",
        refuse(One, &[], "choosing the local interface is not supported"),
    ),
    (
        "canonicalizehostname",
        refuse(
            Choice(&["yes", "no", "true", "false", "always"]),
            FLAG_NO,
            "host name canonicalisation is not supported",
        ),
    ),
    (
        "canonicalizepermittedcnames",
        refuse(List, NONE, "following CNAMEs is not supported"),
    ),
    ("canonicaldomains", ignore(List)),
    ("canonicalizefallbacklocal", ignore(Flag)),
    ("canonicalizemaxdots", ignore(Int)),
    (
        "proxyusefdpass",
        refuse(
            Flag,
            FLAG_NO,
            "ProxyCommand descriptor passing is not supported",
        ),
    ),
    (
        "pkcs11provider",
        refuse(One, NONE, "PKCS#11 tokens are not supported"),
    ),
    (
        "smartcarddevice",
        refuse(One, NONE, "PKCS#11 tokens are not supported"),
    ),
    ("connectionattempts", ignore(Int)),
    ("tcpkeepalive", ignore(Flag)),
    ("keepalive", ignore(Flag)),
    ("ipqos", ignore(Any)),
    // sessions, forwardings, multiplexing: not done by this crate
    (
        "forwardagent",
        warn(One, FLAG_NO, "the agent is not forwarded"),
    ),
    (
        "forwardx11",
        warn(
            Flag,
            FLAG_NO,
            "X11 is forwarded per command (Run::x11), not from the ssh config",
        ),
    ),
    ("forwardx11trusted", ignore(Flag)),
    ("forwardx11timeout", ignore(Time)),
    ("xauthlocation", ignore(One)),
    (
        "localforward",
        warn_each(OneOrTwo, "ports are not forwarded"),
    ),
    (
        "remoteforward",
        warn_each(OneOrTwo, "ports are not forwarded"),
    ),
    ("dynamicforward", warn_each(One, "ports are not forwarded")),
    ("gatewayports", ignore(Flag)),
    ("exitonforwardfailure", ignore(Flag)),
    ("clearallforwardings", ignore(Flag)),
    ("permitremoteopen", ignore(List)),
    ("streamlocalbindmask", ignore(One)),
    ("streamlocalbindunlink", ignore(Flag)),
    (
        "tunnel",
        warn(
            Choice(&["yes", "no", "true", "false", "point-to-point", "ethernet"]),
            FLAG_NO,
            "tun devices are not forwarded",
        ),
    ),
    ("tunneldevice", ignore(One)),
    (
        "controlmaster",
        warn(
            Choice(&["yes", "no", "true", "false", "ask", "auto", "autoask"]),
            FLAG_NO,
            "connections are not shared with other ssh processes",
        ),
    ),
    (
        "controlpath",
        warn(
            One,
            NONE,
            "connections are not shared with other ssh processes",
        ),
    ),
    (
        "controlpersist",
        warn(
            One,
            FLAG_NO,
            "connections are not shared with other ssh processes",
        ),
    ),
    (
        "remotecommand",
        warn(
            Rest,
            NONE,
            "the commands run are the ones given to this program",
        ),
    ),
    ("localcommand", ignore(Rest)),
    (
        "permitlocalcommand",
        warn(Flag, FLAG_NO, "LocalCommand is not run"),
    ),
    (
        "sessiontype",
        warn(
            Choice(&["none", "subsystem", "default"]),
            &["default"],
            "the sessions opened are the ones the commands need",
        ),
    ),
    (
        "requesttty",
        ignore(Choice(&["yes", "no", "true", "false", "force", "auto"])),
    ),
    ("stdinnull", ignore(Flag)),
    ("forkafterauthentication", ignore(Flag)),
    ("escapechar", ignore(One)),
    ("enableescapecommandline", ignore(Flag)),
    ("sendenv", ignore(List)),
    (
        "setenv",
        warn(List, &[], "environment variables are not sent"),
    ),
    ("loglevel", ignore(One)),
    ("logverbose", ignore(List)),
    ("syslogfacility", ignore(One)),
];

/// The kind of a lower-case keyword; `None` for a keyword OpenSSH does not know.
pub(crate) fn lookup(keyword: &str) -> Option<Kind> {
    KEYWORDS
        .iter()
        .find(|(name, _)| *name == keyword)
        .map(|(_, kind)| *kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_lower_case_and_listed_once() {
        let mut names: Vec<&str> = KEYWORDS.iter().map(|(n, _)| *n).collect();
        for n in &names {
            assert_eq!(*n, n.to_ascii_lowercase());
        }
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
    }

    #[test]
    fn keywords_are_classified() {
        assert!(matches!(
            lookup("identityfile2"),
            Some(Kind::Set(Key::IdentityFile))
        ));
        assert!(lookup("usekeychain").is_none());
        assert!(matches!(lookup("controlmaster"), Some(Kind::Other { .. })));
    }
}
