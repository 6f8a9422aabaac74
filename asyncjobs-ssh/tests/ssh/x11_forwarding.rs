//! X11 forwarding on `Run`/`RunString` (`.x11(true)`), against the loopback
//! sshd with `X11Forwarding yes` and xauth: `DISPLAY` is set remotely, X
//! clients reach the local display (a fake X server on a unix socket here)
//! only with the command's cookie, directly and through a gateway.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::{node, node_builder, Output};
use asyncjobs_ssh::{Run, RunString, SshError, SshJob, SshNode};
use asyncjobs_tests::{Testbed, TestbedConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn x11_testbed(hosts: usize) -> Testbed {
    Testbed::start_with(TestbedConfig {
        hosts,
        x11: true,
        ..TestbedConfig::default()
    })
    .unwrap_or_else(|e| panic!("cannot start the loopback sshd testbed with X11: {e}"))
}

/// A minimal X client in Perl (perl-base only): finds its cookie with
/// `xauth list` (or sends a wrong one with argument `wrong`), connects to
/// `$DISPLAY` over TCP, sends the connection setup and prints the server's answer.
const X_CLIENT: &str = r#"#!/usr/bin/perl
use strict; use warnings; use IO::Socket::INET;
$| = 1;
my $display = $ENV{DISPLAY} // die "no DISPLAY\n";
my ($n) = $display =~ /:(\d+)(?:\.\d+)?$/ or die "odd DISPLAY $display\n";
my $cookie;
if (($ARGV[0] // '') eq 'wrong') { $cookie = "\x42" x 16 }
else {
    for (`xauth list`) {
        my @f = split;
        $cookie = pack('H*', $f[2]) if @f == 3 && $f[0] =~ /:$n$/ && $f[1] eq 'MIT-MAGIC-COOKIE-1';
    }
    defined $cookie or die "no cookie for display $n in xauth list\n";
}
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => 6000 + $n)
    or die "cannot connect to $display: $!\n";
my $name = 'MIT-MAGIC-COOKIE-1';
my $pad = sub { "\0" x ((4 - length($_[0]) % 4) % 4) };
print $s pack('A1 x v v v v x2', 'l', 11, 0, length $name, length $cookie)
    . $name . $pad->($name) . $cookie . $pad->($cookie);
my $got = read($s, my $head, 8);
if (!$got) { print "X11 closed\n"; exit 0 }
my ($status, $len, $major, $minor, $extra) = unpack('C C v v v', $head);
read($s, my $reason, $extra * 4);
print "X11 status=$status reason=", substr($reason, 0, $len), "\n";
"#;

const GREETING: &str = "hello from the fake X server";

/// What the fake X server saw: the (auth name, auth data) of each client.
type Seen = Arc<Mutex<Vec<(Vec<u8>, Vec<u8>)>>>;

/// Listens on `path` like an X server; answers every connection setup with
/// "Failed: GREETING" (enough for the client to print it). Runs until the
/// runtime is dropped.
fn fake_x_server(rt: &tokio::runtime::Runtime, path: &Path) -> Seen {
    let seen: Seen = Arc::default();
    let listener = {
        let _guard = rt.enter();
        tokio::net::UnixListener::bind(path).unwrap()
    };
    let record = seen.clone();
    rt.spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let mut head = [0u8; 12];
            if conn.read_exact(&mut head).await.is_err() {
                continue;
            }
            assert_eq!(head[0], b'l', "the client's byte order is kept");
            let word = |i: usize| usize::from(u16::from_le_bytes([head[i], head[i + 1]]));
            let (n, d) = (word(6), word(8));
            let pad = |x: usize| (4 - x % 4) % 4;
            let mut rest = vec![0u8; n + pad(n) + d + pad(d)];
            if conn.read_exact(&mut rest).await.is_err() {
                continue;
            }
            let at = n + pad(n);
            record
                .lock()
                .unwrap()
                .push((rest[..n].to_vec(), rest[at..at + d].to_vec()));
            let reason = GREETING.as_bytes();
            let units = (reason.len() + pad(reason.len())) / 4;
            let mut reply = vec![0, reason.len() as u8, 11, 0, 0, 0, units as u8, 0];
            reply.extend_from_slice(reason);
            reply.resize(8 + units * 4, 0);
            let _ = conn.write_all(&reply).await;
        }
    });
    seen
}

fn display_of(out: &str) -> String {
    out.trim()
        .strip_prefix("DISPLAY=")
        .unwrap_or_default()
        .to_string()
}

fn socket_path(bed: &Testbed, name: &str) -> PathBuf {
    bed.dir().join(name)
}

#[test]
fn display_is_set_remotely_with_x11_and_not_without() {
    let bed = x11_testbed(1);
    let out = Output::new();
    let n = node(&bed, &bed.hosts()[0], &out);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let echo = || Run::new(r#"echo "DISPLAY=$DISPLAY""#);
        let plain = SshJob::new(&n).command(echo()).execute().await.unwrap();
        assert_eq!(display_of(&plain.stdout()), "", "no DISPLAY without x11");
        let x11 = SshJob::new(&n)
            .command(echo().x11(true))
            .execute()
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", bed.sshd_log()));
        let display = display_of(&x11.stdout());
        assert!(
            display.starts_with("localhost:") && display.ends_with(".0"),
            "{display:?}"
        );
        // x11(false) after x11(true) turns it off again
        let off = SshJob::new(&n)
            .command(echo().x11(true).x11(false))
            .execute()
            .await
            .unwrap();
        assert_eq!(display_of(&off.stdout()), "");
        n.close().await;
    });
}

#[test]
fn x_clients_reach_the_local_display_without_the_fake_cookie() {
    let bed = x11_testbed(1);
    let out = Output::new();
    let n = node(&bed, &bed.hosts()[0], &out);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sock = socket_path(&bed, "X0");
    let seen = fake_x_server(&rt, &sock);
    rt.block_on(async {
        let job = SshJob::new(&n)
            .command(RunString::new(X_CLIENT).x11_display(sock.to_str().unwrap()))
            .command_timeout(Duration::from_secs(30));
        let result = job
            .execute()
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}\n{}", out.stderr(), bed.sshd_log()));
        assert_eq!(
            result.stdout(),
            format!("X11 status=0 reason={GREETING}\n"),
            "{}",
            out.stderr()
        );
        n.close().await;
    });
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "one X client");
    // no xauth entry for a socket path: the client is passed on without
    // credentials, never with the cookie the server was given
    assert_eq!(seen[0], (Vec::new(), Vec::new()));
}

#[test]
fn x_clients_with_a_wrong_cookie_never_reach_the_local_display() {
    let bed = x11_testbed(1);
    let out = Output::new();
    let n = node(&bed, &bed.hosts()[0], &out);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sock = socket_path(&bed, "X0");
    let seen = fake_x_server(&rt, &sock);
    rt.block_on(async {
        let result = SshJob::new(&n)
            .command(
                RunString::new(X_CLIENT)
                    .arg("wrong")
                    .x11_display(sock.to_str().unwrap()),
            )
            .command_timeout(Duration::from_secs(30))
            .execute()
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", out.stderr()));
        assert_eq!(result.stdout(), "X11 closed\n");
        n.close().await;
    });
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn without_a_reachable_local_display_x_clients_are_refused_with_a_message() {
    let bed = x11_testbed(1);
    let out = Output::new();
    let n = node(&bed, &bed.hosts()[0], &out);
    let missing = socket_path(&bed, "no-such-display");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let result = SshJob::new(&n)
            .command(RunString::new(X_CLIENT).x11_display(missing.to_str().unwrap()))
            .command_timeout(Duration::from_secs(30))
            .execute()
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", out.stderr()));
        assert_eq!(result.stdout(), "X11 closed\n");
        n.close().await;
    });
    let stderr = out.stderr();
    assert!(
        stderr.contains(&format!(
            "X11 forwarding: cannot connect to the local display {}",
            missing.display()
        )),
        "{stderr}"
    );
}

#[test]
fn x11_works_through_a_gateway() {
    let bed = x11_testbed(2);
    let out = Output::new();
    let gw = node(&bed, &bed.hosts()[0], &out);
    let target: SshNode = node_builder(&bed, &bed.hosts()[1], &out)
        .gateway(&gw)
        .build();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sock = socket_path(&bed, "X1");
    let seen = fake_x_server(&rt, &sock);
    rt.block_on(async {
        let result = SshJob::new(&target)
            .command(Run::new(r#"echo "DISPLAY=$DISPLAY""#).x11(true))
            .command(RunString::new(X_CLIENT).x11_display(sock.to_str().unwrap()))
            .command_timeout(Duration::from_secs(30))
            .execute()
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}\n{}", out.stderr(), bed.sshd_log()));
        let lines: Vec<String> = result.stdout().lines().map(str::to_string).collect();
        assert!(display_of(&lines[0]).starts_with("localhost:"), "{lines:?}");
        assert_eq!(lines[1], format!("X11 status=0 reason={GREETING}"));
        gw.close().await;
    });
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[test]
fn a_server_without_x11_forwarding_fails_the_command_saying_so() {
    // X11Forwarding no; few sessions per connection, so leaked ones would show
    let bed = Testbed::start_with(TestbedConfig {
        hosts: 1,
        x11: false,
        extra_sshd_config: vec!["MaxSessions 3".into()],
        ..TestbedConfig::default()
    })
    .unwrap_or_else(|e| panic!("cannot start the loopback sshd testbed: {e}"));
    let out = Output::new();
    let n = node(&bed, &bed.hosts()[0], &out);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let err = SshJob::new(&n)
            .command(Run::new("echo never").x11(true))
            .execute()
            .await
            .unwrap_err();
        assert!(
            matches!(&err, SshError::Session { message, .. } if message.contains("refused X11 forwarding")),
            "{err}"
        );
        assert!(err.to_string().contains("X11Forwarding"), "{err}");
        assert!(!out.stdout().contains("never"));
        // refused sessions are closed: more of them than MaxSessions on one
        // connection leave room for a command
        for _ in 0..12 {
            let job = SshJob::new(&n).command(Run::new("echo never").x11(true));
            assert!(job.execute().await.is_err());
        }
        let ok = SshJob::new(&n).run("echo still fine").execute().await;
        assert_eq!(ok.unwrap().stdout(), "still fine\n");
        n.close().await;
    });
}
