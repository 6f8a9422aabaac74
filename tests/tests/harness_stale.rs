//! Servers leaked by a test process that died without dropping its testbed are
//! killed by the next process that uses the harness.

use std::process::{Command, Stdio};

use asyncjobs_tests::{reap_leaked_sshd, Testbed, SSHD_PATH};

/// The two tests run in parallel threads of one process, and each one's reaping
/// kills the other's leaked server, possibly before it listens: they take turns.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[test]
fn sshd_of_a_dead_test_process_is_reaped() {
    let _turn = one_at_a_time();
    let bed = Testbed::start(1).expect("testbed starts");
    // A process id that no longer exists: a child that has exited and been reaped.
    let mut gone = Command::new("true").spawn().unwrap();
    let dead_pid = gone.id();
    gone.wait().unwrap();
    let dir = std::env::temp_dir().join(format!("asyncjobs-testbed-{dead_pid}-leaktest"));
    std::fs::create_dir_all(&dir).unwrap();
    let closed = bed.closed_port();
    let config = dir.join("sshd-0.conf");
    std::fs::write(
        &config,
        format!(
            "ListenAddress {}\nHostKey {}\nPidFile none\nUsePAM no\nStrictModes no\nLogLevel ERROR\n",
            closed.address(),
            bed.dir().join("ssh_host_ed25519_key").display()
        ),
    )
    .unwrap();
    let mut leaked = Command::new(SSHD_PATH)
        .arg("-D")
        .arg("-f")
        .arg(&config)
        .arg("-E")
        .arg(dir.join("sshd-0.0.log"))
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let listening = (0..1000).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(10));
        std::net::TcpStream::connect(closed.address()).is_ok()
    });
    assert!(listening, "the leaked sshd did not start");
    // Another test binary starting a testbed right now may reap it first: either way
    // it must be gone, killed, within a bounded wait.
    let _ = reap_leaked_sshd();
    let status = wait_reaped(&mut leaked, "sshd");
    assert!(!status.success(), "killed, not exited normally: {status}");
    assert!(!dir.exists());
    // A live testbed is left alone.
    assert_eq!(bed.listening_hosts(), 1);
}

/// Waits (bounded) for `child` to end; kills it and fails if it does not.
fn wait_reaped(child: &mut std::process::Child, what: &str) -> std::process::ExitStatus {
    for _ in 0..500 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the leaked {what} was not reaped");
}

#[test]
fn dropbear_of_a_dead_test_process_is_reaped() {
    let _turn = one_at_a_time();
    let bed = Testbed::start(1).expect("testbed starts");
    let mut gone = Command::new("true").spawn().unwrap();
    let dead_pid = gone.id();
    gone.wait().unwrap();
    let dir = std::env::temp_dir().join(format!("asyncjobs-testbed-{dead_pid}-dropleak"));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("dropbear_host_key");
    let made = Command::new("dropbearkey")
        .args(["-t", "ed25519", "-f"])
        .arg(&key)
        .output()
        .expect("dropbearkey runs (apt-get install -y dropbear-bin, or cargo xtask test)");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let closed = bed.closed_port();
    let mut leaked = Command::new("/usr/sbin/dropbear")
        .args(["-F", "-E", "-s", "-r"])
        .arg(&key)
        .arg("-P")
        .arg(dir.join("dropbear-0.pid"))
        .arg("-p")
        .arg(closed.address())
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let listening = (0..1000).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(10));
        std::net::TcpStream::connect(closed.address()).is_ok()
    });
    assert!(listening, "the leaked dropbear did not start");
    let _ = reap_leaked_sshd();
    let status = wait_reaped(&mut leaked, "dropbear");
    assert!(!status.success(), "killed, not exited normally: {status}");
    assert!(!dir.exists());
}
