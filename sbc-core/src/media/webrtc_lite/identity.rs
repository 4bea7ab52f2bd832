//! [`DtlsIdentity`]: the gateway's DTLS certificate, its private key and the
//! dimpl configuration, made once and shared (an `Arc`) by every
//! [`super::DtlsEndpoint`] made with it.
//!
//! One certificate per process (`WebRtcConfig` makes one; why that is safe
//! is in `docs/decisions.md`, "One DTLS certificate per process"). One
//! `dimpl::Config` per process too: building one validates the crypto
//! provider with known-answer ECDH and ECDSA computations, about 0.6 ms,
//! which str0m paid for every call.

use std::fmt;
use std::sync::Arc;

use crate::sdp::Fingerprint;

use super::error::DtlsSetupError;
use super::fingerprint;

/// The gateway's DTLS certificate and key (DER), the dimpl configuration
/// and the certificate's SHA-256 fingerprint for the SDP. Cloning shares
/// them. `Debug` shows no key.
#[derive(Clone)]
pub struct DtlsIdentity {
    inner: Arc<Inner>,
}

struct Inner {
    certificate: dimpl::DtlsCertificate,
    config: Arc<dimpl::Config>,
    fingerprint: Fingerprint,
}

impl DtlsIdentity {
    /// Generates an ECDSA P-256 key pair and a self-signed certificate
    /// (dimpl's generator, the one str0m uses: valid for a year from the
    /// wall clock's present, read once inside it; browsers check only the
    /// fingerprint). Do it once, not per call.
    pub fn generate() -> Result<Self, DtlsSetupError> {
        let cert = dimpl::certificate::generate_self_signed_certificate()
            .map_err(|_| DtlsSetupError::CertificateGeneration)?;
        Self::from_der(cert.certificate, cert.private_key)
    }

    /// An identity from a DER certificate and its DER (PKCS#8 or SEC1)
    /// private key (a certificate made elsewhere). The key is parsed here
    /// once: dimpl would panic on a bad one when an endpoint is made.
    pub fn from_der(certificate: Vec<u8>, private_key: Vec<u8>) -> Result<Self, DtlsSetupError> {
        let config = dimpl::Config::builder()
            // ICE has proved the peer's address before DTLS starts: the
            // cookie exchange would only add a round trip (str0m does the
            // same).
            .use_server_cookie(false)
            .build()
            .map_err(|_| DtlsSetupError::Config)?;
        if certificate.is_empty()
            || config
                .crypto_provider()
                .key_provider
                .load_private_key(&private_key)
                .is_err()
        {
            return Err(DtlsSetupError::BadCertificate);
        }
        let fingerprint = fingerprint::sha256_of(&certificate);
        Ok(Self {
            inner: Arc::new(Inner {
                certificate: dimpl::DtlsCertificate {
                    certificate,
                    private_key,
                },
                config: Arc::new(config),
                fingerprint,
            }),
        })
    }

    /// The SHA-256 fingerprint of the certificate, for `a=fingerprint`.
    pub fn fingerprint(&self) -> &Fingerprint {
        &self.inner.fingerprint
    }

    /// The configuration every endpoint shares.
    pub(crate) fn config(&self) -> Arc<dimpl::Config> {
        Arc::clone(&self.inner.config)
    }

    /// A copy of the certificate and key: dimpl takes them by value, so
    /// each endpoint holds its own (about 0.4 KB).
    pub(crate) fn certificate(&self) -> dimpl::DtlsCertificate {
        self.inner.certificate.clone()
    }
}

impl fmt::Debug for DtlsIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DtlsIdentity")
            .field("fingerprint", &self.inner.fingerprint.to_string())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_identities_differ_and_refuse_bad_keys() {
        let a = DtlsIdentity::generate().unwrap();
        let b = DtlsIdentity::generate().unwrap();
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert!(fingerprint::matches(
            a.fingerprint(),
            &a.certificate().certificate
        ));
        let shared = a.clone();
        assert!(Arc::ptr_eq(&shared.config(), &a.config()));
        assert!(!format!("{a:?}").contains("private"));
        let cert = a.certificate();
        assert_eq!(
            DtlsIdentity::from_der(cert.certificate.clone(), vec![1, 2, 3]).unwrap_err(),
            DtlsSetupError::BadCertificate
        );
        assert_eq!(
            DtlsIdentity::from_der(Vec::new(), cert.private_key.clone()).unwrap_err(),
            DtlsSetupError::BadCertificate
        );
        let again = DtlsIdentity::from_der(cert.certificate, cert.private_key).unwrap();
        assert_eq!(again.fingerprint(), a.fingerprint());
    }
}
