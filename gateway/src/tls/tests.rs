//! Tests of the TLS material: generation, loading, and real handshakes in memory.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use rustls::pki_types::ServerName;
use rustls::{ClientConnection, Connection, ServerConnection};

use super::*;

/// A fresh directory under the system temp dir, removed on drop. (Not the
/// `tempfile` crate: this is all the tests need.)
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("sbc-gateway-tls-{name}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        TempDir(dir)
    }

    fn join(&self, path: &str) -> PathBuf {
        self.0.join(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn public_ip() -> IpAddr {
    "192.0.2.7".parse().expect("literal IP")
}

/// Runs a TLS handshake between the two configurations over in-memory buffers.
fn handshake(server: ServerConfig, client: ClientConfig, name: &str) -> Result<(), rustls::Error> {
    let name = ServerName::try_from(name.to_owned()).expect("a valid server name");
    let mut client = Connection::from(ClientConnection::new(Arc::new(client), name)?);
    let mut server = Connection::from(ServerConnection::new(Arc::new(server))?);
    for _ in 0..10 {
        pump(&mut client, &mut server)?;
        pump(&mut server, &mut client)?;
        if !client.is_handshaking() && !server.is_handshaking() {
            return Ok(());
        }
    }
    panic!("handshake did not finish in 10 flights");
}

fn pump(from: &mut Connection, to: &mut Connection) -> Result<(), rustls::Error> {
    let mut wire = Vec::new();
    while from.wants_write() {
        from.write_tls(&mut wire)
            .expect("writing to a Vec cannot fail");
    }
    let mut wire = &wire[..];
    while !wire.is_empty() {
        to.read_tls(&mut wire)
            .expect("reading from a slice cannot fail");
        to.process_new_packets()?;
    }
    Ok(())
}

#[test]
fn generates_a_pair_when_both_files_are_missing_and_keeps_it() {
    let dir = TempDir::new("generate");
    let (cert, key) = (
        dir.join("certs/dev/gateway.pem"),
        dir.join("certs/dev/key.pem"),
    );
    let status = ensure_cert_pair(&cert, &key, public_ip()).expect("generation");
    assert_eq!(status, CertStatus::Generated);
    let pem = fs::read(&cert).expect("cert written");
    assert!(pem.starts_with(b"-----BEGIN CERTIFICATE-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&key)
            .expect("key written")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let status = ensure_cert_pair(&cert, &key, public_ip()).expect("second start");
    assert_eq!(status, CertStatus::Existing);
    assert_eq!(fs::read(&cert).expect("cert kept"), pem, "not regenerated");
}

#[test]
fn generated_certificate_serves_every_dev_name() {
    let dir = TempDir::new("handshake");
    let (cert, key) = (dir.join("gateway.pem"), dir.join("gateway-key.pem"));
    let server = server_config_or_generate(&cert, &key, public_ip()).expect("server config");
    let client = client_config(&cert).expect("client config trusting the cert");
    for name in ["localhost", "127.0.0.1", "::1", "192.0.2.7"] {
        handshake(server.clone(), client.clone(), name).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let err = handshake(server, client, "pbx.example.com").expect_err("name not in the cert");
    assert!(matches!(err, rustls::Error::InvalidCertificate(_)), "{err}");
}

#[test]
fn a_client_trusting_another_ca_rejects_the_server() {
    let dir = TempDir::new("untrusted");
    let server = server_config_or_generate(&dir.join("a.pem"), &dir.join("a-key.pem"), public_ip())
        .expect("server a");
    ensure_cert_pair(&dir.join("b.pem"), &dir.join("b-key.pem"), public_ip()).expect("pair b");
    let client = client_config(&dir.join("b.pem")).expect("client trusting b");
    let err = handshake(server, client, "localhost").expect_err("a is not trusted");
    assert!(matches!(err, rustls::Error::InvalidCertificate(_)), "{err}");
}

#[test]
fn exactly_one_missing_file_is_an_error_naming_it() {
    let dir = TempDir::new("one-missing");
    let (cert, key) = (dir.join("gateway.pem"), dir.join("gateway-key.pem"));
    ensure_cert_pair(&cert, &key, public_ip()).expect("generation");

    fs::remove_file(&key).expect("remove key");
    let err = ensure_cert_pair(&cert, &key, public_ip()).expect_err("key missing");
    assert!(
        matches!(&err, TlsError::OneFileMissing { missing, .. } if *missing == key),
        "{err}"
    );
    assert!(err.to_string().contains("gateway-key.pem"), "{err}");

    fs::remove_file(&cert).expect("remove cert");
    fs::write(&key, "key").expect("write key");
    let err = ensure_cert_pair(&cert, &key, public_ip()).expect_err("cert missing");
    assert!(
        matches!(&err, TlsError::OneFileMissing { missing, .. } if *missing == cert),
        "{err}"
    );
}

#[test]
fn files_without_pem_content_are_reported() {
    let dir = TempDir::new("garbage");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    fs::create_dir_all(&dir.0).expect("dir");
    fs::write(&cert, "not a certificate\n").expect("write");
    fs::write(&key, "not a key\n").expect("write");
    assert!(matches!(
        server_config(&cert, &key),
        Err(TlsError::NoCertificate { path }) if path == cert
    ));
    assert!(matches!(
        load_private_key(&key),
        Err(TlsError::NoPrivateKey { path }) if path == key
    ));
    assert!(matches!(
        load_certs(&dir.join("absent.pem")),
        Err(TlsError::Read { .. })
    ));
}

#[test]
fn mismatched_cert_and_key_are_refused() {
    let dir = TempDir::new("mismatch");
    ensure_cert_pair(&dir.join("a.pem"), &dir.join("a-key.pem"), public_ip()).expect("pair a");
    ensure_cert_pair(&dir.join("b.pem"), &dir.join("b-key.pem"), public_ip()).expect("pair b");
    let err = server_config(&dir.join("a.pem"), &dir.join("b-key.pem")).expect_err("mismatch");
    assert!(matches!(err, TlsError::Identity { .. }), "{err}");
}

#[test]
fn dev_names_do_not_repeat_loopback() {
    let names = dev_cert_names("127.0.0.1".parse().expect("literal IP"));
    assert_eq!(names, ["localhost", "127.0.0.1", "::1"]);
    assert_eq!(dev_cert_names(public_ip()).len(), 4);
}
