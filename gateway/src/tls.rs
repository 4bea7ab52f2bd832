//! TLS material: `rustls` server configurations for the HTTPS and SIP-over-TLS
//! listeners from PEM files, a client configuration trusting a given CA file,
//! and the self-signed development pair generated when no certificate exists.
//!
//! The crypto provider is always ring, passed explicitly
//! ([`crypto_provider`]); nothing here installs a process default, so there is
//! never a second provider to clash with.

use std::fs;
use std::io::{self, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};

/// Why TLS material could not be loaded or made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A PEM file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A certificate file holds no PEM certificate.
    #[error("{path} contains no PEM certificate")]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// A key file holds no PEM private key.
    #[error("{path} contains no PEM private key (PKCS#8, PKCS#1 or SEC1)")]
    NoPrivateKey {
        /// The file.
        path: PathBuf,
    },
    /// One of the certificate and key files exists, the other does not.
    #[error(
        "{missing} is missing but {present} exists: supply both files, \
         or remove {present} too to have a self-signed pair generated"
    )]
    OneFileMissing {
        /// The file that does not exist.
        missing: PathBuf,
        /// The file that does.
        present: PathBuf,
    },
    /// rcgen could not make the self-signed pair.
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(#[source] rcgen::Error),
    /// A generated file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// rustls refused the certificate and key (for instance, they do not match).
    #[error("{cert} with key {key} is not a usable TLS identity: {source}")]
    Identity {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// rustls' reason.
        #[source]
        source: rustls::Error,
    },
    /// A CA file holds a certificate rustls cannot use as a trust anchor.
    #[error("{path} holds a certificate that cannot be trusted as a CA: {source}")]
    TrustAnchor {
        /// The CA file.
        path: PathBuf,
        /// rustls' reason.
        #[source]
        source: rustls::Error,
    },
}

/// Whether [`ensure_cert_pair`] found the files or made them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertStatus {
    /// Both files were there and were left alone.
    Existing,
    /// Neither was there; a self-signed pair was written.
    Generated,
}

/// The one crypto provider of the process: ring.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Names a generated certificate is valid for: `localhost`, `127.0.0.1`, `::1`
/// and `public_ip`.
pub fn dev_cert_names(public_ip: IpAddr) -> Vec<String> {
    let mut names = vec![
        "localhost".to_owned(),
        Ipv4Addr::LOCALHOST.to_string(),
        Ipv6Addr::LOCALHOST.to_string(),
    ];
    let public = public_ip.to_string();
    if !names.contains(&public) {
        names.push(public);
    }
    names
}

/// Makes sure `cert` and `key` exist: when both are missing, writes a
/// self-signed pair for [`dev_cert_names`] there (creating the directory; the
/// key gets mode 0600) and logs how to replace it; when only one is missing,
/// that is an error naming it.
pub fn ensure_cert_pair(
    cert: &Path,
    key: &Path,
    public_ip: IpAddr,
) -> Result<CertStatus, TlsError> {
    match (exists(cert)?, exists(key)?) {
        (true, true) => {
            warn_if_key_readable_by_others(key);
            Ok(CertStatus::Existing)
        }
        (false, false) => {
            generate(cert, key, public_ip)?;
            Ok(CertStatus::Generated)
        }
        (false, true) => Err(TlsError::OneFileMissing {
            missing: cert.to_owned(),
            present: key.to_owned(),
        }),
        (true, false) => Err(TlsError::OneFileMissing {
            missing: key.to_owned(),
            present: cert.to_owned(),
        }),
    }
}

/// The certificates of a PEM file, leaf first.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let mut reader = open(path)?;
    let certs = rustls_pemfile::certs(&mut reader)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| read_error(path, source))?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

/// The first private key of a PEM file.
pub fn load_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let mut reader = open(path)?;
    rustls_pemfile::private_key(&mut reader)
        .map_err(|source| read_error(path, source))?
        .ok_or_else(|| TlsError::NoPrivateKey {
            path: path.to_owned(),
        })
}

/// A server configuration (no client authentication) from PEM files. Not yet
/// in an `Arc`, so the caller can still set ALPN protocols.
pub fn server_config(cert: &Path, key: &Path) -> Result<ServerConfig, TlsError> {
    let chain = load_certs(cert)?;
    let private_key = load_private_key(key)?;
    ServerConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports TLS 1.2 and 1.3")
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .map_err(|source| TlsError::Identity {
            cert: cert.to_owned(),
            key: key.to_owned(),
            source,
        })
}

/// [`ensure_cert_pair`], then [`server_config`]: what a listener calls at start.
pub fn server_config_or_generate(
    cert: &Path,
    key: &Path,
    public_ip: IpAddr,
) -> Result<ServerConfig, TlsError> {
    ensure_cert_pair(cert, key, public_ip)?;
    server_config(cert, key)
}

/// A client configuration trusting exactly the certificates of the PEM file
/// `ca_file` (a CA, or a peer's self-signed certificate).
pub fn client_config(ca_file: &Path) -> Result<ClientConfig, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in load_certs(ca_file)? {
        roots.add(cert).map_err(|source| TlsError::TrustAnchor {
            path: ca_file.to_owned(),
            source,
        })?;
    }
    Ok(ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth())
}

fn generate(cert: &Path, key: &Path, public_ip: IpAddr) -> Result<(), TlsError> {
    let names = dev_cert_names(public_ip);
    let mut params = rcgen::CertificateParams::new(names.clone()).map_err(TlsError::Generate)?;
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        "sbc-gateway self-signed development certificate",
    );
    let key_pair = rcgen::KeyPair::generate().map_err(TlsError::Generate)?;
    let certificate = params.self_signed(&key_pair).map_err(TlsError::Generate)?;

    write_new(key, key_pair.serialize_pem().as_bytes(), 0o600)?;
    if let Err(err) = write_new(cert, certificate.pem().as_bytes(), 0o644) {
        // Leave neither file rather than one, which the next start would refuse.
        let _ = fs::remove_file(key);
        return Err(err);
    }
    tracing::info!(
        cert = %cert.display(),
        key = %key.display(),
        names = %names.join(", "),
        "generated a self-signed TLS certificate; browsers will warn about it. To use a real \
         certificate, put its PEM chain (leaf first, e.g. Let's Encrypt's fullchain.pem) at the \
         cert path and its PEM private key (privkey.pem) at the key path, or point http.cert/\
         http.key (and sip.tls_cert/sip.tls_key) at them, then restart"
    );
    Ok(())
}

/// Writes a file that must not exist yet, creating its directory.
fn write_new(path: &Path, contents: &[u8], mode: u32) -> Result<(), TlsError> {
    let write_error = |source| TlsError::Write {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(write_error)?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(write_error)?;
    file.write_all(contents).map_err(write_error)?;
    file.sync_all().map_err(write_error)
}

fn warn_if_key_readable_by_others(key: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = fs::metadata(key) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(
                    key = %key.display(),
                    mode = format_args!("{mode:o}"),
                    "private key file is readable by other users; chmod 600 it"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = key;
}

fn exists(path: &Path) -> Result<bool, TlsError> {
    path.try_exists().map_err(|source| read_error(path, source))
}

fn open(path: &Path) -> Result<BufReader<fs::File>, TlsError> {
    fs::File::open(path)
        .map(BufReader::new)
        .map_err(|source| read_error(path, source))
}

fn read_error(path: &Path, source: io::Error) -> TlsError {
    TlsError::Read {
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests;
