//! rustls client configuration from docker-style PEM files (`ca.pem`, `cert.pem`, `key.pem`).

use std::{path::Path, sync::Arc};

use rustls::{
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider},
    pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer, ServerName, UnixTime},
    ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use super::{
    config::TlsConfig,
    error::{Error, Result},
};

/// Builds the rustls configuration: the CA file (or the system's roots) to verify the daemon, the client
/// certificate and key when given, and no verification at all when `verify` is off (docker's
/// `DOCKER_TLS_VERIFY` unset: encryption without authentication of the daemon).
pub fn client_config(cfg: &TlsConfig) -> Result<Arc<ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("TLS: {e}")))?;
    let builder = if cfg.verify {
        let mut roots = RootCertStore::empty();
        match &cfg.ca {
            Some(ca) => {
                for cert in read_certs(ca)? {
                    roots
                        .add(cert)
                        .map_err(|e| Error::Config(format!("TLS CA {}: {e}", ca.display())))?;
                }
            }
            None => {
                let found = rustls_native_certs::load_native_certs();
                roots.add_parsable_certificates(found.certs);
            }
        }
        builder.with_root_certificates(roots)
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
    };
    let config = match (&cfg.cert, &cfg.key) {
        (Some(cert), Some(key)) => {
            let key_der = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| Error::Config(format!("TLS client key {}: {e}", key.display())))?;
            builder
                .with_client_auth_cert(read_certs(cert)?, key_der)
                .map_err(|e| Error::Config(format!("TLS client certificate {}: {e}", cert.display())))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => {
            return Err(Error::Config(
                "TLS: a client certificate needs both cert.pem and key.pem".into(),
            ))
        }
    };
    Ok(Arc::new(config))
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| Error::Config(format!("TLS certificate file {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(Error::Config(format!(
            "TLS certificate file {} holds no certificate",
            path.display()
        )));
    }
    Ok(certs)
}

/// Accepts any server certificate (signatures are still checked): docker's TLS without verification.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
