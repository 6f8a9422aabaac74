//! `ajssh --kex` and `KexAlgorithms` of the ssh config: the algorithm sshd
//! negotiates (read from its DEBUG1 log), the option beating the config, and
//! a bad list refused as a usage error before connecting.

use crate::support::{ajssh, ajssh_bare, run, ssh_config, target};
use asyncjobs_tests::{Testbed, TestbedConfig};

/// A testbed whose sshd logs each connection's key exchange (`kex: algorithm: NAME`).
fn verbose_testbed() -> Testbed {
    Testbed::start_with(TestbedConfig {
        extra_sshd_config: vec!["LogLevel DEBUG1".into()],
        ..TestbedConfig::default()
    })
    .unwrap_or_else(|e| panic!("cannot start the loopback sshd testbed: {e}"))
}

#[test]
fn kex_option_puts_ecdh_nistp256_first() {
    let bed = verbose_testbed();
    let r = run(ajssh(&bed)
        .args(["--kex", "^ecdh-sha2-nistp256"])
        .arg(target(&bed.hosts()[0]))
        .args(["--", "echo ok"]));
    assert_eq!(r.code, 0, "{r:?}\n{}", bed.sshd_log());
    assert!(r.stdout.ends_with(":ok\n"), "{r:?}");
    assert_eq!(bed.negotiated_kex(), ["ecdh-sha2-nistp256"]);
}

#[test]
fn config_kex_algorithms_apply_and_the_option_beats_them() {
    let bed = verbose_testbed();
    let dir = tempfile::tempdir().unwrap();
    let cfg = ssh_config(&bed, dir.path(), &[("web".into(), &bed.hosts()[0])]);
    let text = std::fs::read_to_string(&cfg).unwrap();
    // an OpenSSH-only name first: left out, the next one is used
    std::fs::write(
        &cfg,
        text.replace(
            "Host web\n",
            "Host web\n    KexAlgorithms sntrup761x25519-sha512@openssh.com,ecdh-sha2-nistp384\n",
        ),
    )
    .unwrap();
    let with_config = || {
        let mut c = ajssh_bare();
        c.arg("-F")
            .arg(&cfg)
            .arg("--known-hosts")
            .arg(bed.known_hosts());
        c
    };
    let r = run(with_config().args(["web", "--", "true"]));
    assert_eq!(r.code, 0, "{r:?}\n{}", bed.sshd_log());
    assert_eq!(bed.negotiated_kex(), ["ecdh-sha2-nistp384"]);

    let r = run(with_config().args(["--kex", "curve25519-sha256", "web", "--", "true"]));
    assert_eq!(r.code, 0, "{r:?}\n{}", bed.sshd_log());
    assert_eq!(
        bed.negotiated_kex(),
        ["ecdh-sha2-nistp384", "curve25519-sha256"]
    );
}

#[test]
fn unsupported_kex_option_is_a_usage_error_and_nothing_connects() {
    let bed = verbose_testbed();
    let r = run(ajssh(&bed)
        .args(["--kex", "curve25519-sha256,ecdh-sha2-nistp999"])
        .arg(target(&bed.hosts()[0]))
        .args(["--", "true"]));
    assert_eq!(r.code, 64, "{r:?}");
    assert!(
        r.stderr
            .contains("unsupported key exchange algorithm `ecdh-sha2-nistp999` (supported: "),
        "{}",
        r.stderr
    );
    assert!(
        !bed.sshd_log().contains("Connection from"),
        "{}",
        bed.sshd_log()
    );
}
