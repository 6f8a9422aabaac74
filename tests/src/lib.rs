//! Loopback OpenSSH test harness (see the ssh issue).
