//! Unit tests of the resolver: each one a rule of OpenSSH's `readconf.c`
//! (the integration tests compare whole files with the real `ssh -G`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::tokens::Local;
use super::*;

fn local(home: &Path) -> Local {
    Local {
        user: "alice".into(),
        home: home.to_path_buf(),
        glob_home: home.to_path_buf(),
        uid: nix::unistd::getuid().as_raw(),
        hostname: "laptop.example.org".into(),
    }
}

fn config(text: &str) -> SshConfig {
    SshConfig::for_test(text, local(Path::new("/home/alice")))
        .unwrap_or_else(|e| panic!("config does not load: {e}\n{text}"))
}

fn error(text: &str) -> String {
    match SshConfig::for_test(text, local(Path::new("/home/alice"))) {
        Ok(_) => panic!("config loads:\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn resolve(text: &str, host: &str) -> HostConfig {
    config(text)
        .resolve(host)
        .unwrap_or_else(|e| panic!("{host} does not resolve: {e}"))
}

#[test]
fn a_match_block_never_lends_its_settings_to_the_host_block_before_it() {
    // issue 10's repro: ssh2-config read these two settings as 127.0.0.*'s
    let text = "Host 127.0.0.*\n  Port 2222\n\
                Match host some-other-vm\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n";
    let c = resolve(text, "127.0.0.5");
    assert_eq!(c.port, 2222);
    assert_eq!(c.strict_host_key_checking, StrictHostKeyChecking::Ask);
    assert_eq!(
        c.strict_host_key_checking.policy(),
        crate::HostKeyPolicy::Strict
    );
    assert_eq!(
        c.user_known_hosts_files,
        [
            PathBuf::from("/home/alice/.ssh/known_hosts"),
            PathBuf::from("/home/alice/.ssh/known_hosts2")
        ]
    );
    let other = resolve(text, "some-other-vm");
    assert_eq!(other.strict_host_key_checking, StrictHostKeyChecking::No);
    assert_eq!(other.user_known_hosts_files, [PathBuf::from("/dev/null")]);
}

#[test]
fn the_first_value_wins_and_key_files_accumulate_once() {
    let text = "Host web\n  User deploy\n  IdentityFile ~/.ssh/web\n  IdentityFile ~/.ssh/web\n\
                Host *\n  User fallback\n  Port 2200\n  IdentityFile ~/.ssh/all\n  CertificateFile ~/.ssh/c\n";
    let c = resolve(text, "web");
    assert_eq!((c.user.as_str(), c.port), ("deploy", 2200));
    assert_eq!(
        c.identity_files,
        [
            PathBuf::from("/home/alice/.ssh/web"),
            PathBuf::from("/home/alice/.ssh/all")
        ]
    );
    assert_eq!(c.certificate_files, [PathBuf::from("/home/alice/.ssh/c")]);
    let other = resolve(text, "db");
    assert_eq!(other.user, "fallback");
    assert_eq!(resolve("", "db").user, "alice", "the local user by default");
}

#[test]
fn host_patterns_take_wildcards_and_negations_case_sensitively() {
    let text = "Host web?? !web13 *.lab\n  User a\nHost *\n  User b\n";
    assert_eq!(resolve(text, "web12").user, "a");
    assert_eq!(resolve(text, "web13").user, "b");
    assert_eq!(resolve(text, "x.lab").user, "a");
    assert_eq!(
        resolve(text, "WEB12").user,
        "b",
        "Host patterns are case-sensitive"
    );
    assert_eq!(
        resolve(text, "WEB12").hostname,
        "web12",
        "host names are lower-cased"
    );
    assert_eq!(resolve(text, "10.0.0.1").hostname, "10.0.0.1");
}

#[test]
fn match_host_sees_the_host_name_and_originalhost_the_alias() {
    let text = "Host web\n  HostName 10.1.1.1\n\
                Match host 10.1.1.1\n  User by-address\n\
                Match originalhost web\n  Port 2022\n";
    let c = resolve(text, "web");
    assert_eq!(
        (c.user.as_str(), c.port, c.hostname.as_str()),
        ("by-address", 2022, "10.1.1.1")
    );
    let text = "Host *.lan\n  HostName %h.example.org\nMatch host *.example.org\n  User ok\n";
    let c = resolve(text, "db.lan");
    assert_eq!(
        (c.hostname.as_str(), c.user.as_str()),
        ("db.lan.example.org", "ok")
    );
}

#[test]
fn match_user_sees_the_user_so_far_and_the_command_line() {
    let text = "Match user root\n  Port 2201\nMatch localuser alice\n  IdentitiesOnly yes\n";
    let c = config(text);
    assert_eq!(c.resolve("h").unwrap().port, 22);
    assert!(c.resolve("h").unwrap().identities_only);
    let root = c.resolve_with("h", &Overrides::new().user("root")).unwrap();
    assert_eq!(root.port, 2201);
}

#[test]
fn match_exec_runs_with_tokens_and_only_when_needed() {
    let text = "Match exec \"test %h = web && test %p = 2222 && test %n = web\"\n  User ran\n";
    let c = config(text);
    assert_eq!(
        c.resolve_with("web", &Overrides::new().port(2222))
            .unwrap()
            .user,
        "ran"
    );
    assert_eq!(c.resolve("web").unwrap().user, "alice");
    let e = config("Match exec \"exit %z\"\n  User x\n")
        .resolve("h")
        .unwrap_err();
    assert!(e.to_string().contains("cfg:1: unknown token %z"), "{e}");
}

#[test]
fn match_final_and_canonical_apply_in_a_second_pass_on_the_final_name() {
    let text = "Host alias\n  HostName Real.Example\n\
                Host real.example\n  Port 2300\n\
                Match final host real.example\n  User last\n\
                Match !canonical\n  IdentitiesOnly yes\n";
    let c = resolve(text, "alias");
    assert_eq!(
        (c.port, c.user.as_str()),
        (2300, "last"),
        "Host lines see the final name too"
    );
    assert!(c.identities_only, "the first pass is not canonical");
    let without_final = resolve(
        "Host real.example\n  Port 2300\nHost alias\n  HostName real.example\n",
        "alias",
    );
    assert_eq!(without_final.port, 22, "one pass without Match final");
}

#[test]
fn unsupported_match_criteria_and_unknown_keywords_are_errors_naming_the_line() {
    let e = error("Host a\n  User b\nMatch localnetwork 10.0.0.0/8\n  User c\n");
    assert!(
        e.starts_with("cfg:3: bad Match condition: unsupported Match criterion `localnetwork`"),
        "{e}"
    );
    let c = config("Host x\n  UseKeychain yes\n");
    let e = c.resolve("anything").unwrap_err().to_string();
    assert!(
        e.starts_with("cfg:2: bad configuration option: usekeychain"),
        "{e}"
    );
    let ok = config("IgnoreUnknown UseKeychain,AddKeys*\nHost x\n  UseKeychain yes\n");
    assert!(ok.resolve("x").is_ok());
    for (text, want) in [
        ("Port 0\n", "cfg:1: bad port `0`"),
        ("Port\n", "cfg:1: no argument after keyword \"port\""),
        (
            "StrictHostKeyChecking maybe\n",
            "unsupported option \"maybe\"",
        ),
        (
            "Host x\n  User a b\n",
            "cfg:2: keyword user extra arguments",
        ),
        ("Compression perhaps\n", "cfg:1: unsupported option"),
        ("ConnectTimeout 5x\n", "invalid time value"),
        (
            "KexAlgorithms curve25519-sha256,nonesuch\n",
            "unknown algorithm `nonesuch`",
        ),
        (
            "UserKnownHostsFile a none\n",
            "\"none\" argument must appear alone",
        ),
        ("ProxyJump a:b:c\n", "cfg:1: invalid ProxyJump"),
        ("Host \"\"\n", "empty argument"),
        ("User \"bob\n", "invalid quotes"),
    ] {
        let e = error(text);
        assert!(e.contains(want), "{text:?}: {e}");
    }
}

#[test]
fn bad_values_are_errors_even_where_they_do_not_apply() {
    let e = error("Host never\n  Port many\n");
    assert!(e.starts_with("cfg:2: bad port"), "{e}");
}

#[test]
fn unsupported_settings_are_errors_only_where_they_apply() {
    let text = "Host canon\n  CanonicalizeHostname yes\nHost bound\n  BindAddress 10.0.0.1\n\
                Host off\n  CanonicalizeHostname no\nHost agent\n  IdentityAgent ~/.1password/agent.sock\n";
    let c = config(text);
    for host in ["canon", "bound", "agent"] {
        let e = c.resolve(host).unwrap_err();
        assert!(
            matches!(e, ConfigError::Unsupported { host: ref h, .. } if h == host),
            "{host}: {e}"
        );
        assert!(e.to_string().contains("applies to"), "{e}");
    }
    assert!(c.resolve("off").is_ok());
    assert!(c.resolve("elsewhere").is_ok());
}

#[test]
fn settings_safe_to_skip_are_warnings() {
    let text = "Host fw\n  LocalForward 8080 localhost:80\n  ControlMaster auto\n  ControlPath ~/.ssh/cm-%r@%h:%p\n\
                Host *\n  ControlMaster no\n  ForwardAgent no\n  SendEnv LANG\n";
    let c = resolve(text, "fw");
    let kinds: Vec<&str> = c.warnings.iter().map(|w| w.keyword.as_str()).collect();
    assert_eq!(kinds, ["LocalForward", "ControlMaster", "ControlPath"]);
    assert_eq!(c.warnings[0].line, 2);
    assert!(c.warnings[0]
        .to_string()
        .starts_with("cfg:2: `LocalForward 8080` ignored: ports are not forwarded"));
    assert!(
        resolve(text, "other").warnings.is_empty(),
        "`no` and SendEnv are silent"
    );
}

#[test]
fn tokens_and_tilde_expand_where_openssh_expands_them() {
    let text = "Host web\n  HostName 10.0.0.5\n  User deploy\n  Port 2222\n\
                  IdentityFile ~/.ssh/%n-%r@%h:%p\n  UserKnownHostsFile ~/kh/%h %d/kh2\n\
                  ProxyCommand ssh -W %h:%p -l %r gw-%n # %%\n";
    let c = resolve(text, "web");
    assert_eq!(
        c.identity_files,
        [PathBuf::from("/home/alice/.ssh/web-deploy@10.0.0.5:2222")]
    );
    assert_eq!(
        c.user_known_hosts_files,
        [
            PathBuf::from("/home/alice/kh/10.0.0.5"),
            PathBuf::from("/home/alice/kh2")
        ]
    );
    assert_eq!(
        c.proxy,
        Proxy::Command("ssh -W 10.0.0.5:2222 -l deploy gw-web # %".into())
    );
    let g = c.ssh_g();
    assert!(g.contains("identityfile ~/.ssh/%n-%r@%h:%p\n"), "{g}");
    assert!(
        g.contains("proxycommand ssh -W %h:%p -l %r gw-%n # %%\n"),
        "{g}"
    );
}

#[test]
fn proxy_jump_and_proxy_command_first_one_wins() {
    let c = resolve(
        "Host a\n  ProxyJump gw\nHost *\n  ProxyCommand nc %h %p\n",
        "a",
    );
    assert_eq!(c.proxy, Proxy::Jump(vec![JumpHop::parse("gw").unwrap()]));
    let c = resolve(
        "Host a\n  ProxyCommand nc %h %p\nHost *\n  ProxyJump gw\n",
        "a",
    );
    assert_eq!(c.proxy, Proxy::Command("nc a 22".into()));
    let c = resolve("Host a\n  ProxyJump none\nHost *\n  ProxyJump gw\n", "a");
    assert_eq!(c.proxy, Proxy::Direct);
    let c = resolve(
        "Host a\n  ProxyJump none\nHost *\n  ProxyCommand nc %h %p\n",
        "a",
    );
    assert_eq!(
        c.proxy,
        Proxy::Command("nc a 22".into()),
        "`ProxyJump none` stops ProxyJumps only"
    );
    let cfg = config("Host a\n  ProxyJump gw\n");
    let c = cfg
        .resolve_with("a", &Overrides::new().proxy_jump(vec![]))
        .unwrap();
    assert_eq!(c.proxy, Proxy::Direct, "-J none wins over the config");
    let cfg = config("Host a\n  ProxyCommand nc %h %p\n");
    let c = cfg.resolve_with("a", &Overrides::new().direct()).unwrap();
    assert_eq!(c.proxy, Proxy::Direct);
}

#[test]
fn routes_follow_proxy_jump_as_openssh_does() {
    let text = "Host target\n  HostName 10.0.0.9\n  ProxyJump u1@a,b:2200\n\
                Host a\n  HostName 10.0.0.1\n  ProxyJump outer\n\
                Host b\n  HostName 10.0.0.2\n  User bu\n  ProxyJump ignored-for-b\n\
                Host outer\n  HostName 10.0.0.100\n";
    let route = config(text).route("target", &Overrides::new()).unwrap();
    let hops: Vec<String> = route
        .hops()
        .iter()
        .map(|h| format!("{}@{}:{}", h.user, h.hostname, h.port))
        .collect();
    assert_eq!(
        hops,
        [
            "alice@10.0.0.100:22",
            "u1@10.0.0.1:22",
            "bu@10.0.0.2:2200",
            "alice@10.0.0.9:22"
        ]
    );
    let e = config("Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n")
        .route("a", &Overrides::new())
        .unwrap_err();
    assert!(e.to_string().contains("more than 16 jump hosts"), "{e}");
    let e = config("Host a\n  ProxyJump a\n").resolve("a").unwrap_err();
    assert!(e.to_string().contains("jump host loop via a"), "{e}");
}

#[test]
fn gateway_user_applies_to_jump_hosts_that_name_none() {
    let cfg = config("Host t\n  ProxyJump gw,x@gw2\n");
    let ov = Overrides::new().gateway_user("admin");
    let route = cfg.route("t", &ov).unwrap();
    let users: Vec<&str> = route.hops().iter().map(|h| h.user.as_str()).collect();
    assert_eq!(users, ["admin", "x", "alice"]);
}

#[test]
fn includes_are_relative_to_dot_ssh_start_active_and_never_clobber_the_includer() {
    let home = tempfile::tempdir().unwrap();
    let ssh = home.path().join(".ssh");
    std::fs::create_dir_all(ssh.join("conf.d")).unwrap();
    std::fs::write(
        ssh.join("conf.d/10-a.conf"),
        "User from-a\nMatch host nothing\n",
    )
    .unwrap();
    std::fs::write(ssh.join("conf.d/20-b.conf"), "Port 2020\n").unwrap();
    std::fs::write(ssh.join("conf.d/.hidden.conf"), "Port 1\n").unwrap();
    std::fs::write(ssh.join("inactive"), "Host *\n  HostName never\n").unwrap();
    let text = "Host web\n  Include conf.d/*.conf\n  IdentitiesOnly yes\n\
                Host other\n  Include inactive\nHost *\n  HashKnownHosts yes\n";
    let cfg = SshConfig::for_test(text, local(home.path())).unwrap();
    let c = cfg.resolve("web").unwrap();
    assert_eq!(
        (c.user.as_str(), c.port),
        ("from-a", 2020),
        "both files, in order"
    );
    assert!(
        c.identities_only,
        "a Match in an include does not end the including block"
    );
    assert!(c.hash_known_hosts);
    assert_eq!(
        cfg.resolve("x").unwrap().hostname,
        "x",
        "an include in an inactive block is parse-only"
    );
    assert_eq!(cfg.resolve("x").unwrap().port, 22);
}

#[test]
fn includes_are_bounded_in_depth_and_count() {
    let home = tempfile::tempdir().unwrap();
    let ssh = home.path().join(".ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    std::fs::write(ssh.join("self"), "Include self\n").unwrap();
    let e = SshConfig::for_test("Include self\n", local(home.path())).unwrap_err();
    assert!(e.to_string().contains("nested more than 16 levels"), "{e}");
    // issue 15: files each including the next twice (2^16 inclusions, 16 levels deep)
    for i in 0..15 {
        std::fs::write(
            ssh.join(format!("f{i}")),
            format!("Include f{0}\nInclude f{0}\n", i + 1),
        )
        .unwrap();
    }
    std::fs::write(ssh.join("f15"), "User end\n").unwrap();
    let e = SshConfig::for_test("Include f0\n", local(home.path())).unwrap_err();
    assert!(
        e.to_string().contains("included more than 1024 times"),
        "{e}"
    );
    // a few repeats are fine, and each file is read once
    let cfg = SshConfig::for_test("Include f12\n", local(home.path())).unwrap();
    assert_eq!(cfg.resolve("h").unwrap().user, "end");
    assert_eq!(cfg.files().count(), 5);
}

#[test]
fn oversized_or_odd_inputs_are_clear_errors() {
    let long = format!("Host {}\n", "a".repeat(70_000));
    assert!(error(&long).contains("line longer than 64 KiB"));
    let e = SshConfig::load_file("/dev/zero").unwrap_err();
    assert!(e.to_string().contains("larger than 16 MiB"), "{e}");
    let e = SshConfig::load_file("/nonexistent/ajssh-config").unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot read ssh config /nonexistent/ajssh-config: no such file"
    );
    assert_eq!(
        resolve("User bob\u{0} extra\n", "h").user,
        "bob",
        "a NUL ends a line, as in C"
    );
    let bad_utf8 = SshConfig::for_test(
        std::str::from_utf8(b"# caf\xc3\xa9\n").unwrap(),
        local(Path::new("/h")),
    );
    assert!(bad_utf8.is_ok());
}

#[test]
fn a_hundred_thousand_host_lines_resolve() {
    let mut text = String::new();
    for i in 0..100_000 {
        text.push_str(&format!("Host n{i}\n  Port {}\n", 1 + i % 60000));
    }
    let c = config(&text);
    assert_eq!(c.resolve("n99999").unwrap().port, 40_000);
}

#[test]
fn time_and_number_settings_have_openssh_defaults() {
    let c = resolve("", "h");
    assert_eq!(
        (
            c.connect_timeout,
            c.server_alive_interval,
            c.server_alive_count_max
        ),
        (None, None, 3)
    );
    let c = resolve(
        "ConnectTimeout none\nConnectTimeout 1m\nServerAliveInterval 15\nServerAliveCountMax 5\n",
        "h",
    );
    assert_eq!(
        c.connect_timeout,
        Some(Duration::from_secs(60)),
        "`none` does not stick"
    );
    assert_eq!(c.server_alive_interval, Some(Duration::from_secs(15)));
    assert_eq!(c.server_alive_count_max, 5);
}

#[test]
fn kex_algorithms_edit_this_crates_defaults() {
    let c = resolve("KexAlgorithms ^ecdh-sha2-nistp256\n", "h");
    let kex = c.kex_algorithms.unwrap();
    assert_eq!(kex[0], "ecdh-sha2-nistp256");
    assert_eq!(kex[1..], crate::default_kex_algorithms()[..]);
    let c = resolve(
        "KexAlgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256\n",
        "h",
    );
    assert_eq!(c.kex_algorithms.unwrap(), ["curve25519-sha256"]);
    assert_eq!(
        kex_list("sntrup761x25519-sha512"),
        ["sntrup761x25519-sha512"]
    );
    assert!(kex_list(" , ").is_empty());
    assert_eq!(kex_list("-mlkem768x25519-sha256")[0], "curve25519-sha256");
    // as OpenSSH's kex_assemble_names: each name once, removals are patterns
    let defaults = crate::default_kex_algorithms();
    let last = defaults[defaults.len() - 1];
    let first = kex_list(&format!("^{last}"));
    assert_eq!(first[0], last);
    assert_eq!(first.len(), defaults.len(), "{first:?}");
    assert_eq!(kex_list(&format!("+{last}")), defaults);
    let no_dh = kex_list("-diffie-hellman-*");
    assert!(!no_dh.is_empty() && no_dh.iter().all(|a| !a.starts_with("diffie-hellman-")));
    assert_eq!(
        kex_list("curve25519-sha256,curve25519-sha256"),
        ["curve25519-sha256"]
    );
}

#[test]
fn host_config_builds_the_node_the_config_describes() {
    let text = "Host web\n  HostName 10.0.0.5\n  User deploy\n  Port 2222\n  HostKeyAlias WebAlias\n\
                  StrictHostKeyChecking accept-new\n  UserKnownHostsFile /tmp/kh1\n  GlobalKnownHostsFile /tmp/kh2\n\
                  ConnectTimeout 7\n  ProxyJump gw\nHost gw\n  HostName 10.0.0.1\n  ProxyCommand nc %h %p\n";
    let cfg = config(text);
    let node = cfg.node("web").unwrap();
    assert_eq!(node.to_string(), "alice@10.0.0.1->deploy@10.0.0.5:2222");
    assert_eq!(node.host_key_alias(), Some("webalias"));
    assert_eq!(node.host_key_policy(), crate::HostKeyPolicy::AcceptNew);
    assert_eq!(
        node.known_hosts_files(),
        [PathBuf::from("/tmp/kh1"), PathBuf::from("/tmp/kh2")]
    );
    assert_eq!(node.connect_timeout(), Duration::from_secs(7));
    let gw = node.gateway().unwrap();
    assert_eq!(gw.proxy_command(), Some("nc 10.0.0.1 22"));
    let again = cfg.node("web").unwrap();
    assert!(
        again.gateway().unwrap().same_node(gw),
        "gateways are shared"
    );
}

#[test]
fn ssh_g_prints_the_resolved_keywords_in_openssh_format() {
    let text = "Host web\n  HostName 10.0.0.5\n  User deploy\n  ProxyJump a@10.0.0.1:2,b\n  StrictHostKeyChecking yes\n";
    let g = resolve(text, "web").ssh_g();
    for want in [
        "host web\n",
        "user deploy\n",
        "hostname 10.0.0.5\n",
        "port 22\n",
        "stricthostkeychecking true\n",
        "connecttimeout none\n",
        "proxyjump a@10.0.0.1:2,b\n",
        "userknownhostsfile /home/alice/.ssh/known_hosts /home/alice/.ssh/known_hosts2\n",
        "globalknownhostsfile /etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2\n",
    ] {
        assert!(g.contains(want), "missing {want:?} in\n{g}");
    }
}
