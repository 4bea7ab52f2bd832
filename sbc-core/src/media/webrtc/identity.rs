//! The gateway's DTLS identity: one self-signed certificate and its key,
//! made once and shared by every [`super::WebRtcLeg`] built from the same
//! [`super::WebRtcConfig`], with the crypto provider that goes with it.
//!
//! Without it str0m generates a fresh ECDSA P-256 key and certificate inside
//! every `Rtc` it builds: a key generation and a signature per call, for a
//! certificate the browser only ever checks against the fingerprint in our
//! SDP answer (RFC 8122 §5; RFC 8827 §6.5). Why one per process is safe is
//! in `docs/decisions.md` ("One DTLS certificate per process").

use std::sync::Arc;

use str0m::config::{CryptoProvider, DtlsCert};

/// A DTLS certificate and private key (DER) and the crypto provider that
/// made them. Cloning shares both.
#[derive(Clone)]
pub(crate) struct DtlsIdentity {
    crypto: Arc<CryptoProvider>,
    cert: Arc<DtlsCert>,
}

impl DtlsIdentity {
    /// Generates a key pair and a self-signed certificate with the crypto
    /// backend str0m is built with (aws-lc-rs).
    ///
    /// The certificate's validity period starts at the wall clock's present
    /// (a read inside the backend, once per identity) and lasts a year;
    /// browsers check only its fingerprint, not its dates.
    pub(crate) fn generate() -> Self {
        let crypto = Arc::new(str0m::crypto::from_feature_flags());
        let cert = crypto
            .dtls_provider
            .generate_certificate()
            .expect("the aws-lc-rs backend generates DTLS certificates");
        Self {
            crypto,
            cert: Arc::new(cert),
        }
    }

    /// The crypto provider every leg, and its consent check, uses.
    pub(crate) fn crypto(&self) -> &Arc<CryptoProvider> {
        &self.crypto
    }

    /// The certificate and key, for str0m's `RtcConfig::set_dtls_cert`
    /// (which takes them by value: each leg's DTLS instance keeps a copy of
    /// the DER bytes, about 0.5 KB).
    pub(crate) fn cert(&self) -> DtlsCert {
        DtlsCert::clone(&self.cert)
    }
}

impl std::fmt::Debug for DtlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key; the certificate's size is all a log needs.
        f.debug_struct("DtlsIdentity")
            .field("certificate_len", &self.cert.certificate.len())
            .finish_non_exhaustive()
    }
}
