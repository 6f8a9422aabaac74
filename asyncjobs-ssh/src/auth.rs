//! Authentication as OpenSSH users expect.
//!
//! Explicit identity files if any were given (and only those); otherwise the
//! ssh-agent when `SSH_AUTH_SOCK` is set, then the default key files
//! `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa` that exist. Decoded private keys
//! are cached per process (keyed by path and modification time): a fan-out
//! over N hosts decodes (and decrypts) each key once, not N times.
//!
//! An encrypted key without a passphrase is skipped, unless the node has a
//! [`PassphrasePrompt`]: then it is asked for once per key file for the
//! whole process (prompts are serialised; hosts needing the same key wait
//! for the one prompt, and a refusal is remembered), at most three times if
//! the passphrase is wrong. Connect timeouts do not run while a prompt waits
//! for its answer ([`prompt_time`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use russh::client::Handle;
use russh::keys::{HashAlg, PrivateKey, PrivateKeyWithHashAlg};
use russh::{MethodKind, MethodSet};

use crate::error::ConnectError;

/// Asks for the passphrase of an encrypted private key: on a terminal, with
/// `SSH_ASKPASS`, from a secret store... Set on a node with
/// [`SshNodeBuilder::passphrase_prompt`](crate::SshNodeBuilder::passphrase_prompt).
///
/// Called from a blocking thread, at most once at a time in the process,
/// and once per key file unless the answer was wrong (`retry` is then true;
/// three attempts at most). Return `Err` with the reason when no passphrase
/// can be had (no terminal, the user cancelled): it is remembered for the
/// key, so other hosts do not ask again, and the connection fails with
/// [`ConnectError::KeyUnreadable`] carrying the reason.
pub trait PassphrasePrompt: Send + Sync + 'static {
    /// The passphrase of the private key file `key`.
    fn passphrase(&self, key: &Path, retry: bool) -> Result<String, String>;
}

/// Where keys come from, as configured on a node.
#[derive(Clone, Default)]
pub(crate) struct AuthConfig {
    /// Explicit identity files, each with its own passphrase if any.
    pub identities: Vec<(PathBuf, Option<String>)>,
    /// Passphrase for identity files that have none of their own.
    pub passphrase: Option<String>,
    /// `None`: use the agent when there are no explicit files and `SSH_AUTH_SOCK` is set.
    pub agent: Option<bool>,
    /// Asks for the passphrases of encrypted keys.
    pub prompt: Option<Arc<dyn PassphrasePrompt>>,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never print passphrases
        let files: Vec<_> = self
            .identities
            .iter()
            .map(|(p, _)| p.display().to_string())
            .collect();
        f.debug_struct("AuthConfig")
            .field("identities", &files)
            .field("agent", &self.agent)
            .field("prompt", &self.prompt.is_some())
            .finish()
    }
}

/// The default key files OpenSSH tries, in order.
pub(crate) fn default_identity_files() -> Vec<PathBuf> {
    let Some(home) = std::env::var_os("HOME") else {
        return Vec::new();
    };
    let ssh = Path::new(&home).join(".ssh");
    ["id_ed25519", "id_ecdsa", "id_rsa"]
        .iter()
        .map(|n| ssh.join(n))
        .collect()
}

type KeyCache = Mutex<HashMap<PathBuf, (Option<SystemTime>, Arc<PrivateKey>)>>;

fn key_cache() -> &'static KeyCache {
    static CACHE: OnceLock<KeyCache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Why a key file was not used.
enum LoadError {
    Encrypted,
    Other(String),
}

/// Loads (or gets from the cache) a private key; blocking work runs off the async threads.
async fn load_key(path: &Path, passphrase: Option<&str>) -> Result<Arc<PrivateKey>, LoadError> {
    let mtime = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    if let Some((t, key)) = key_cache()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(path)
    {
        if *t == mtime {
            return Ok(Arc::clone(key));
        }
    }
    let (p, pass) = (path.to_path_buf(), passphrase.map(str::to_string));
    let loaded =
        tokio::task::spawn_blocking(move || russh::keys::load_secret_key(&p, pass.as_deref()))
            .await
            .map_err(|e| LoadError::Other(e.to_string()))?;
    match loaded {
        Ok(key) => {
            let key = Arc::new(key);
            key_cache()
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(path.to_path_buf(), (mtime, Arc::clone(&key)));
            Ok(key)
        }
        Err(russh::keys::Error::KeyIsEncrypted) => Err(LoadError::Encrypted),
        Err(e) if passphrase.is_some() => Err(LoadError::Other(format!("{e} (wrong passphrase?)"))),
        Err(e) => Err(LoadError::Other(e.to_string())),
    }
}

/// Authenticates `user` on an open session, trying the configured keys in
/// order; `then`: a channel to open behind the last key file's request (a
/// refused key is refused as usual, and then no channel is returned).
pub(crate) async fn authenticate<H: russh::client::Handler>(
    handle: &mut Handle<H>,
    user: &str,
    target: &str,
    cfg: &AuthConfig,
    then: Option<russh::client::OpenAfterAuth>,
) -> Result<Option<Result<russh::Channel<russh::client::Msg>, russh::Error>>, ConnectError> {
    let protocol = |e: russh::Error| ConnectError::Protocol {
        target: target.to_string(),
        message: e.to_string(),
    };
    let mut tried: Vec<String> = Vec::new();
    let mut encrypted: Option<PathBuf> = None;
    let mut unreadable: Option<(PathBuf, String)> = None;
    let mut prompt_failed: Option<(PathBuf, String)> = None;
    let mut rsa_hash: Option<Option<HashAlg>> = None;

    let explicit = !cfg.identities.is_empty();
    let use_agent = cfg.agent.unwrap_or(!explicit) && std::env::var_os("SSH_AUTH_SOCK").is_some();
    if use_agent && std::env::var_os("SSH_AUTH_SOCK").is_some_and(|s| s.is_empty()) {
        // as OpenSSH: an empty value means no agent, but say so
        tried.push("no ssh-agent (SSH_AUTH_SOCK is set to '': no agent there)".into());
    } else if use_agent {
        match try_agent(handle, user, &mut tried).await {
            Ok(true) => return Ok(None),
            Ok(false) => {}
            Err(e) => return Err(protocol(e)),
        }
    }

    let files: Vec<(PathBuf, Option<String>)> = if explicit {
        cfg.identities.clone()
    } else {
        default_identity_files()
            .into_iter()
            .filter(|p| p.exists())
            .map(|p| (p, None))
            .collect()
    };
    let last = files.len().saturating_sub(1);
    for (i, (path, own_pass)) in files.into_iter().enumerate() {
        let pass = own_pass.as_deref().or(cfg.passphrase.as_deref());
        let key = match load_key(&path, pass).await {
            Ok(k) => k,
            Err(LoadError::Encrypted) if cfg.prompt.is_some() => {
                let prompt = cfg.prompt.as_ref().expect("checked");
                match ask(prompt, &path).await {
                    Ok(k) => k,
                    Err(m) => {
                        tried.push(format!("key {} skipped ({m})", path.display()));
                        prompt_failed.get_or_insert((path, m));
                        continue;
                    }
                }
            }
            Err(LoadError::Encrypted) => {
                tried.push(format!(
                    "key {} skipped (encrypted, no passphrase)",
                    path.display()
                ));
                encrypted.get_or_insert(path);
                continue;
            }
            Err(LoadError::Other(m)) => {
                tried.push(format!("key {} unreadable ({m})", path.display()));
                unreadable.get_or_insert((path, m));
                continue;
            }
        };
        let hash = if key.algorithm().is_rsa() {
            match rsa_hash {
                Some(h) => h,
                None => {
                    let h = handle
                        .best_supported_rsa_hash()
                        .await
                        .map_err(protocol)?
                        .flatten();
                    rsa_hash = Some(h);
                    h
                }
            }
        } else {
            None
        };
        tried.push(format!("key {}", path.display()));
        let key = PrivateKeyWithHashAlg::new(key, hash);
        let (res, early) = match then.clone().filter(|_| i == last) {
            Some(open) => handle
                .authenticate_publickey_then_open(user, key, open)
                .await
                .map_err(protocol)?,
            None => (
                handle
                    .authenticate_publickey(user, key)
                    .await
                    .map_err(protocol)?,
                None,
            ),
        };
        match res {
            russh::client::AuthResult::Success => return Ok(early),
            russh::client::AuthResult::Failure {
                remaining_methods, ..
            } => {
                if !allows_publickey(&remaining_methods) {
                    break;
                }
            }
        }
    }
    if let Some((path, message)) = prompt_failed {
        return Err(ConnectError::KeyUnreadable { path, message });
    }
    if let Some(path) = encrypted {
        return Err(ConnectError::KeyEncrypted { path });
    }
    if let (true, Some((path, message))) = (explicit, unreadable) {
        return Err(ConnectError::KeyUnreadable { path, message });
    }
    Err(ConnectError::AuthRefused {
        target: target.to_string(),
        user: user.to_string(),
        tried,
    })
}

/// What is wrong with `SSH_AUTH_SOCK` when the agent cannot be reached.
fn agent_unusable(sock: &Path, e: &russh::keys::Error) -> String {
    let why = match std::fs::metadata(sock) {
        Err(m) if m.kind() == std::io::ErrorKind::NotFound => "no such file".to_string(),
        Ok(m) if !std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()) => {
            "not a socket".to_string()
        }
        _ => match e {
            russh::keys::Error::IO(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
                "connection refused: the agent is gone, the socket is stale".to_string()
            }
            russh::keys::Error::IO(io) => io.to_string(),
            other => other.to_string(),
        },
    };
    format!(
        "no ssh-agent (SSH_AUTH_SOCK points to {}: no agent there ({why}))",
        crate::escape::escape_control(&sock.display().to_string())
    )
}

type Declined = HashMap<(usize, PathBuf), String>;

/// Prompts are serialised process-wide; refusals are remembered per prompt and key.
fn prompts() -> &'static tokio::sync::Mutex<Declined> {
    static PROMPTS: OnceLock<tokio::sync::Mutex<Declined>> = OnceLock::new();
    PROMPTS.get_or_init(Default::default)
}

/// Asks for `path`'s passphrase (once for all hosts) and decrypts the key.
async fn ask(prompt: &Arc<dyn PassphrasePrompt>, path: &Path) -> Result<Arc<PrivateKey>, String> {
    let _paused = PromptPause::start();
    let mut declined = prompts().lock().await;
    // another host may have been given the passphrase while we waited
    if let Ok(k) = load_key(path, None).await {
        return Ok(k);
    }
    let id = (
        Arc::as_ptr(prompt) as *const () as usize,
        path.to_path_buf(),
    );
    if let Some(reason) = declined.get(&id) {
        return Err(reason.clone());
    }
    const ATTEMPTS: usize = 3;
    for attempt in 0..ATTEMPTS {
        let (p, file) = (Arc::clone(prompt), path.to_path_buf());
        let answer = tokio::task::spawn_blocking(move || p.passphrase(&file, attempt > 0))
            .await
            .unwrap_or_else(|e| Err(format!("the passphrase prompt failed: {e}")));
        let pass = match answer {
            Ok(pass) => pass,
            Err(reason) => {
                declined.insert(id, reason.clone());
                return Err(reason);
            }
        };
        match load_key(path, Some(&pass)).await {
            Ok(k) => return Ok(k),
            Err(LoadError::Encrypted) | Err(LoadError::Other(_)) => continue,
        }
    }
    let reason = format!("wrong passphrase ({ATTEMPTS} attempts)");
    declined.insert(id, reason.clone());
    Err(reason)
}

/// Time spent waiting for passphrase prompts, in the whole process.
struct PromptClock {
    active: usize,
    since: Instant,
    total: Duration,
}

fn prompt_clock() -> &'static Mutex<PromptClock> {
    static CLOCK: OnceLock<Mutex<PromptClock>> = OnceLock::new();
    CLOCK.get_or_init(|| {
        Mutex::new(PromptClock {
            active: 0,
            since: Instant::now(),
            total: Duration::ZERO,
        })
    })
}

/// Counts the time until dropped as prompt time.
struct PromptPause;

impl PromptPause {
    fn start() -> PromptPause {
        let mut c = prompt_clock().lock().unwrap_or_else(|e| e.into_inner());
        if c.active == 0 {
            c.since = Instant::now();
        }
        c.active += 1;
        PromptPause
    }
}

impl Drop for PromptPause {
    fn drop(&mut self) {
        let mut c = prompt_clock().lock().unwrap_or_else(|e| e.into_inner());
        c.active = c.active.saturating_sub(1);
        if c.active == 0 {
            c.total = c.total.saturating_add(c.since.elapsed());
        }
    }
}

/// Time spent in passphrase prompts so far in this process, and whether one
/// is waiting now: connect timeouts leave that time out (a human is typing).
pub(crate) fn prompt_time() -> (Duration, bool) {
    let c = prompt_clock().lock().unwrap_or_else(|e| e.into_inner());
    if c.active > 0 {
        (c.total.saturating_add(c.since.elapsed()), true)
    } else {
        (c.total, false)
    }
}

fn allows_publickey(methods: &MethodSet) -> bool {
    methods.is_empty() || methods.iter().any(|m| matches!(m, MethodKind::PublicKey))
}

/// Tries every key the agent holds; `Ok(false)` when none was accepted or the agent is unusable.
async fn try_agent<H: russh::client::Handler>(
    handle: &mut Handle<H>,
    user: &str,
    tried: &mut Vec<String>,
) -> Result<bool, russh::Error> {
    let sock = std::env::var_os("SSH_AUTH_SOCK").unwrap_or_default();
    let mut agent = match russh::keys::agent::client::AgentClient::connect_uds(&sock).await {
        Ok(a) => a,
        Err(e) => {
            tried.push(agent_unusable(Path::new(&sock), &e));
            return Ok(false);
        }
    };
    let ids = match agent.request_identities().await {
        Ok(ids) => ids,
        Err(e) => {
            tried.push(format!("ssh-agent unusable ({e})"));
            return Ok(false);
        }
    };
    if ids.is_empty() {
        tried.push("ssh-agent (no keys)".into());
    }
    let mut rsa_hash: Option<Option<HashAlg>> = None;
    for id in ids {
        let key = id.public_key().into_owned();
        let hash = if key.algorithm().is_rsa() {
            match rsa_hash {
                Some(h) => h,
                None => {
                    let h = handle.best_supported_rsa_hash().await?.flatten();
                    rsa_hash = Some(h);
                    h
                }
            }
        } else {
            None
        };
        tried.push(format!(
            "agent key {} {}",
            key.algorithm(),
            key.fingerprint(HashAlg::Sha256)
        ));
        match handle
            .authenticate_publickey_with(user, key, hash, &mut agent)
            .await
        {
            Ok(russh::client::AuthResult::Success) => return Ok(true),
            Ok(russh::client::AuthResult::Failure {
                remaining_methods, ..
            }) => {
                if !allows_publickey(&remaining_methods) {
                    return Ok(false);
                }
            }
            Err(e) => tried.push(format!("agent could not sign ({e})")),
        }
    }
    Ok(false)
}
