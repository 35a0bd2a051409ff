//! HTTPS on the listener (`--tls-cert`/`--tls-key`, as `spin up`): rustls,
//! HTTP/2 or HTTP/1.1 by ALPN, and the certificate reloaded without a
//! restart when its files change (cert-manager rewrites them in place) or
//! on SIGHUP. A pair that does not load (half written, key and certificate
//! not matching) leaves the one being served in place, with a warning.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use anyhow::{Context as _, bail};
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// How often the files are looked at for a change.
const RELOAD_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// The protocols offered by ALPN, preferred first.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// The certificate and key files, as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// What a TLS connection is accepted with.
#[derive(Clone)]
pub struct Tls {
    pub(crate) acceptor: tokio_rustls::TlsAcceptor,
    certificate: Arc<ReloadingCertificate>,
}

impl Tls {
    /// Loads the certificate now: a pair that does not load stops start-up.
    pub fn new(files: TlsFiles) -> anyhow::Result<Self> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let certificate = Arc::new(ReloadingCertificate::load(files, provider.clone())?);
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(certificate.clone());
        config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
        Ok(Tls {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            certificate,
        })
    }

    /// Reloads the certificate whenever its files change, and on SIGHUP,
    /// until the task is dropped.
    pub fn watch(&self) -> anyhow::Result<tokio::task::JoinHandle<()>> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangup = signal(SignalKind::hangup()).context("cannot handle SIGHUP")?;
        let certificate = self.certificate.clone();
        Ok(tokio::spawn(async move {
            let mut tick = tokio::time::interval(RELOAD_CHECK_INTERVAL);
            loop {
                let forced = tokio::select! {
                    _ = tick.tick() => false,
                    _ = hangup.recv() => true,
                };
                let certificate = certificate.clone();
                // Reading files blocks: off the request threads.
                let _ = tokio::task::spawn_blocking(move || certificate.reload(forced)).await;
            }
        }))
    }
}

/// The certificate being served, replaced when its files change.
#[derive(Debug)]
struct ReloadingCertificate {
    files: TlsFiles,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
    /// What the files looked like when `current` was loaded from them.
    loaded_from: Mutex<Option<Stamp>>,
}

/// Enough of two files' metadata to tell that either was replaced.
type Stamp = [(u64, u64, u64, Option<SystemTime>); 2];

impl ReloadingCertificate {
    fn load(files: TlsFiles, provider: Arc<CryptoProvider>) -> anyhow::Result<Self> {
        let stamp = stamp(&files);
        let key = certified_key(&files, &provider)?;
        Ok(ReloadingCertificate {
            current: RwLock::new(Arc::new(key)),
            loaded_from: Mutex::new(stamp),
            files,
            provider,
        })
    }

    /// Loads the files again if they changed since the last load (or
    /// anyway, when `forced`).
    fn reload(&self, forced: bool) {
        let stamp = stamp(&self.files);
        let mut loaded_from = self.loaded_from.lock().unwrap_or_else(|e| e.into_inner());
        if !forced && *loaded_from == stamp {
            return;
        }
        match certified_key(&self.files, &self.provider) {
            Ok(key) => {
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(key);
                *loaded_from = stamp;
                tracing::info!(cert = %self.files.cert.display(), "TLS certificate reloaded");
            }
            Err(error) => {
                // Tried again at the files' next change (a pair written in
                // two steps loads at the second) or SIGHUP; never served
                // half-loaded.
                if *loaded_from != stamp || forced {
                    tracing::warn!(error = %format!("{error:#}"), "TLS certificate not reloaded: still serving the previous one");
                }
                *loaded_from = stamp;
            }
        }
    }
}

impl ResolvesServerCert for ReloadingCertificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        )
    }
}

fn stamp(files: &TlsFiles) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt;
    let one = |path: &Path| {
        std::fs::metadata(path)
            .ok()
            .map(|m| (m.dev(), m.ino(), m.len(), m.modified().ok()))
    };
    Some([one(&files.cert)?, one(&files.key)?])
}

/// The chain and key of `files`, checked to belong together.
fn certified_key(files: &TlsFiles, provider: &CryptoProvider) -> anyhow::Result<CertifiedKey> {
    let cert = files.cert.display();
    let chain = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certificates| certificates.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("TLS_CERT {cert}: cannot read a PEM certificate chain"))?;
    if chain.is_empty() {
        bail!("TLS_CERT {cert}: no certificate in it (a PEM chain, the server's first)");
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).with_context(|| {
        format!(
            "TLS_KEY {}: cannot read a PEM private key (PKCS#8, PKCS#1 or SEC1)",
            files.key.display()
        )
    })?;
    CertifiedKey::from_der(chain, key, provider).map_err(|e| {
        anyhow::anyhow!(
            "TLS_KEY {} does not go with TLS_CERT {cert}: {e}",
            files.key.display()
        )
    })
}

/// Whether the first bytes a client sent begin a TLS handshake (a
/// handshake record: type 22); anything else is plain HTTP or noise.
pub(crate) fn is_tls_hello(first: u8) -> bool {
    first == 0x16
}

/// What a plain-HTTP request to the HTTPS port gets before the connection
/// is closed: a readable refusal, not a TLS alert it cannot show.
pub(crate) fn plain_http_refusal() -> Vec<u8> {
    let body = mhmanus_contract::problem::Problem::new(400)
        .detail("this port speaks HTTPS: use an https:// URL")
        .to_json();
    let head = format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: {}\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
        mhmanus_contract::problem::MEDIA_TYPE,
        body.len()
    );
    [head.into_bytes(), body.into_bytes()].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_http_refusal_is_a_complete_answer() {
        let text = String::from_utf8(plain_http_refusal()).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let problem: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(problem["status"], 400);
    }
}
