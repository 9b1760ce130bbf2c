//! TLS for the listeners (`--tls-cert`, `--tls-key`): a certificate chain and its private key
//! read from PEM files at start, served with rustls (ring provider, TLS 1.2 and 1.3), offering
//! HTTP/2 and HTTP/1.1 by ALPN. The gRPC listener uses the same pair through tonic. The files
//! are read once: a new certificate needs a restart.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The PEM files of a listener's certificate chain and private key.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// The certificate chain, leaf first (PEM).
    pub cert: PathBuf,
    /// The private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("TLS: {0}")]
pub struct TlsError(String);

impl TlsFiles {
    /// The acceptor for the HTTP listeners.
    pub(crate) fn acceptor(&self) -> Result<TlsAcceptor, TlsError> {
        let certs = self.certs()?;
        let key = PrivateKeyDer::from_pem_file(&self.key)
            .map_err(|e| TlsError(format!("no private key in {}: {e}", self.key.display())))?;
        // rustls deprecates its ring provider for lacking post-quantum key exchange; aws-lc-rs
        // has it but brings a large C build. Classical key exchange is what gateways speak today.
        #[allow(deprecated)]
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| {
                TlsError(format!(
                    "{} and {} do not make a certificate and its key: {e}",
                    self.cert.display(),
                    self.key.display()
                ))
            })?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }

    /// The pair for tonic (the gRPC listener).
    pub(crate) fn grpc_identity(&self) -> Result<tonic::transport::Identity, TlsError> {
        Ok(tonic::transport::Identity::from_pem(
            read(&self.cert)?,
            read(&self.key)?,
        ))
    }

    fn certs(&self) -> Result<Vec<CertificateDer<'static>>, TlsError> {
        let certs = CertificateDer::pem_file_iter(&self.cert)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| TlsError(format!("reading {}: {e}", self.cert.display())))?;
        if certs.is_empty() {
            return Err(TlsError(format!(
                "no certificate in {}",
                self.cert.display()
            )));
        }
        Ok(certs)
    }
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| TlsError(format!("cannot read {}: {e}", path.display())))
}
