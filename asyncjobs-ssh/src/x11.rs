//! X11 forwarding for commands run with [`Run::x11`](crate::Run::x11).
//!
//! As OpenSSH does for untrusted forwarding, the server gets a random *fake*
//! `MIT-MAGIC-COOKIE-1` cookie, never the local display's: sshd writes it
//! into the remote `~/.Xauthority` and sets `DISPLAY` (e.g. `localhost:10.0`).
//! Each X client the remote command starts makes sshd open an `x11` channel
//! back to us. Its first bytes are the X11 connection setup, carrying the
//! cookie: a setup without the fake cookie of a command still running is
//! refused (the channel is closed, the local display never contacted).
//! Otherwise the fake cookie is replaced by the local display's real one
//! (from `xauth list`, if there is one) and the channel is spliced to the
//! local display. Cookies are per command, so each X11 channel is tied to
//! the command that asked for it, and to its display setting.

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::Msg;
use russh::{Channel, ChannelMsg, ChannelReadHalf, ChannelWriteHalf};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::formatter::{Formatter, Stream};

/// The only authentication protocol forwarded, as OpenSSH.
const AUTH_PROTOCOL: &str = "MIT-MAGIC-COOKIE-1";
/// Bytes in a cookie.
const COOKIE_LEN: usize = 16;
/// Bound on the server's answer to the forwarding request.
const REPLY_WAIT: Duration = Duration::from_secs(30);
/// Bound on an X client sending its connection setup.
const SETUP_WAIT: Duration = Duration::from_secs(30);
/// Bound on connecting to the local display, and on `xauth list`.
const LOCAL_WAIT: Duration = Duration::from_secs(10);
/// Once one side of a forwarded connection is over, how long the other may still drain.
const DRAIN_GRACE: Duration = Duration::from_secs(5);

/// What a command asked for: X11 forwarding, to this display (`None`: `$DISPLAY`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct X11Forward {
    pub display: Option<String>,
}

/// A forwarding session: the command that asked, where its X clients go.
struct Session {
    display: Option<String>,
    host: String,
    formatter: Option<Arc<dyn Formatter>>,
}

impl Session {
    /// Tells the command's formatter why one of its X clients was refused.
    fn report(&self, message: &str) {
        if let Some(f) = &self.formatter {
            let _ = f.line(
                &self.host,
                Stream::Stderr,
                format!("X11 forwarding: {message}\n").as_bytes(),
            );
        }
    }
}

/// The forwarding sessions of one connection, by fake cookie.
#[derive(Default)]
pub(crate) struct X11Registry {
    sessions: Mutex<HashMap<[u8; COOKIE_LEN], Arc<Session>>>,
}

impl X11Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; COOKIE_LEN], Arc<Session>>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether any command of the connection forwards X11 now.
    pub fn is_active(&self) -> bool {
        !self.lock().is_empty()
    }

    fn find(&self, cookie: &[u8]) -> Option<Arc<Session>> {
        self.lock().get(cookie).cloned()
    }
}

/// Keeps a command's cookie valid until dropped (when the command ends).
pub(crate) struct Registration {
    registry: Arc<X11Registry>,
    cookie: [u8; COOKIE_LEN],
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.cookie);
    }
}

/// A fresh random cookie, from the kernel's generator.
fn random_cookie() -> io::Result<[u8; COOKIE_LEN]> {
    let mut cookie = [0u8; COOKIE_LEN];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut cookie)?;
    Ok(cookie)
}

/// The display a command's X clients go to: the one it gave, else `$DISPLAY`.
fn resolve_display(explicit: Option<&str>, env: Option<String>) -> Option<String> {
    explicit
        .map(str::to_string)
        .or(env)
        .filter(|d| !d.is_empty())
}

/// Asks the server to forward X11 for the session on `tx`/`rx` (before its
/// `exec`), with a new fake cookie registered in `registry` for the command's
/// lifetime. The error is a sentence for [`SshError::Session`](crate::SshError).
pub(crate) async fn request(
    registry: &Arc<X11Registry>,
    tx: &ChannelWriteHalf<Msg>,
    rx: &mut ChannelReadHalf,
    forward: &X11Forward,
    host: &str,
    formatter: Option<Arc<dyn Formatter>>,
) -> Result<Registration, String> {
    let cookie = random_cookie().map_err(|e| format!("cannot make an X11 cookie: {e}"))?;
    let display = resolve_display(forward.display.as_deref(), std::env::var("DISPLAY").ok());
    let screen = display
        .as_deref()
        .and_then(|d| Display::parse(d).ok())
        .map_or(0, |d| d.screen);
    // registered first: an X client may connect as soon as the command starts
    registry.lock().insert(
        cookie,
        Arc::new(Session {
            display,
            host: host.to_string(),
            formatter,
        }),
    );
    let registration = Registration {
        registry: Arc::clone(registry),
        cookie,
    };
    tx.request_x11(true, false, AUTH_PROTOCOL, hex(&cookie), screen)
        .await
        .map_err(|e| {
            format!(
                "cannot request X11 forwarding: {}",
                crate::connection::russh_message(&e)
            )
        })?;
    let reply = tokio::time::timeout(REPLY_WAIT, async {
        loop {
            match rx.wait().await {
                Some(ChannelMsg::Success) => return Ok(()),
                Some(ChannelMsg::Failure) => {
                    return Err(
                        "the server refused X11 forwarding (X11Forwarding is off in its \
                                sshd_config, or xauth is not installed there)"
                            .to_string(),
                    )
                }
                Some(_) => continue,
                None => {
                    return Err("the session ended before the server answered the X11 \
                                forwarding request"
                        .to_string())
                }
            }
        }
    })
    .await;
    match reply {
        Ok(Ok(())) => Ok(registration),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(format!(
            "no answer to the X11 forwarding request within {}s",
            REPLY_WAIT.as_secs()
        )),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Where a display is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Endpoint {
    Unix(PathBuf),
    Tcp(String, u16),
}

/// A parsed `DISPLAY` value.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Display {
    endpoint: Endpoint,
    screen: u32,
}

impl Display {
    /// `:N`, `unix:N` (socket `/tmp/.X11-unix/XN`), `host:N` (TCP port
    /// 6000+N), each with an optional `.S` screen; or the path of a socket
    /// (starting with `/`, as XQuartz's `/…/org.xquartz:0`; a `.S` after its
    /// last `:N` is the screen).
    fn parse(display: &str) -> Result<Display, String> {
        let bad = || format!("cannot understand the display {display:?}");
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        // `N` or `N.S` after the last `:`
        let suffix = display.rsplit_once(':').and_then(|(before, after)| {
            let (number, screen) = after.split_once('.').unwrap_or((after, "0"));
            (digits(number) && digits(screen)).then_some((before, number, screen))
        });
        if display.starts_with('/') {
            return Ok(match suffix {
                Some((before, number, screen)) => Display {
                    endpoint: Endpoint::Unix(PathBuf::from(format!("{before}:{number}"))),
                    screen: screen.parse().map_err(|_| bad())?,
                },
                None => Display {
                    endpoint: Endpoint::Unix(PathBuf::from(display)),
                    screen: 0,
                },
            });
        }
        let (host, number, screen) = suffix.ok_or_else(bad)?;
        let n: u16 = number.parse().map_err(|_| bad())?;
        let endpoint = match host {
            "" | "unix" => Endpoint::Unix(PathBuf::from(format!("/tmp/.X11-unix/X{n}"))),
            host => {
                let port = 6000u16.checked_add(n).ok_or_else(bad)?;
                let host = host.trim_start_matches('[').trim_end_matches(']');
                Endpoint::Tcp(host.to_string(), port)
            }
        };
        Ok(Display {
            endpoint,
            screen: screen.parse().map_err(|_| bad())?,
        })
    }
}

/// The X11 connection setup an X client sends first.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Setup {
    /// `B` (big-endian) or `l` (little-endian).
    order: u8,
    major: u16,
    minor: u16,
    auth_name: Vec<u8>,
    auth_data: Vec<u8>,
}

fn pad4(n: usize) -> usize {
    (4 - n % 4) % 4
}

impl Setup {
    /// Reads a setup from `r`; an error for anything else.
    async fn read(r: &mut (impl AsyncRead + Unpin)) -> io::Result<Setup> {
        let mut head = [0u8; 12];
        r.read_exact(&mut head).await?;
        let order = head[0];
        let word = |i: usize| match order {
            b'B' => Ok(u16::from_be_bytes([head[i], head[i + 1]])),
            b'l' => Ok(u16::from_le_bytes([head[i], head[i + 1]])),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "not an X11 connection setup",
            )),
        };
        let (major, minor) = (word(2)?, word(4)?);
        let (n, d) = (usize::from(word(6)?), usize::from(word(8)?));
        let mut rest = vec![0u8; n + pad4(n) + d + pad4(d)];
        r.read_exact(&mut rest).await?;
        let data_at = n + pad4(n);
        Ok(Setup {
            order,
            major,
            minor,
            auth_name: rest[..n].to_vec(),
            auth_data: rest[data_at..data_at + d].to_vec(),
        })
    }

    fn encode(&self) -> Vec<u8> {
        let word = |v: u16| match self.order {
            b'B' => v.to_be_bytes(),
            _ => v.to_le_bytes(),
        };
        let mut out = Vec::with_capacity(12 + 2 * COOKIE_LEN + 32);
        out.extend_from_slice(&[self.order, 0]);
        out.extend_from_slice(&word(self.major));
        out.extend_from_slice(&word(self.minor));
        out.extend_from_slice(&word(self.auth_name.len() as u16));
        out.extend_from_slice(&word(self.auth_data.len() as u16));
        out.extend_from_slice(&[0, 0]);
        for part in [&self.auth_name, &self.auth_data] {
            out.extend_from_slice(part);
            out.resize(out.len() + pad4(part.len()), 0);
        }
        out
    }

    /// The same setup with the local display's credentials (none: no authentication).
    fn with_auth(&self, real: Option<&(Vec<u8>, Vec<u8>)>) -> Setup {
        let (auth_name, auth_data) = real.cloned().unwrap_or_default();
        Setup {
            auth_name,
            auth_data,
            ..self.clone()
        }
    }
}

/// The `MIT-MAGIC-COOKIE-1` entry of `xauth list` output, as (name, cookie bytes).
fn cookie_from_xauth_list(output: &str) -> Option<(Vec<u8>, Vec<u8>)> {
    output.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        let (_, proto, data) = (fields.next()?, fields.next()?, fields.next()?);
        (proto == AUTH_PROTOCOL)
            .then(|| unhex(data))
            .flatten()
            .map(|d| (AUTH_PROTOCOL.as_bytes().to_vec(), d))
    })
}

/// The real cookie of the local `display`, from `xauth list` (none when xauth
/// is missing or has no entry: the display is then contacted without one).
async fn local_cookie(display: &str) -> Option<(Vec<u8>, Vec<u8>)> {
    let out = tokio::time::timeout(
        LOCAL_WAIT,
        tokio::process::Command::new("xauth")
            .args(["list", display])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .ok()?
    .ok()?;
    cookie_from_xauth_list(&String::from_utf8_lossy(&out.stdout))
}

/// A connection to the local display.
trait Local: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Local for T {}

async fn connect_local(display: &Display) -> io::Result<Box<dyn Local>> {
    let connect = async {
        Ok::<Box<dyn Local>, io::Error>(match &display.endpoint {
            Endpoint::Unix(path) => Box::new(tokio::net::UnixStream::connect(path).await?),
            Endpoint::Tcp(host, port) => {
                Box::new(tokio::net::TcpStream::connect((host.as_str(), *port)).await?)
            }
        })
    };
    tokio::time::timeout(LOCAL_WAIT, connect)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "timed out"))?
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Unix(p) => write!(f, "{}", p.display()),
            Endpoint::Tcp(h, p) => write!(f, "{h}:{p}"),
        }
    }
}

/// Serves one `x11` channel the server opened: checks the client's cookie,
/// then splices the channel to the local display. Every step is bounded in
/// time; returning drops (closes) the channel.
pub(crate) async fn serve(channel: Channel<Msg>, registry: Arc<X11Registry>) {
    let mut remote = channel.into_stream();
    let Ok(Ok(setup)) = tokio::time::timeout(SETUP_WAIT, Setup::read(&mut remote)).await else {
        return; // not an X11 client, or too slow
    };
    let session = (setup.auth_name == AUTH_PROTOCOL.as_bytes())
        .then(|| registry.find(&setup.auth_data))
        .flatten();
    let Some(session) = session else {
        return; // wrong cookie: the local display is never contacted
    };
    let Some(name) = session.display.clone() else {
        session.report("an X client was refused: there is no local display (DISPLAY is not set)");
        return;
    };
    let display = match Display::parse(&name) {
        Ok(d) => d,
        Err(e) => {
            session.report(&format!("an X client was refused: {e}"));
            return;
        }
    };
    let mut local = match connect_local(&display).await {
        Ok(l) => l,
        Err(e) => {
            session.report(&format!(
                "cannot connect to the local display {name} ({}): {e}",
                display.endpoint
            ));
            return;
        }
    };
    let real = local_cookie(&name).await;
    if local
        .write_all(&setup.with_auth(real.as_ref()).encode())
        .await
        .is_err()
    {
        return;
    }
    splice(remote, local).await;
}

/// Copies both ways until one side ends, then lets the other drain for a while.
async fn splice(remote: impl AsyncRead + AsyncWrite + Unpin, local: Box<dyn Local>) {
    let (mut rr, mut rw) = tokio::io::split(remote);
    let (mut lr, mut lw) = tokio::io::split(local);
    let up = async {
        let _ = tokio::io::copy(&mut rr, &mut lw).await;
        let _ = lw.shutdown().await;
    };
    let down = async {
        let _ = tokio::io::copy(&mut lr, &mut rw).await;
        let _ = rw.shutdown().await;
    };
    tokio::pin!(up, down);
    tokio::select! {
        () = &mut up => { let _ = tokio::time::timeout(DRAIN_GRACE, down).await; }
        () = &mut down => { let _ = tokio::time::timeout(DRAIN_GRACE, up).await; }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_parse_as_xlib_reads_them() {
        let unix = |p: &str, screen| Display {
            endpoint: Endpoint::Unix(p.into()),
            screen,
        };
        let tcp = |h: &str, port, screen| Display {
            endpoint: Endpoint::Tcp(h.into(), port),
            screen,
        };
        assert_eq!(Display::parse(":0"), Ok(unix("/tmp/.X11-unix/X0", 0)));
        assert_eq!(Display::parse("unix:3.1"), Ok(unix("/tmp/.X11-unix/X3", 1)));
        assert_eq!(
            Display::parse("localhost:10.0"),
            Ok(tcp("localhost", 6010, 0))
        );
        assert_eq!(Display::parse("[::1]:2"), Ok(tcp("::1", 6002, 0)));
        assert_eq!(
            Display::parse("/private/tmp/launchd-1/org.xquartz:0"),
            Ok(unix("/private/tmp/launchd-1/org.xquartz:0", 0))
        );
        assert_eq!(
            Display::parse("/tmp/x/sock:0.2"),
            Ok(unix("/tmp/x/sock:0", 2))
        );
        assert_eq!(Display::parse("/tmp/x/sock"), Ok(unix("/tmp/x/sock", 0)));
        for bad in ["", "0", "host", ":x", "h:1.y", ":70000"] {
            assert!(Display::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_display_is_the_given_one_else_the_environment_never_empty() {
        assert_eq!(
            resolve_display(Some(":1"), Some(":0".into())).as_deref(),
            Some(":1")
        );
        assert_eq!(
            resolve_display(None, Some(":0".into())).as_deref(),
            Some(":0")
        );
        assert_eq!(resolve_display(None, Some(String::new())), None);
        assert_eq!(resolve_display(None, None), None);
    }

    #[tokio::test]
    async fn setups_round_trip_in_both_byte_orders_with_the_cookie_replaced() {
        for order in [b'B', b'l'] {
            let setup = Setup {
                order,
                major: 11,
                minor: 0,
                auth_name: AUTH_PROTOCOL.as_bytes().to_vec(),
                auth_data: vec![7; 16],
            };
            let bytes = setup.encode();
            assert_eq!(bytes.len(), 12 + 20 + 16);
            let back = Setup::read(&mut bytes.as_slice()).await.unwrap();
            assert_eq!(back, setup);
            let real = (b"MIT-MAGIC-COOKIE-1".to_vec(), vec![9; 16]);
            let swapped = back.with_auth(Some(&real));
            assert_eq!(swapped.auth_data, vec![9; 16]);
            assert_eq!(swapped.major, 11);
            let none = back.with_auth(None).encode();
            assert_eq!(none.len(), 12, "no authentication at all");
            assert_eq!(&none[6..10], &[0, 0, 0, 0]);
        }
        let junk = b"GET / HTTP/1.1\r\n\r\n".to_vec();
        assert!(Setup::read(&mut junk.as_slice()).await.is_err());
    }

    #[test]
    fn cookies_are_random_hex_of_sixteen_bytes() {
        let (a, b) = (random_cookie().unwrap(), random_cookie().unwrap());
        assert_ne!(a, b);
        assert_eq!(hex(&a).len(), 32);
        assert_eq!(unhex(&hex(&a)).unwrap(), a.to_vec());
    }

    #[test]
    fn the_real_cookie_comes_from_the_mit_magic_cookie_line_of_xauth() {
        let out = "box/unix:0  XDM-AUTHORIZATION-1  00ff\n\
                   box/unix:0  MIT-MAGIC-COOKIE-1  0a0b0c0d0e0f00010203040506070809\n";
        let (name, data) = cookie_from_xauth_list(out).unwrap();
        assert_eq!(name, AUTH_PROTOCOL.as_bytes());
        assert_eq!(data, unhex("0a0b0c0d0e0f00010203040506070809").unwrap());
        assert_eq!(cookie_from_xauth_list(""), None);
        assert_eq!(
            cookie_from_xauth_list("h/unix:0 MIT-MAGIC-COOKIE-1 xyz"),
            None
        );
    }
}
