//! The SSH side of the hostile server (russh's server API): accepts any
//! public key, serves the hostile SFTP subsystem, and answers every command
//! with the configured lie (output bytes, then an exit status, a bogus exit
//! signal, or nothing at all).

use std::collections::HashMap;
use std::sync::Arc;

use russh::keys::ssh_key;
use russh::server::{Auth, ChannelOpenHandle, Msg, Session};
use russh::{Channel, ChannelId, Sig};

use super::sftp::{HostileSftp, Shared};
use super::{ExecEnd, ExecLie};

/// Per-connection handler.
pub(crate) struct HostileSsh {
    pub(crate) shared: Arc<Shared>,
    pub(crate) exec: Arc<ExecLie>,
    pub(crate) banner: Option<String>,
    pub(crate) channels: HashMap<ChannelId, Channel<Msg>>,
}

impl russh::server::Handler for HostileSsh {
    type Error = russh::Error;

    async fn auth_publickey(
        &mut self,
        _user: &str,
        _key: russh::server::VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        Ok(Auth::Accept)
    }

    async fn auth_password(&mut self, _user: &str, _password: &str) -> Result<Auth, Self::Error> {
        Ok(Auth::Accept)
    }

    async fn authentication_banner(&mut self) -> Result<Option<String>, Self::Error> {
        Ok(self.banner.clone())
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.channels.insert(channel.id(), channel);
        reply.accept().await;
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        match (name, self.channels.remove(&channel)) {
            ("sftp", Some(ch)) => {
                session.channel_success(channel)?;
                russh_sftp::server::run(ch.into_stream(), HostileSftp::new(self.shared.clone()))
                    .await;
            }
            _ => session.channel_failure(channel)?,
        }
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        let handle = session.handle();
        let lie = Arc::clone(&self.exec);
        // answer from a task: the session loop must keep running to send it
        tokio::spawn(async move {
            for chunk in lie.stdout.chunks(16 * 1024) {
                if handle.data(channel, chunk.to_vec()).await.is_err() {
                    return;
                }
            }
            for chunk in lie.stderr.chunks(16 * 1024) {
                if handle
                    .extended_data(channel, 1, chunk.to_vec())
                    .await
                    .is_err()
                {
                    return;
                }
            }
            match &lie.end {
                ExecEnd::Status(code) => {
                    let _ = handle.exit_status_request(channel, *code).await;
                }
                ExecEnd::Signal { name, message } => {
                    let _ = handle
                        .exit_signal_request(
                            channel,
                            Sig::Custom(name.clone()),
                            false,
                            message.clone(),
                            "en".into(),
                        )
                        .await;
                }
                ExecEnd::Hang => return,
            }
            let _ = handle.eof(channel).await;
            let _ = handle.close(channel).await;
        });
        Ok(())
    }
}

/// Makes a handler per connection.
pub(crate) struct Factory {
    pub(crate) shared: Arc<Shared>,
    pub(crate) exec: Arc<ExecLie>,
    pub(crate) banner: Option<String>,
}

impl russh::server::Server for Factory {
    type Handler = HostileSsh;

    fn new_client(&mut self, _peer: Option<std::net::SocketAddr>) -> HostileSsh {
        HostileSsh {
            shared: Arc::clone(&self.shared),
            exec: Arc::clone(&self.exec),
            banner: self.banner.clone(),
            channels: HashMap::new(),
        }
    }
}

/// Loads the host key written by `ssh-keygen`.
pub(crate) fn load_key(path: &std::path::Path) -> Result<ssh_key::PrivateKey, String> {
    russh::keys::load_secret_key(path, None).map_err(|e| e.to_string())
}
